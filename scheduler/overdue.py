"""When a case is overdue: the office's intake norm, as one rule.

A case is overdue while it waits for its intake (status registered or intake)
with no intake planned or held (no intake appointment that is held, confirmed
or completed), once more than `norm` working days have passed since the day
it was opened: opened on Monday 1 December with a norm of 10, it is on time
up to and including Monday 15 December (the 10th working day after) and
overdue from Tuesday 16 December.

`overdue_since` turns that into one instant: a case opened before it is past
the norm today. `is_overdue` is the rule for one case (pure: the unit tests
check it day by day), and `overdue_clause` the same rule as a SQL condition
for the case list, built from the same pieces.
"""
from __future__ import annotations

from datetime import date, datetime, time, tzinfo

from sqlalchemy import ColumnElement, and_, exists, select

from core.workdays import WorkingDayCalendar
from scheduler.models import Appointment, Case

# Statuses in which a case still waits for its intake.
WAITING_STATUSES = ("registered", "intake")
# An intake appointment in one of these counts as planned (or done); cancelled or missed ones do not.
PLANNED_STATUSES = ("held", "confirmed", "completed")


def overdue_since(today: date, norm: int, calendar: WorkingDayCalendar, tz: tzinfo) -> datetime:
    """The start (office time) of the last day a case could be opened and still be within the norm today.

    A case opened on day d is past the norm once today is later than the
    `norm`-th working day after d, i.e. once `norm` working days lie between
    d (exclusive) and today (exclusive). The latest such d is the day before
    the `norm`-th working day before today; so cases opened before the start
    of that working day are overdue.
    """
    return datetime.combine(calendar.add_working_days(today, -norm), time(0), tzinfo=tz)


def is_overdue(status: str, intake_planned: bool, created_at: datetime, now: datetime, norm: int,
               calendar: WorkingDayCalendar, tz: tzinfo) -> bool:
    """Whether one case is overdue at `now` (aware datetimes; `tz` the office's zone)."""
    if status not in WAITING_STATUSES or intake_planned:
        return False
    return created_at < overdue_since(now.astimezone(tz).date(), norm, calendar, tz)


def intake_planned_clause() -> ColumnElement[bool]:
    """SQL: the case has an intake appointment that counts as planned."""
    return exists(select(Appointment.id).where(Appointment.case_id == Case.id, Appointment.kind == "intake",
                                               Appointment.status.in_(PLANNED_STATUSES)))


def overdue_clause(now: datetime, norm: int, calendar: WorkingDayCalendar, tz: tzinfo) -> ColumnElement[bool]:
    """SQL for `is_overdue`, for a query over Case."""
    since = overdue_since(now.astimezone(tz).date(), norm, calendar, tz)
    return and_(Case.status.in_(WAITING_STATUSES), Case.created_at < since, ~intake_planned_clause())
