"""The week layout: ISO weeks in the office's zone, days of 23 and 25 hours, items across midnight."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from scheduler.week_layout import Entry, WeekError, build_week, parse_week, week_bounds, week_code

AMS = ZoneInfo("Europe/Amsterdam")
UTC = timezone.utc


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMS)


@pytest.mark.parametrize(("text", "monday"), [
    ("2026-W01", date(2025, 12, 29)),   # week 1 of 2026 starts in 2025
    ("2026-W13", date(2026, 3, 23)),
    ("2026-W53", date(2026, 12, 28)),   # 2026 has 53 ISO weeks
    (" 2027-W10 ", date(2027, 3, 8)),
])
def test_parse_week_gives_the_monday(text: str, monday: date) -> None:
    assert parse_week(text) == monday
    assert week_code(monday) == text.strip()
    assert week_code(monday + timedelta(days=6)) == text.strip()


@pytest.mark.parametrize(("text", "says"), [
    ("2025-W53", "has no week 53"), ("2026-W00", "has no week 0"), ("2026-13", "is not a week"),
    ("2026-W1", "is not a week"), ("", "is not a week"), ("0999-W10", "between"), ("2026-W13-2", "is not a week"),
    ("２０２６-W13", "is not a week"),
])
def test_parse_week_refuses_what_names_no_week(text: str, says: str) -> None:
    with pytest.raises(WeekError, match=says):
        parse_week(text)


def test_days_run_monday_to_sunday_with_neighbours() -> None:
    week = build_week(date(2026, 12, 7), AMS, [], today=date(2026, 12, 9))
    assert [d.date.weekday() for d in week.days] == list(range(7))
    assert (week.code, week.previous, week.next) == ("2026-W50", "2026-W49", "2026-W51")
    assert [d.today for d in week.days] == [False, False, True, False, False, False, False]
    assert week.empty and week.number == 50 and week.sunday == date(2026, 12, 13)
    with pytest.raises(ValueError):
        build_week(date(2026, 12, 8), AMS, [])


def test_spring_forward_week_has_a_23_hour_sunday_and_places_by_local_time() -> None:
    monday = date(2026, 3, 23)  # clocks go forward on Sunday 29 March 2026, 02:00 -> 03:00
    start, end = week_bounds(monday, AMS)
    assert start == datetime(2026, 3, 22, 23, tzinfo=UTC)   # Monday 00:00 CET
    assert end == datetime(2026, 3, 29, 22, tzinfo=UTC)     # next Monday 00:00 CEST
    sunday = date(2026, 3, 29)
    late = Entry("appointment", datetime(2026, 3, 29, 15, tzinfo=UTC), datetime(2026, 3, 29, 16, tzinfo=UTC), "x")
    early = Entry("busy", at(sunday, 1, 30), at(sunday, 4, 0))  # 1.5 real hours across the jump
    week = build_week(monday, AMS, [late, early])
    assert [d.hours for d in week.days] == [24, 24, 24, 24, 24, 24, 23]
    pieces = week.days[6].pieces
    assert [(p.start_text, p.end_text) for p in pieces] == [("01:30", "04:00"), ("17:00", "18:00")]
    assert all(not d.pieces for d in week.days[:6])


def test_fall_back_week_has_a_25_hour_sunday_and_a_whole_day_block_fills_it() -> None:
    monday = date(2026, 10, 19)  # clocks go back on Sunday 25 October 2026, 03:00 -> 02:00
    sunday = date(2026, 10, 25)
    whole = Entry("busy", at(sunday, 0), at(sunday + timedelta(days=1), 0))
    week = build_week(monday, AMS, [whole])
    assert week.days[6].hours == 25
    (piece,) = week.days[6].pieces
    assert piece.all_day and not piece.from_previous_day and not piece.into_next_day
    assert piece.end.astimezone(UTC) - piece.start.astimezone(UTC) == timedelta(hours=25)
    # An hour after 22:00 local on Saturday is still Saturday's, not Sunday's.
    evening = Entry("appointment", at(date(2026, 10, 24), 22), at(date(2026, 10, 24), 23), "y")
    assert [len(d.pieces) for d in build_week(monday, AMS, [evening]).days] == [0, 0, 0, 0, 0, 1, 0]


def test_an_item_across_midnight_shows_on_both_days_cut_and_marked() -> None:
    monday = date(2026, 12, 7)
    night = Entry("appointment", at(date(2026, 12, 8), 22), at(date(2026, 12, 9), 1, 30), "night")
    ends_at_midnight = Entry("hold", at(date(2026, 12, 10), 23), at(date(2026, 12, 11), 0), "hold")
    week = build_week(monday, AMS, [night, ends_at_midnight])
    tuesday, wednesday, thursday, friday = (week.days[i].pieces for i in (1, 2, 3, 4))
    assert [(p.start.hour, p.end.hour, p.from_previous_day, p.into_next_day) for p in tuesday] == [(22, 0, False, True)]
    assert tuesday[0].end == at(date(2026, 12, 9), 0)
    assert [(p.start.hour, p.end.hour, p.end.minute, p.from_previous_day, p.into_next_day) for p in wednesday] == \
        [(0, 1, 30, True, False)]
    assert [p.detail for p in thursday] == ["hold"] and not thursday[0].into_next_day
    assert friday == ()  # half-open: ending at midnight is not on the next day


def test_items_outside_the_week_or_reaching_into_it_are_cut_to_the_week() -> None:
    monday = date(2026, 12, 7)
    before = Entry("busy", at(date(2026, 12, 6), 9), at(date(2026, 12, 6), 10))
    after = Entry("busy", at(date(2026, 12, 14), 0), at(date(2026, 12, 14), 1))
    long = Entry("busy", at(date(2026, 12, 1), 0), at(date(2026, 12, 20), 0))  # a holiday: all seven days
    empty = Entry("busy", at(date(2026, 12, 8), 9), at(date(2026, 12, 8), 9))
    week = build_week(monday, AMS, [before, after, long, empty])
    assert [len(d.pieces) for d in week.days] == [1] * 7
    assert all(d.pieces[0].all_day and d.pieces[0].from_previous_day and d.pieces[0].into_next_day
               for d in week.days)


def test_a_day_lists_whole_days_first_then_by_start_then_kind() -> None:
    monday, tuesday = date(2026, 12, 7), date(2026, 12, 8)
    items = [Entry("busy", at(tuesday, 9), at(tuesday, 10)),
             Entry("appointment", at(tuesday, 9), at(tuesday, 10), "a", sort_key=2),
             Entry("hold", at(tuesday, 8), at(tuesday, 9), "h"),
             Entry("busy", at(tuesday, 0), at(date(2026, 12, 9), 0)),
             Entry("appointment", at(tuesday, 9), at(tuesday, 10), "b", sort_key=1)]
    pieces = build_week(monday, AMS, items).days[1].pieces
    assert [(p.kind, p.detail) for p in pieces] == [("busy", None), ("hold", "h"), ("appointment", "b"),
                                                    ("appointment", "a"), ("busy", None)]


def test_entries_must_be_aware_and_of_a_known_kind() -> None:
    with pytest.raises(ValueError):
        Entry("meeting", at(date(2026, 12, 8), 9), at(date(2026, 12, 8), 10))
    with pytest.raises(ValueError):
        Entry("busy", datetime(2026, 12, 8, 9), datetime(2026, 12, 8, 10))
