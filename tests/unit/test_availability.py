"""Unit and property tests for scheduler.availability.find_slots.

Concrete cases pin down each rule; the hypothesis tests check every offered
slot against the rules directly and compare the whole answer with a naive
minute-by-minute oracle (``brute_force_slots``) on short windows that include
the daylight-saving weekends.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.availability import (
    Interval,
    MediatorCalendar,
    RoomCalendar,
    Slot,
    SlotQuery,
    WorkingHours,
    find_slots,
    working_intervals,
)

TZ = ZoneInfo("Europe/Amsterdam")
UTC = timezone.utc
MIN = timedelta(minutes=1)
WEEKDAYS_9_17 = tuple(WorkingHours(d, time(9), time(17)) for d in range(5))
EVERY_DAY_9_17 = tuple(WorkingHours(d, time(9), time(17)) for d in range(7))


def weekdays(d: date) -> bool:
    return d.weekday() < 5


def every_day(d: date) -> bool:
    return True


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """An Amsterdam wall-clock time as a UTC-aware datetime."""
    return datetime(y, mo, d, h, mi, tzinfo=TZ).astimezone(UTC)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def busy(start: datetime, end: datetime) -> Interval:
    return Interval(start, end)


def mediator(mid=1, hours=WEEKDAYS_9_17, buffer_min=0, busy_=()) -> MediatorCalendar:
    return MediatorCalendar(mid, tuple(hours), timedelta(minutes=buffer_min), tuple(busy_))


def query(start, end, minutes=60, earliest=None, grid=15, limit=None) -> SlotQuery:
    return SlotQuery(
        window_start=start,
        window_end=end,
        duration=timedelta(minutes=minutes),
        earliest_start=earliest if earliest is not None else start,
        grid=timedelta(minutes=grid),
        limit=limit,
    )


def hhmm(slots: list[Slot]) -> list[str]:
    return [s.start.astimezone(TZ).strftime("%H:%M") for s in slots]


# Tuesday 9 June 2026, summer time (UTC+2).
DAY = (2026, 6, 9)
DAY_Q = query(local(*DAY), local(2026, 6, 10))


def quarter_hours(first: str, last: str) -> list[str]:
    h, m = map(int, first.split(":"))
    out = []
    t = datetime(2000, 1, 1, h, m)
    while t.strftime("%H:%M") <= last:
        out.append(t.strftime("%H:%M"))
        t += timedelta(minutes=15)
    return out


# ---------------------------------------------------------------------------
# One mediator, one day
# ---------------------------------------------------------------------------


def test_basic_day_offers_every_quarter_hour_from_nine_to_four():
    slots = find_slots(DAY_Q, [mediator()], None, weekdays, TZ)
    assert hhmm(slots) == quarter_hours("09:00", "16:00")
    assert slots[0].start == utc(2026, 6, 9, 7) and slots[0].start.tzinfo == UTC
    assert all(s.end - s.start == timedelta(hours=1) and s.room_id is None for s in slots)


def test_lunch_break_is_not_bookable():
    hours = [WorkingHours(1, time(9), time(12)), WorkingHours(1, time(13), time(17))]
    slots = find_slots(DAY_Q, [mediator(hours=hours)], None, weekdays, TZ)
    assert hhmm(slots) == quarter_hours("09:00", "11:00") + quarter_hours("13:00", "16:00")


def test_adjacent_working_hours_entries_form_one_stretch():
    hours = [WorkingHours(1, time(9), time(12)), WorkingHours(1, time(12), time(17))]
    slots = find_slots(DAY_Q, [mediator(hours=hours)], None, weekdays, TZ)
    assert hhmm(slots) == quarter_hours("09:00", "16:00")


def test_busy_block_in_the_middle_of_the_day():
    m = mediator(busy_=[busy(local(*DAY, 11), local(*DAY, 12))])
    slots = find_slots(DAY_Q, [m], None, weekdays, TZ)
    assert hhmm(slots) == quarter_hours("09:00", "10:00") + quarter_hours("12:00", "16:00")


def test_buffer_after_refuses_slot_whose_buffer_hits_busy_time():
    m = mediator(buffer_min=15, busy_=[busy(local(*DAY, 12), local(*DAY, 13))])
    slots = hhmm(find_slots(DAY_Q, [m], None, weekdays, TZ))
    assert "10:45" in slots  # ends 11:45, buffer until 12:00: touches, allowed
    assert "11:00" not in slots  # buffer would run 12:00-12:15 into the busy block
    assert slots == quarter_hours("09:00", "10:45") + quarter_hours("13:00", "16:00")
    no_buffer = hhmm(find_slots(DAY_Q, [mediator(busy_=m.busy)], None, weekdays, TZ))
    assert "11:00" in no_buffer


def test_buffer_may_run_past_end_of_working_hours_but_must_be_free():
    slots = hhmm(find_slots(DAY_Q, [mediator(buffer_min=30)], None, weekdays, TZ))
    assert slots[-1] == "16:00"
    evening = mediator(buffer_min=30, busy_=[busy(local(*DAY, 17), local(*DAY, 18))])
    slots = hhmm(find_slots(DAY_Q, [evening], None, weekdays, TZ))
    assert slots[-1] == "15:30"


def test_unsorted_overlapping_busy_in_any_zone():
    blocks = [
        busy(local(*DAY, 14), local(*DAY, 15)),
        busy(datetime(2026, 6, 9, 10, 30, tzinfo=TZ), datetime(2026, 6, 9, 11, 30, tzinfo=TZ)),
        busy(local(*DAY, 10), local(*DAY, 11)),
        busy(local(*DAY, 14, 30), local(*DAY, 14, 45)),
        busy(local(*DAY, 12), local(*DAY, 12)),  # empty: ignored
    ]
    slots = hhmm(find_slots(DAY_Q, [mediator(busy_=blocks)], None, weekdays, TZ))
    assert slots == ["09:00"] + quarter_hours("11:30", "13:00") + quarter_hours("15:00", "16:00")


def test_boundaries_are_exact_to_the_microsecond():
    us = timedelta(microseconds=1)
    early = mediator(busy_=[busy(local(*DAY, 10) - us, local(*DAY, 11))])
    assert hhmm(find_slots(DAY_Q, [early], None, weekdays, TZ))[0] == "11:00"
    late = mediator(busy_=[busy(local(*DAY, 10), local(*DAY, 11) + us)])
    slots = hhmm(find_slots(DAY_Q, [late], None, weekdays, TZ))
    assert "09:00" in slots and "11:00" not in slots and "11:15" in slots


def test_working_hours_ending_at_midnight():
    hours = [WorkingHours(1, time(20), time(0))]
    slots = find_slots(DAY_Q, [mediator(hours=hours)], None, weekdays, TZ)
    assert hhmm(slots) == quarter_hours("20:00", "23:00")


# ---------------------------------------------------------------------------
# Two mediators
# ---------------------------------------------------------------------------


def test_two_mediators_need_joint_hours_and_joint_free_time():
    a = mediator(1, busy_=[busy(local(*DAY, 10), local(*DAY, 11))])
    b = mediator(
        2,
        hours=[WorkingHours(1, time(12), time(18))],
        busy_=[busy(local(*DAY, 14), local(*DAY, 15))],
    )
    slots = find_slots(DAY_Q, [a, b], None, weekdays, TZ)
    assert hhmm(slots) == quarter_hours("12:00", "13:00") + quarter_hours("15:00", "16:00")


def test_each_mediator_has_own_buffer():
    a = mediator(1)
    b = mediator(2, buffer_min=30, busy_=[busy(local(*DAY, 14), local(*DAY, 15))])
    slots = hhmm(find_slots(DAY_Q, [a, b], None, weekdays, TZ))
    assert "12:30" in slots and "12:45" not in slots and "13:00" not in slots
    slots = hhmm(find_slots(DAY_Q, [a, mediator(2, busy_=b.busy)], None, weekdays, TZ))
    assert "13:00" in slots


# ---------------------------------------------------------------------------
# Rooms
# ---------------------------------------------------------------------------


def test_specific_room_must_be_free():
    room = RoomCalendar(7, (busy(local(*DAY, 8), local(*DAY, 12)),))
    slots = find_slots(DAY_Q, [mediator()], [room], weekdays, TZ)
    assert hhmm(slots) == quarter_hours("12:00", "16:00")
    assert {s.room_id for s in slots} == {7}


def test_rooms_need_no_buffer():
    room = RoomCalendar(7, (busy(local(*DAY, 10), local(*DAY, 17)),))
    slots = hhmm(find_slots(DAY_Q, [mediator(buffer_min=30)], [room], weekdays, TZ))
    assert slots == ["09:00"]


def test_any_room_at_location_prefers_first_and_falls_back_to_second():
    first = RoomCalendar(1, (busy(local(*DAY, 9), local(*DAY, 10)),))
    second = RoomCalendar(2, ())
    slots = find_slots(DAY_Q, [mediator()], [first, second], weekdays, TZ)
    by_time = {t: s.room_id for t, s in zip(hhmm(slots), slots)}
    assert by_time["09:00"] == 2 and by_time["09:45"] == 2
    assert by_time["10:00"] == 1 and by_time["16:00"] == 1
    assert hhmm(slots) == quarter_hours("09:00", "16:00")
    # preference order is the order given
    slots = find_slots(DAY_Q, [mediator()], [second, first], weekdays, TZ)
    assert {s.room_id for s in slots} == {2}


def test_all_rooms_busy_means_no_slot_then():
    rooms = [RoomCalendar(k, (busy(local(*DAY, 9), local(*DAY, 10, 30)),)) for k in (1, 2, 3)]
    rooms.append(RoomCalendar(4, (busy(local(*DAY, 9), local(*DAY, 11)),)))
    slots = find_slots(DAY_Q, [mediator()], rooms, weekdays, TZ)
    assert hhmm(slots)[0] == "10:30" and slots[0].room_id == 1


def test_empty_room_list_gives_no_slots():
    assert find_slots(DAY_Q, [mediator()], [], weekdays, TZ) == []


# ---------------------------------------------------------------------------
# Working days, window, notice, limit, grid
# ---------------------------------------------------------------------------


def test_weekend_and_holiday_are_skipped():
    # Friday 1 May .. Tuesday 5 May 2026; pretend Monday 4 May is a holiday.
    def working(d: date) -> bool:
        return d.weekday() < 5 and d != date(2026, 5, 4)

    q = query(local(2026, 5, 1), local(2026, 5, 6), grid=60)
    slots = find_slots(q, [mediator(hours=EVERY_DAY_9_17)], None, working, TZ)
    days = sorted({s.start.astimezone(TZ).date() for s in slots})
    assert days == [date(2026, 5, 1), date(2026, 5, 5)]


def test_working_day_is_judged_on_the_local_date():
    # 00:30 local Tuesday is 22:30 UTC on Monday.
    hours = [WorkingHours(d, time(0), time(2)) for d in range(7)]
    q = query(utc(2026, 6, 8), utc(2026, 6, 10), grid=30)
    slots = find_slots(q, [mediator(hours=hours)], None, lambda d: d == date(2026, 6, 9), TZ)
    assert [s.start for s in slots] == [utc(2026, 6, 8, 22), utc(2026, 6, 8, 22, 30), utc(2026, 6, 8, 23)]


def test_earliest_start_is_respected():
    q = query(local(*DAY), local(2026, 6, 10), earliest=local(*DAY, 10, 5))
    assert hhmm(find_slots(q, [mediator()], None, weekdays, TZ))[0] == "10:15"


def test_slot_must_end_inside_window():
    q = query(local(*DAY, 9, 30), local(*DAY, 12))
    assert hhmm(find_slots(q, [mediator()], None, weekdays, TZ)) == quarter_hours("09:30", "11:00")


def test_limit_returns_the_first_slots_and_stops_early():
    everything = find_slots(DAY_Q, [mediator()], None, weekdays, TZ)
    three = query(local(*DAY), local(2026, 6, 10), limit=3)
    assert find_slots(three, [mediator()], None, weekdays, TZ) == everything[:3]
    calls: list[date] = []

    def counting(d: date) -> bool:
        calls.append(d)
        return True

    q = query(local(*DAY), local(*DAY) + timedelta(weeks=12), limit=1)
    assert len(find_slots(q, [mediator()], None, counting, TZ)) == 1
    assert calls == [date(2026, 6, 9)]
    assert find_slots(query(local(*DAY), local(2026, 6, 10), limit=0), [mediator()], None, weekdays, TZ) == []


def test_grid_is_aligned_to_the_local_clock():
    hours = [WorkingHours(1, time(9, 10), time(12))]
    assert hhmm(find_slots(DAY_Q, [mediator(hours=hours)], None, weekdays, TZ))[0] == "09:15"
    q = query(local(*DAY), local(2026, 6, 10), grid=30)
    assert hhmm(find_slots(q, [mediator(hours=hours)], None, weekdays, TZ))[:2] == ["09:30", "10:00"]
    # 25-minute grid counts from local midnight: 09:10 is 22 x 25 minutes
    q = query(local(*DAY), local(2026, 6, 10), grid=25)
    assert hhmm(find_slots(q, [mediator(hours=hours)], None, weekdays, TZ))[:3] == ["09:10", "09:35", "10:00"]


def test_long_busy_block_is_jumped_over():
    m = mediator(busy_=[busy(local(2026, 6, 1), local(2026, 8, 3, 13))])
    q = query(local(2026, 6, 1), local(2026, 9, 1), limit=2)
    slots = find_slots(q, [m], None, weekdays, TZ)
    assert [s.start for s in slots] == [local(2026, 8, 3, 13), local(2026, 8, 3, 13, 15)]


# ---------------------------------------------------------------------------
# Daylight saving time
# ---------------------------------------------------------------------------


def first_start_on(day: tuple[int, int, int], working=weekdays) -> datetime:
    q = query(local(*day), local(*day) + timedelta(days=1), limit=1)
    return find_slots(q, [mediator(hours=EVERY_DAY_9_17)], None, working, TZ)[0].start


def test_dst_spring_nine_local_moves_from_eight_to_seven_utc():
    assert first_start_on((2026, 3, 27)) == utc(2026, 3, 27, 8)
    assert first_start_on((2026, 3, 30)) == utc(2026, 3, 30, 7)


def test_dst_autumn_nine_local_moves_from_seven_to_eight_utc():
    assert first_start_on((2026, 10, 23)) == utc(2026, 10, 23, 7)
    assert first_start_on((2026, 10, 26)) == utc(2026, 10, 26, 8)


def test_working_on_the_dst_change_days_themselves():
    assert first_start_on((2026, 3, 29), every_day) == utc(2026, 3, 29, 7)
    assert first_start_on((2026, 10, 25), every_day) == utc(2026, 10, 25, 8)


def test_spring_gap_start_boundary_takes_effect_at_the_jump():
    hours = [WorkingHours(6, time(2, 30), time(6))]
    q = query(local(2026, 3, 29), local(2026, 3, 30), limit=1)
    slot = find_slots(q, [mediator(hours=hours)], None, every_day, TZ)[0]
    assert slot.start == utc(2026, 3, 29, 1)  # 03:00 summer time
    assert working_intervals(date(2026, 3, 29), hours, TZ) == [
        Interval(utc(2026, 3, 29, 1), utc(2026, 3, 29, 4))
    ]


def test_spring_working_hours_across_the_gap_are_three_real_hours():
    hours = [WorkingHours(6, time(1), time(5))]
    q = query(local(2026, 3, 29), local(2026, 3, 30))
    slots = find_slots(q, [mediator(hours=hours)], None, every_day, TZ)
    assert [s.start for s in slots] == [utc(2026, 3, 29, 0) + k * timedelta(minutes=15) for k in range(9)]
    assert hhmm(slots)[3:5] == ["01:45", "03:00"]


def test_autumn_repeated_hour_counts_twice():
    hours = [WorkingHours(6, time(1), time(4))]
    q = query(local(2026, 10, 25), local(2026, 10, 26), grid=60)
    slots = find_slots(q, [mediator(hours=hours)], None, every_day, TZ)
    assert [s.start for s in slots] == [
        utc(2026, 10, 24, 23), utc(2026, 10, 25, 0), utc(2026, 10, 25, 1), utc(2026, 10, 25, 2)
    ]
    assert hhmm(slots) == ["01:00", "02:00", "02:00", "03:00"]
    ends_in_fold = working_intervals(date(2026, 10, 25), [WorkingHours(6, time(1), time(2, 30))], TZ)
    assert ends_in_fold == [
        Interval(utc(2026, 10, 24, 23), utc(2026, 10, 25, 0, 30)),
        Interval(utc(2026, 10, 25, 1), utc(2026, 10, 25, 1, 30)),
    ]


def test_25_minute_grid_skips_the_missing_hour():
    hours = [WorkingHours(6, time(0), time(6))]
    q = query(local(2026, 3, 29), local(2026, 3, 30), minutes=20, grid=25)
    readings = hhmm(find_slots(q, [mediator(hours=hours)], None, every_day, TZ))
    assert readings[:6] == ["00:00", "00:25", "00:50", "01:15", "01:40", "03:20"]


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"window_start": datetime(2026, 6, 9)},
        {"window_end": datetime(2026, 6, 10)},
        {"earliest_start": datetime(2026, 6, 9)},
        {"duration": timedelta(0)},
        {"duration": timedelta(minutes=-15)},
        {"grid": timedelta(0)},
        {"limit": -1},
    ],
)
def test_bad_query_is_rejected(change):
    fields = {**DAY_Q.__dict__, **change}
    with pytest.raises(ValueError):
        find_slots(SlotQuery(**fields), [mediator()], None, weekdays, TZ)


@pytest.mark.parametrize(
    "bad",
    [
        mediator(busy_=[busy(datetime(2026, 6, 9, 10), datetime(2026, 6, 9, 11))]),
        mediator(busy_=[busy(local(*DAY, 11), local(*DAY, 10))]),
        mediator(hours=[WorkingHours(1, time(17), time(9))]),
        mediator(hours=[WorkingHours(7, time(9), time(17))]),
        mediator(buffer_min=-5),
    ],
)
def test_bad_calendar_is_rejected(bad):
    with pytest.raises(ValueError):
        find_slots(DAY_Q, [bad], None, weekdays, TZ)


def test_naive_room_busy_and_missing_mediators_are_rejected():
    with pytest.raises(ValueError):
        naive = RoomCalendar(1, (busy(datetime(2026, 6, 9, 10), datetime(2026, 6, 9, 11)),))
        find_slots(DAY_Q, [mediator()], [naive], weekdays, TZ)
    with pytest.raises(ValueError):
        find_slots(DAY_Q, [], None, weekdays, TZ)


# ---------------------------------------------------------------------------
# Property tests against the rules and a brute-force oracle
# ---------------------------------------------------------------------------

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
