"""When a reminder goes: never in quiet hours, and never after the appointment has begun.

Pure functions over UTC-aware datetimes and the office's time zone.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def in_quiet_hours(moment: datetime, tz: ZoneInfo, quiet_start: time, quiet_end: time) -> bool:
    local = moment.astimezone(tz).time()
    if quiet_start <= quiet_end:
        return quiet_start <= local < quiet_end
    return local >= quiet_start or local < quiet_end  # the window crosses midnight


def quiet_window_around(moment: datetime, tz: ZoneInfo, quiet_start: time,
                        quiet_end: time) -> tuple[datetime, datetime]:
    """The quiet window containing `moment`, as UTC-aware (start, end); correct on DST nights."""
    local = moment.astimezone(tz)
    day = local.date()
    if quiet_start > quiet_end and local.time() < quiet_end:
        day -= timedelta(days=1)  # after midnight: the window began the evening before
    start = datetime.combine(day, quiet_start, tz)
    end_day = day + timedelta(days=1) if quiet_start > quiet_end else day
    end = datetime.combine(end_day, quiet_end, tz)
    return start.astimezone(moment.tzinfo), end.astimezone(moment.tzinfo)


def reminder_time(appointment_start: datetime, minutes_before: int, now: datetime, tz: ZoneInfo,
                  quiet_start: time, quiet_end: time) -> datetime | None:
    """When to send a reminder `minutes_before` the start, or None when no good moment is left.

    Due in quiet hours, it goes just before the quiet window starts; if that
    moment has passed, just after the window ends — if that is still before
    the appointment. A reminder whose moment has passed at booking is left
    out: the confirmation went a moment ago.
    """
    due = appointment_start - timedelta(minutes=minutes_before)
    if in_quiet_hours(due, tz, quiet_start, quiet_end):
        window_start, window_end = quiet_window_around(due, tz, quiet_start, quiet_end)
        before = window_start - timedelta(minutes=1)
        if before >= now:
            due = before
        elif window_end < appointment_start and window_end >= now:
            due = window_end
        else:
            return None
    if due < now or due >= appointment_start:
        return None
    return due
