"""Unit tests for scheduler.availability.find_slots: concrete cases, one rule at a time.

One mediator on one day, two mediators, rooms, and the validation of queries
and calendars. Working days, the window, the grid and daylight saving time are
in test_availability_time.py; the hypothesis tests, which check every offered
slot against the rules and compare the whole answer with a brute-force oracle,
are in test_availability_properties.py.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from scheduler.availability import RoomCalendar, SlotQuery, WorkingHours, find_slots
from tests.unit.availability_helpers import (
    DAY,
    DAY_Q,
    TZ,
    UTC,
    busy,
    hhmm,
    local,
    mediator,
    quarter_hours,
    utc,
    weekdays,
)


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

