"""The intake norm (scheduler.overdue): overdue once more than N working days passed since the day a case opened.

Fixed dates are fine here: the rule is pure and takes `now` as an argument.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from core.workdays import WorkingDayCalendar
from scheduler.overdue import is_overdue, overdue_since

AMS = ZoneInfo("Europe/Amsterdam")
OFFICE = WorkingDayCalendar()


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=AMS)


def overdue(created: datetime, now: datetime, norm: int = 10, status: str = "registered",
            planned: bool = False, calendar: WorkingDayCalendar = OFFICE) -> bool:
    return is_overdue(status, planned, created, now, norm, calendar, AMS)


def test_on_time_through_the_nth_working_day_after_overdue_the_day_after() -> None:
    opened = at(date(2025, 12, 1), 16)  # a Monday
    assert not overdue(opened, at(date(2025, 12, 15), 23, 59))  # the 10th working day after
    assert overdue(opened, at(date(2025, 12, 16), 0, 0))
    assert overdue(opened, at(date(2025, 12, 16), 9))


def test_the_hour_of_opening_does_not_matter_only_the_day() -> None:
    now = at(date(2025, 12, 16), 8)
    assert overdue(at(date(2025, 12, 1), 0, 0), now)
    assert overdue(at(date(2025, 12, 1), 23, 59), now)
    assert not overdue(at(date(2025, 12, 2), 0, 0), now)


def test_holidays_and_weekends_do_not_count() -> None:
    # Opened Friday 19 December 2025: Christmas (25, 26 Dec) and New Year's Day are not working days.
    opened = at(date(2025, 12, 19))
    tenth = OFFICE.add_working_days(date(2025, 12, 19), 10)
    assert tenth == date(2026, 1, 7)
    assert not overdue(opened, at(tenth, 17))
    assert overdue(opened, at(date(2026, 1, 8), 9))


def test_closure_days_of_the_office_do_not_count() -> None:
    closed = WorkingDayCalendar(closure_days=[date(2025, 12, 3), date(2025, 12, 4)])
    opened = at(date(2025, 12, 1))
    assert not overdue(opened, at(date(2025, 12, 17), 12), calendar=closed)
    assert overdue(opened, at(date(2025, 12, 18), 12), calendar=closed)
    assert overdue(opened, at(date(2025, 12, 17), 12))  # without the closure it was late a day earlier


def test_the_norm_ends_with_its_last_working_day_not_the_next_one() -> None:
    # Opened Thursday 27 November with a norm of 1: Friday is the day; by Saturday it has passed.
    opened = at(date(2025, 11, 27))
    assert not overdue(opened, at(date(2025, 11, 28), 17), norm=1)
    assert overdue(opened, at(date(2025, 11, 29), 9), norm=1)


def test_opened_on_a_weekend_counts_from_the_next_working_day() -> None:
    opened = at(date(2025, 12, 6))  # a Saturday
    assert not overdue(opened, at(date(2025, 12, 19), 17))  # Mon 8 .. Fri 19: ten working days
    assert overdue(opened, at(date(2025, 12, 22), 9))


@pytest.mark.parametrize("status", ["contact", "meeting", "closed"])
def test_only_cases_waiting_for_their_intake_can_be_overdue(status: str) -> None:
    assert not overdue(at(date(2025, 1, 6)), at(date(2025, 12, 16)), status=status)
    assert overdue(at(date(2025, 1, 6)), at(date(2025, 12, 16)), status="intake")


def test_a_planned_intake_ends_it() -> None:
    assert not overdue(at(date(2025, 1, 6)), at(date(2025, 12, 16)), planned=True)


def test_now_is_read_in_the_office_zone() -> None:
    opened = at(date(2025, 12, 1))
    # 23:30 UTC on the 15th is already the 16th in Amsterdam.
    assert overdue(opened, datetime(2025, 12, 15, 23, 30, tzinfo=timezone.utc))
    assert not overdue(opened, datetime(2025, 12, 15, 22, 30, tzinfo=timezone.utc))


@pytest.mark.parametrize("norm", [1, 3, 10, 20])
def test_same_as_counting_working_days_one_by_one(norm: int) -> None:
    """Against a plain count: overdue iff `norm` whole working days lie between the day of opening and today."""
    start = date(2025, 11, 24)
    for opened_offset in range(0, 12):
        opened_day = start + timedelta(days=opened_offset)
        for later in range(0, 45):
            today = opened_day + timedelta(days=later)
            between = OFFICE.working_days_between(opened_day + timedelta(days=1), today)
            assert overdue(at(opened_day, 14), at(today, 12), norm=norm) == (between >= norm), (opened_day, today)


def test_overdue_since_is_midnight_in_the_office_zone() -> None:
    since = overdue_since(date(2025, 12, 16), 10, OFFICE, AMS)
    assert since == datetime(2025, 12, 2, 0, 0, tzinfo=AMS)
    assert since.utcoffset() == timedelta(hours=1)
