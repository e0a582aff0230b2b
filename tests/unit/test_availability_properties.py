"""Property tests for scheduler.availability.find_slots.

Every offered slot is checked against the rules directly, and the whole answer
is compared with a naive minute-by-minute oracle (``brute_force_slots`` in
availability_oracle.py) on short windows that include the daylight-saving
weekends.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.availability import Interval, MediatorCalendar, RoomCalendar, SlotQuery, find_slots
from tests.unit.availability_helpers import MIN, TZ
from tests.unit.availability_oracle import brute_force_slots, hours_cover, overlaps, scenarios


@settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_property_every_offered_slot_obeys_the_rules(scenario):
    q, mediators, rooms, working = scenario
    slots = find_slots(q, mediators, rooms, working, TZ)
    starts = [s.start for s in slots]
    assert starts == sorted(set(starts)), "chronological, no duplicates"
    for s in slots:
        assert s.end - s.start == q.duration
        assert s.start >= max(q.window_start, q.earliest_start) and s.end <= q.window_end
        loc = s.start.astimezone(TZ)
        assert (loc.hour * 60 + loc.minute) % (q.grid // MIN) == 0 and loc.second == 0
        assert working(loc.date())
        for m in mediators:
            assert not overlaps(s.start, s.end + m.buffer, m.busy)
            t = s.start
            while t < s.end:
                lt = t.astimezone(TZ)
                assert lt.date() == loc.date()
                assert hours_cover(m.working_hours, lt.date(), lt.hour * 60 + lt.minute)
                t += MIN
        if rooms is None:
            assert s.room_id is None
        else:
            room = next(r for r in rooms if r.room_id == s.room_id)
            assert not overlaps(s.start, s.end, room.busy)


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(1, 6))
def test_property_matches_brute_force_oracle_and_limit_is_a_prefix(scenario, limit):
    q, mediators, rooms, working = scenario
    expected = brute_force_slots(q, mediators, rooms, working, TZ)
    assert find_slots(q, mediators, rooms, working, TZ) == expected
    limited = SlotQuery(**{**q.__dict__, "limit": limit})
    assert find_slots(limited, mediators, rooms, working, TZ) == expected[:limit]


def _as_epoch_us(iv: Interval) -> tuple[int, int]:
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (iv.start - epoch) // timedelta(microseconds=1), (iv.end - epoch) // timedelta(microseconds=1)


@settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.data())
def test_property_busy_as_epoch_microseconds_means_the_same(scenario, data):
    """The search shell hands busy time over as epoch microseconds; any split of it between
    `busy` and `busy_us` must give exactly the slots that datetimes give."""
    q, mediators, rooms, working = scenario
    expected = find_slots(q, mediators, rooms, working, TZ)

    def split(busy):  # type: ignore[no-untyped-def]
        moved = data.draw(st.lists(st.booleans(), min_size=len(busy), max_size=len(busy)))
        keep = tuple(b for b, m in zip(busy, moved) if not m)
        return keep, tuple(_as_epoch_us(b) for b, m in zip(busy, moved) if m)

    as_us = [MediatorCalendar(m.mediator_id, m.working_hours, m.buffer, *split(m.busy)) for m in mediators]
    rooms_us = None if rooms is None else [RoomCalendar(r.room_id, *split(r.busy)) for r in rooms]
    assert find_slots(q, as_us, rooms_us, working, TZ) == expected
