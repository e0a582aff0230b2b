"""Builders shared by the scheduler.availability tests: times, calendars, queries, readings.

Times are given as Amsterdam wall-clock (``local``) or UTC (``utc``) and always
come back UTC-aware; ``DAY``/``DAY_Q`` are the Tuesday most concrete cases use.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from scheduler.availability import (
    Interval,
    MediatorCalendar,
    Slot,
    SlotQuery,
    WorkingHours,
)

TZ = ZoneInfo("Europe/Amsterdam")
UTC = timezone.utc
MIN = timedelta(minutes=1)
WEEKDAYS_9_17 = tuple(WorkingHours(d, time(9), time(17)) for d in range(5))
EVERY_DAY_9_17 = tuple(WorkingHours(d, time(9), time(17)) for d in range(7))


def weekdays(d: date) -> bool:
    return d.weekday() < 5


def every_day(d: date) -> bool:
    return True


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """An Amsterdam wall-clock time as a UTC-aware datetime."""
    return datetime(y, mo, d, h, mi, tzinfo=TZ).astimezone(UTC)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def busy(start: datetime, end: datetime) -> Interval:
    return Interval(start, end)


def mediator(mid=1, hours=WEEKDAYS_9_17, buffer_min=0, busy_=()) -> MediatorCalendar:
    return MediatorCalendar(mid, tuple(hours), timedelta(minutes=buffer_min), tuple(busy_))


def query(start, end, minutes=60, earliest=None, grid=15, limit=None) -> SlotQuery:
    return SlotQuery(
        window_start=start,
        window_end=end,
        duration=timedelta(minutes=minutes),
        earliest_start=earliest if earliest is not None else start,
        grid=timedelta(minutes=grid),
        limit=limit,
    )


def hhmm(slots: list[Slot]) -> list[str]:
    return [s.start.astimezone(TZ).strftime("%H:%M") for s in slots]


# Tuesday 9 June 2026, summer time (UTC+2).
DAY = (2026, 6, 9)
DAY_Q = query(local(*DAY), local(2026, 6, 10))


def quarter_hours(first: str, last: str) -> list[str]:
    h, m = map(int, first.split(":"))
    out = []
    t = datetime(2000, 1, 1, h, m)
    while t.strftime("%H:%M") <= last:
        out.append(t.strftime("%H:%M"))
        t += timedelta(minutes=15)
    return out
