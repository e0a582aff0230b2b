"""The brute-force oracle and hypothesis strategies for the scheduler.availability property tests.

``brute_force_slots`` walks the window minute by minute and checks every rule
literally; ``scenarios`` draws short windows (including the daylight-saving
weekends) with one or two mediators, optional rooms and closed days.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from hypothesis import strategies as st

from scheduler.availability import (
    Interval,
    MediatorCalendar,
    RoomCalendar,
    Slot,
    SlotQuery,
    WorkingHours,
)
from tests.unit.availability_helpers import MIN, local

BASE_DAYS = [date(2026, 3, 27), date(2026, 3, 28), date(2026, 6, 9), date(2026, 10, 23), date(2026, 10, 24)]


def hours_cover(hours, d: date, minute_of_day: int) -> bool:
    for wh in hours:
        end = 1440 if wh.end == time(0) else wh.end.hour * 60 + wh.end.minute
        if wh.weekday == d.weekday() and wh.start.hour * 60 + wh.start.minute <= minute_of_day < end:
            return True
    return False


def overlaps(a0, a1, blocks) -> bool:
    return any(b.start < a1 and a0 < b.end for b in blocks)


def brute_force_slots(q: SlotQuery, mediators, rooms, is_working_day, tz) -> list[Slot]:
    """Every minute of the window, every rule checked literally (whole-minute inputs only)."""
    n = (q.window_end - q.window_start) // MIN
    walls = []  # (local date, local minute of day) of every minute in the window
    for k in range(n + 1):
        loc = (q.window_start + k * MIN).astimezone(tz)
        walls.append((loc.date(), loc.hour * 60 + loc.minute))
    length = q.duration // MIN
    slots = []
    for k in range(n - length + 1):
        t = q.window_start + k * MIN
        d, minute = walls[k]
        if t < q.earliest_start or minute % (q.grid // MIN) or not is_working_day(d):
            continue
        if not all(
            all(md == d and hours_cover(m.working_hours, md, mm) for md, mm in walls[k : k + length])
            and not overlaps(t, t + q.duration + m.buffer, m.busy)
            for m in mediators
        ):
            continue
        if rooms is None:
            slots.append(Slot(t, t + q.duration, None))
        else:
            free = [r.room_id for r in rooms if not overlaps(t, t + q.duration, r.busy)]
            if free:
                slots.append(Slot(t, t + q.duration, free[0]))
    return slots


@st.composite
def scenarios(draw):
    base = draw(st.sampled_from(BASE_DAYS))
    origin = local(base.year, base.month, base.day)
    window_start = origin + draw(st.integers(0, 24 * 60)) * MIN
    length = draw(st.integers(60, 600) if draw(st.integers(0, 3)) == 0 else st.integers(600, 3 * 24 * 60))
    window_end = window_start + length * MIN

    def minutes(lo, hi):
        return st.integers(lo, hi).map(lambda k: k * MIN)

    def clock(quarter: int) -> time:  # quarter hours since midnight; 96 is midnight at day's end
        return time(quarter // 4 % 24, quarter % 4 * 15)

    def working_hours():
        # 1-3 daily stretches on a set of weekdays (often all, so they meet the window),
        # in quarter hours anywhere in the day, including the 02:00-03:00 DST hour.
        stretch = st.tuples(st.integers(0, 95), st.integers(4, 64)).map(
            lambda x: (x[0], min(x[0] + x[1], 96))
        )
        days = st.one_of(st.just(frozenset(range(7))), st.sets(st.integers(0, 6), min_size=1))
        return st.tuples(st.lists(stretch, min_size=1, max_size=3), days).map(
            lambda x: tuple(WorkingHours(d, clock(a), clock(b)) for d in sorted(x[1]) for a, b in x[0])
        )

    def blocks(max_size):
        return st.lists(
            st.tuples(minutes(-600, length + 600), minutes(1, 240)).map(
                lambda x: Interval(window_start + x[0], window_start + x[0] + x[1])
            ),
            max_size=max_size,
        )

    shared_hours = draw(working_hours())  # colleagues often keep the same hours
    mediators = [
        MediatorCalendar(
            k,
            draw(st.one_of(st.just(shared_hours), working_hours())),
            draw(minutes(0, 60)),
            tuple(draw(blocks(8))),
        )
        for k in range(draw(st.integers(1, 2)))
    ]
    rooms = draw(
        st.one_of(
            st.none(),
            st.just([]),
            st.lists(blocks(6), min_size=1, max_size=3).map(
                lambda rs: [RoomCalendar(10 + i, tuple(b)) for i, b in enumerate(rs)]
            ),
        )
    )
    closed = {base + timedelta(days=k) for k in draw(st.sets(st.integers(-1, 4), max_size=2))}
    q = SlotQuery(
        window_start=window_start,
        window_end=window_end,
        duration=draw(st.one_of(st.sampled_from([15, 30, 45, 60, 90]), st.integers(5, 240))) * MIN,
        earliest_start=window_start + draw(minutes(-60, length // 2)),
        grid=draw(st.sampled_from([5, 10, 15, 20, 25, 30, 45, 60, 90])) * MIN,
    )
    return q, mediators, rooms, (lambda d: d not in closed)
