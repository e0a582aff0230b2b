"""The ranking of "any free mediator of the region": earliest first, then the lightest week, then the lowest id."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from scheduler.availability import Slot
from scheduler.intervals import dt_us
from scheduler.search_region import RegionSlot, rank_region_slots, week_of, weekly_load

TZ = ZoneInfo("Europe/Amsterdam")
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)  # 10:00 in Amsterdam
HOUR = timedelta(hours=1)
WEEK = date(2026, 11, 30)


def slot(start: datetime, room_id: int | None = None) -> Slot:
    return Slot(start, start + HOUR, room_id)


def test_earliest_first_and_one_mediator_per_start_time() -> None:
    ranked = rank_region_slots({1: [slot(MONDAY + HOUR)], 2: [slot(MONDAY), slot(MONDAY + HOUR)]}, {}, TZ, 10)
    assert ranked == [RegionSlot(MONDAY, MONDAY + HOUR, 2, None), RegionSlot(MONDAY + HOUR, MONDAY + 2 * HOUR, 1, None)]


def test_at_the_same_time_the_lightest_week_wins_then_the_lowest_id() -> None:
    load = {(1, WEEK): 5, (2, WEEK): 2, (3, WEEK): 2}
    ranked = rank_region_slots({1: [slot(MONDAY)], 3: [slot(MONDAY)], 2: [slot(MONDAY)]}, load, TZ, 10)
    assert [s.mediator_id for s in ranked] == [2]


def test_the_load_counts_per_week() -> None:
    next_monday = MONDAY + timedelta(days=7)
    load = {(1, WEEK): 10, (2, WEEK + timedelta(days=7)): 10}
    ranked = rank_region_slots({1: [slot(MONDAY), slot(next_monday)], 2: [slot(MONDAY), slot(next_monday)]},
                               load, TZ, 10)
    assert [(s.start, s.mediator_id) for s in ranked] == [(MONDAY, 2), (next_monday, 1)]


def test_the_limit_keeps_the_earliest_and_rooms_come_along() -> None:
    ranked = rank_region_slots({1: [slot(MONDAY + k * HOUR, room_id=7) for k in range(5)]}, {}, TZ, 2)
    assert [(s.start, s.room_id) for s in ranked] == [(MONDAY, 7), (MONDAY + HOUR, 7)]


def test_weekly_load_adds_busy_time_of_mediators_in_the_week_it_starts() -> None:
    sunday_late = datetime(2026, 12, 6, 22, 30, tzinfo=timezone.utc)  # Sunday 23:30 local: still that week
    rows = [(1, None, dt_us(MONDAY), dt_us(MONDAY + HOUR)), (1, None, dt_us(sunday_late), dt_us(sunday_late + HOUR)),
            (None, 5, dt_us(MONDAY), dt_us(MONDAY + 3 * HOUR)), (2, None, dt_us(MONDAY), dt_us(MONDAY + 2 * HOUR))]
    hour_us = 3_600_000_000
    assert dict(weekly_load(rows, TZ)) == {(1, WEEK): 2 * hour_us, (2, WEEK): 2 * hour_us}


def test_week_of_uses_the_office_clock() -> None:
    # Sunday 23:30 UTC is Monday 00:30 in Amsterdam: the next week.
    assert week_of(datetime(2026, 12, 6, 23, 30, tzinfo=timezone.utc), TZ) == date(2026, 12, 7)
