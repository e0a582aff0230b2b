"""Days for tests that go through the real clock, picked so they hold on any day the suite runs.

A fixed date passes until it lies in the past; "a Tuesday two weeks ahead"
passes until that Tuesday is Christmas or King's Day. So a test that books
through the API (which checks against `utcnow()`) asks here for a working day
of the office's own calendar (`core.workdays`), some days from now, at a
local time of day. A working day is never a clock-change day (those are
Sundays), so a local hour on it always exists exactly once.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.db import utcnow
from core.workdays import WorkingDayCalendar

AMS = ZoneInfo("Europe/Amsterdam")
OFFICE = WorkingDayCalendar()  # the calendar of the default settings: no closure days


def working_day(days_ahead: int = 14, calendar: WorkingDayCalendar = OFFICE, weekday: int | None = None) -> date:
    """The first working day at least `days_ahead` days after today (Amsterdam), on `weekday` (0 = Monday) if given."""
    day = (utcnow().astimezone(AMS) + timedelta(days=days_ahead)).date()
    while not calendar.is_working_day(day) or (weekday is not None and day.weekday() != weekday):
        day += timedelta(days=1)
    return day


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """`hour:minute` in Amsterdam on `day`, as an aware datetime."""
    return datetime.combine(day, time(hour, minute), AMS)


def working_day_at(hour: int, minute: int = 0, days_ahead: int = 14, calendar: WorkingDayCalendar = OFFICE,
                   weekday: int | None = None) -> datetime:
    """`hour:minute` in Amsterdam on `working_day(days_ahead, calendar, weekday)`."""
    return local(working_day(days_ahead, calendar, weekday), hour, minute)


def working_days_later(start: datetime, n: int, calendar: WorkingDayCalendar = OFFICE) -> datetime:
    """The same local time of day `n` working days after `start`'s day: `start + n days` may be a Saturday or
    Good Friday."""
    moment = start.astimezone(AMS)
    return local(calendar.add_working_days(moment.date(), n), moment.hour, moment.minute)
