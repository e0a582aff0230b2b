"""Quiet hours and reminder timing: pure functions over UTC-aware datetimes.

Quiet hours are local wall-clock times and may cross midnight (21:00-08:00);
a night that contains a daylight-saving change is an hour shorter or longer,
as it is on the clock. Used both when a reminder is planned and when the
send job checks it again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    tz: ZoneInfo


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """`clock` on local `day` as a UTC instant.

    A wall time inside the spring-forward gap does not exist; zoneinfo reads it
    with the offset before the change, which lands just after the gap. An
    ambiguous autumn time takes its first occurrence (fold=0): the earlier.
    """
    return datetime.combine(day, clock, tzinfo=tz).astimezone(timezone.utc)


def quiet_window(moment: datetime, quiet: QuietHours) -> tuple[datetime, datetime] | None:
    """The quiet window (UTC start, end) that `moment` falls in, or None outside quiet hours."""
    if quiet.start == quiet.end:
        return None
    local = moment.astimezone(quiet.tz)
    clock = local.time().replace(tzinfo=None)
    today = local.date()
    if quiet.start < quiet.end:                      # e.g. 12:00-13:30, within one day
        if quiet.start <= clock < quiet.end:
            return _at(today, quiet.start, quiet.tz), _at(today, quiet.end, quiet.tz)
        return None
    if clock >= quiet.start:                         # the evening part: ends tomorrow morning
        return _at(today, quiet.start, quiet.tz), _at(today + timedelta(days=1), quiet.end, quiet.tz)
    if clock < quiet.end:                            # the early-morning part: began last evening
        return _at(today - timedelta(days=1), quiet.start, quiet.tz), _at(today, quiet.end, quiet.tz)
    return None


def end_of_quiet(moment: datetime, quiet: QuietHours) -> datetime | None:
    """If `moment` falls in quiet hours, the UTC instant they end; else None."""
    window = quiet_window(moment, quiet)
    return window[1] if window else None


def in_quiet_hours(moment: datetime, quiet: QuietHours) -> bool:
    return quiet_window(moment, quiet) is not None


def time_before(start: datetime, minutes: int, tz: ZoneInfo) -> datetime:
    """`minutes` before `start`; a whole number of days counts on the local calendar.

    "Two days before" a Monday 08:30 appointment is Saturday 08:30 on the clock,
    also over the weekend the clocks change (48 real hours would be 07:30 or
    09:30 then, and 07:30 falls in the default quiet hours, which would move the
    reminder to Friday evening). Shorter offsets ("2 hours before") are real time.
    """
    days, rest = divmod(minutes, 24 * 60)
    if days and not rest:
        local = start.astimezone(tz)
        return _at(local.date() - timedelta(days=days), local.time(), tz)
    return start - timedelta(minutes=minutes)


def reminder_time(appointment_start: datetime, minutes_before: int, now: datetime,
                  quiet: QuietHours) -> datetime | None:
    """When to send a reminder `minutes_before` the start, or None when no good moment is left.

    Due in quiet hours, it goes just before the quiet window starts; if that
    moment has passed, just after the window ends — if that is still before
    the appointment. A reminder whose moment has passed at booking is left
    out: the confirmation went a moment ago.
    """
    due = time_before(appointment_start, minutes_before, quiet.tz)
    window = quiet_window(due, quiet)
    if window is not None:
        before = window[0] - timedelta(minutes=1)
        if before >= now:
            due = before
        elif window[1] < appointment_start and window[1] >= now:
            due = window[1]
        else:
            return None
    if due < now or due >= appointment_start:
        return None
    return due
