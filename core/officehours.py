"""Office hours of the phone line, on top of the working-day calendar.

Pure helpers: the calendar, the hours and the office time zone are passed in.
Moments are aware datetimes (normally UTC); they are converted to the office
time zone, so daylight-saving changes (Europe/Amsterdam) are handled by
``zoneinfo``. The line is open on working days from ``opens`` (inclusive) to
``closes`` (exclusive), local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone, tzinfo

from core.workdays import WorkingDayCalendar

__all__ = ["OfficeHours", "is_open", "next_opening", "opening_on"]


@dataclass(frozen=True)
class OfficeHours:
    """Daily opening hours, local wall-clock times (naive ``time``)."""

    opens: time = time(9, 0)
    closes: time = time(17, 0)

    def __post_init__(self) -> None:
        for name in ("opens", "closes"):
            value = getattr(self, name)
            if not isinstance(value, time):
                raise TypeError(f"OfficeHours.{name} must be a datetime.time, got {value!r}")
            if value.tzinfo is not None:
                raise ValueError(f"OfficeHours.{name} must be a naive local time, got {value!r}")
        if not self.opens < self.closes:
            raise ValueError(
                f"OfficeHours: opens ({self.opens}) must be before closes ({self.closes})"
            )


def _to_local(moment: datetime, tz: tzinfo) -> datetime:
    if not isinstance(moment, datetime):
        raise TypeError(f"moment must be a datetime, got {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"moment must be timezone-aware (UTC), got naive {moment!r}")
    return moment.astimezone(tz)


def opening_on(day: date, hours: OfficeHours, tz: tzinfo) -> datetime:
    """The opening moment on ``day`` in ``tz`` (whether or not it is a
    working day). An opening time that falls in a DST gap (only possible for
    opening times between 02:00 and 03:00 in Europe/Amsterdam) is normalised
    the PEP 495 way, shifted forward by the length of the gap."""
    local = datetime.combine(day, hours.opens, tzinfo=tz)
    return local.astimezone(timezone.utc).astimezone(tz)


def is_open(
    moment: datetime, calendar: WorkingDayCalendar, hours: OfficeHours, tz: tzinfo
) -> bool:
    """True if the line is open at ``moment`` (aware; naive raises ValueError)."""
    local = _to_local(moment, tz)
    return (
        calendar.is_working_day(local.date())
        and hours.opens <= local.time() < hours.closes
    )


def next_opening(
    moment: datetime, calendar: WorkingDayCalendar, hours: OfficeHours, tz: tzinfo
) -> datetime:
    """The next moment (aware, in ``tz``) the line is open.

    If the line is open at ``moment``, that is ``moment`` itself (converted
    to ``tz``). Otherwise it is the opening time of today, if today is a
    working day and it is not yet opening time, else of the next working day.
    """
    local = _to_local(moment, tz)
    today = local.date()
    if calendar.is_working_day(today):
        if hours.opens <= local.time() < hours.closes:
            return local
        if local.time() < hours.opens:
            opening = opening_on(today, hours, tz)
            if opening >= local:
                return opening
    return opening_on(calendar.next_working_day(today), hours, tz)
