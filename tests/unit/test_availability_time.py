"""Unit tests for scheduler.availability.find_slots: days and time.

Working days and holidays judged on the local date, the window, the notice
(earliest start), the limit, the grid aligned to the local clock, and the
daylight-saving weekends (Europe/Amsterdam).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from scheduler.availability import Interval, WorkingHours, find_slots, working_intervals
from tests.unit.availability_helpers import (
    DAY,
    DAY_Q,
    EVERY_DAY_9_17,
    TZ,
    busy,
    every_day,
    hhmm,
    local,
    mediator,
    query,
    quarter_hours,
    utc,
    weekdays,
)


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

