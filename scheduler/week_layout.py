"""A week of one mediator or one room, laid out by day: pure, from rows already loaded.

The week is an ISO week (Monday to Sunday) in the office's time zone. A day
runs from local midnight to the next local midnight, so the Sunday a clock
changes is 23 or 25 hours long and an item is placed by its local times, not
by counting 24-hour steps from Monday. An item that crosses midnight is shown
on every day it touches, each piece cut to that day and marked as going on
before or after. Spans are half-open: an item ending exactly at midnight is
not on the next day.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Iterable

KINDS = ("appointment", "hold", "offered", "occupied", "busy")  # an item's kind, also its CSS class on the page
_ORDER = {kind: i for i, kind in enumerate(KINDS)}
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")
FIRST_YEAR, LAST_YEAR = 1900, 2999


class WeekError(ValueError):
    """A `?week=` value that names no ISO week (the message says what is expected)."""


def parse_week(text: str) -> date:
    """The Monday of an ISO week written "2026-W13"."""
    found = _WEEK.fullmatch(text.strip())
    if found is None:
        raise WeekError(f"{text!r} is not a week: write it as year, W and the week number, e.g. 2026-W05")
    year, number = int(found.group(1)), int(found.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise WeekError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    try:
        return date.fromisocalendar(year, number, 1)
    except ValueError:
        raise WeekError(f"{year} has no week {number}") from None


def week_code(day: date) -> str:
    """"2026-W13" for any day of that ISO week."""
    year, number, _ = day.isocalendar()
    return f"{year:04d}-W{number:02d}"


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The start of `day` in `tz`, as an aware UTC moment (midnight exists on every day in Europe)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


def week_bounds(monday: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the week in UTC: Monday's local midnight to the next Monday's."""
    return local_midnight(monday, tz), local_midnight(monday + timedelta(days=7), tz)


@dataclass(frozen=True)
class Entry:
    """One loaded row to place: an appointment, a hold, someone else's booking, or imported busy time."""

    kind: str
    start: datetime  # aware
    end: datetime
    detail: Any = None  # what the page shows of it (None for busy time: no details of a private event)
    sort_key: Any = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("an entry's start and end must be timezone-aware")


@dataclass(frozen=True)
class Piece:
    """The part of an entry on one day, in local time."""

    entry: Entry
    start: datetime
    end: datetime
    from_previous_day: bool
    into_next_day: bool
    all_day: bool

    @property
    def kind(self) -> str:
        return self.entry.kind

    @property
    def start_text(self) -> str:
        """"09:30": the piece's local start as the pages write times (fmt_time's HH:mm, without Babel's cost)."""
        return f"{self.start.hour:02d}:{self.start.minute:02d}"

    @property
    def end_text(self) -> str:
        return f"{self.end.hour:02d}:{self.end.minute:02d}"

    @property
    def detail(self) -> Any:
        return self.entry.detail


@dataclass(frozen=True)
class Day:
    date: date
    start: datetime  # local midnight (aware, local zone)
    end: datetime    # the next local midnight
    pieces: tuple[Piece, ...]
    today: bool = False

    @property
    def hours(self) -> float:
        """24, or 23/25 on the Sundays the clocks change (in UTC: Python subtracts same-zone times by the wall clock)."""
        return (self.end.astimezone(timezone.utc) - self.start.astimezone(timezone.utc)).total_seconds() / 3600

    @property
    def weekend(self) -> bool:
        return self.date.weekday() >= 5


@dataclass(frozen=True)
class Week:
    monday: date
    days: tuple[Day, ...]
    code: str = field(default="")
    previous: str = field(default="")
    next: str = field(default="")

    @property
    def number(self) -> int:
        return self.monday.isocalendar()[1]

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def empty(self) -> bool:
        return not any(day.pieces for day in self.days)


def build_week(monday: date, tz: tzinfo, entries: Iterable[Entry], today: date | None = None) -> Week:
    """Place `entries` on the seven days of the ISO week starting `monday` (local days of `tz`)."""
    if monday.weekday() != 0:
        raise ValueError(f"{monday} is not a Monday")
    bounds = [local_midnight(monday + timedelta(days=i), tz) for i in range(8)]
    by_day: list[list[Piece]] = [[] for _ in range(7)]
    for entry in entries:
        start, end = entry.start.astimezone(timezone.utc), entry.end.astimezone(timezone.utc)
        if end <= start or end <= bounds[0] or start >= bounds[7]:
            continue
        for i in range(7):
            day_start, day_end = bounds[i], bounds[i + 1]
            if start >= day_end or end <= day_start:
                continue
            piece_start, piece_end = max(start, day_start), min(end, day_end)
            by_day[i].append(Piece(
                entry, piece_start.astimezone(tz), piece_end.astimezone(tz),
                from_previous_day=start < day_start, into_next_day=end > day_end,
                all_day=piece_start == day_start and piece_end == day_end))
    days = tuple(
        Day(monday + timedelta(days=i), bounds[i].astimezone(tz), bounds[i + 1].astimezone(tz),
            tuple(sorted(pieces, key=_piece_order)), today=(monday + timedelta(days=i)) == today)
        for i, pieces in enumerate(by_day))
    return Week(monday, days, code=week_code(monday), previous=week_code(monday - timedelta(days=7)),
                next=week_code(monday + timedelta(days=7)))


def _piece_order(piece: Piece) -> tuple[Any, ...]:
    return (not piece.all_day, piece.start, _ORDER[piece.kind], piece.end, piece.entry.sort_key)
