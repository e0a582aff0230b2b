"""Free-slot search for appointments: pure functions, no database, no I/O.

Callers (the availability API, booking) load calendars into the plain
dataclasses below and ask ``find_slots``. Keeping this pure lets the search be
property-tested against a brute-force oracle and benchmarked in isolation.

Semantics (see ``find_slots`` for the full rule):

* **Buffer.** A mediator's ``buffer`` (travel, notes) follows each appointment
  and must be free of busy time, but it *may run past the end of working
  hours*: writing notes after the last appointment of the day is normal; the
  appointment itself must lie inside working hours.
* **Working hours are local wall-clock times** (``tz``, Europe/Amsterdam).
  An instant counts as working time for date D when the office clock *shows*
  date D and a time within a working-hours entry. This one rule settles the
  daylight-saving edge cases without special cases:

  - a boundary in the spring-forward gap (02:00–03:00 never shown) takes
    effect at the jump: "02:30–06:00" starts at 03:00 summer time, and
    "01:00–05:00" that day is three real hours;
  - in the autumn fall-back hour (02:00–03:00 shown twice) a time inside an
    entry counts both times: "01:00–04:00" that day is four real hours, and
    an entry ending at 02:30 is working again from 02:00 to 02:30 winter
    time (nobody has hours at 2 a.m.; the point is that nothing crashes and
    the rule is one line).
* **Several entries for one weekday** are united: 09:00–12:00 plus
  12:00–17:00 is one stretch, and 11:30–12:30 fits in it. Overlapping entries
  are harmless. ``end == time(0)`` means midnight at the end of the day.
* **Grid.** Slot starts are instants at which the office clock shows a
  multiple of ``grid`` counted from local midnight (09:00, 09:15, ...). A
  clock reading shown twice (autumn) gives two candidates.

Implementation: all instants become integer microseconds (``intervals``).
Every mediator's busy block is turned into the open range of *start times it
forbids* — ``(busy.start - duration - buffer, busy.end)`` — and all those
ranges are merged once, so one bisect answers "is start t free for every
mediator" and its end is the next candidate. Rooms are handled the same way
per room (no buffer). The walk jumps from one conflict end to the next
instead of testing each grid step, so a search costs O(busy · log busy)
however far away the first free slot is, and it stops at ``limit``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple, Callable, Sequence
from zoneinfo import ZoneInfo

from scheduler.intervals import (
    EPOCH,
    ONE_US,
    US_PER_DAY,
    Span,
    ceil_to,
    clock_us,
    day_pieces,
    dt_us,
    intersect,
    merge,
    next_free,
    td_us,
    us_dt,
    wall_us,
    working_spans,
)

__all__ = [
    "Interval",
    "MediatorCalendar",
    "RoomCalendar",
    "Slot",
    "SlotQuery",
    "WorkingHours",
    "find_slots",
    "working_intervals",
]


class Interval(NamedTuple):
    """Half-open ``[start, end)`` between UTC-aware datetimes.

    A NamedTuple rather than a frozen dataclass: a search builds thousands of
    these from database rows, and tuple construction is several times cheaper.
    """

    start: datetime
    end: datetime


@dataclass(frozen=True)
class WorkingHours:
    """One stretch of working time in office-local wall-clock time.

    ``weekday`` is 0=Monday..6=Sunday; ``end == time(0)`` means midnight at
    the end of the day.
    """

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class MediatorCalendar:
    """Everything the search needs to know about one mediator.

    ``buffer`` is the travel/notes time needed *after* each appointment.
    ``busy`` holds live appointments (with their buffers), holds and imported
    busy blocks; unsorted, may overlap. ``busy_us`` is more of the same as
    ``(start, end)`` UTC epoch microseconds, for callers that read them that
    way straight from the database (it spares building thousands of datetimes).
    """

    mediator_id: int
    working_hours: tuple[WorkingHours, ...]
    buffer: timedelta
    busy: tuple[Interval, ...]
    busy_us: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class RoomCalendar:
    """A room's busy time (no buffer: rooms need no travel time)."""

    room_id: int
    busy: tuple[Interval, ...]
    busy_us: tuple[tuple[int, int], ...] = ()  # as on MediatorCalendar


@dataclass(frozen=True)
class SlotQuery:
    """What to search for; all datetimes UTC-aware.

    ``earliest_start`` is now + minimum notice. ``limit`` stops the search
    early (the walk really stops; it does not compute everything and slice).
    """

    window_start: datetime
    window_end: datetime
    duration: timedelta
    earliest_start: datetime
    grid: timedelta = timedelta(minutes=15)
    limit: int | None = None


@dataclass(frozen=True)
class Slot:
    """An offered slot; ``room_id`` is None when no room is needed."""

    start: datetime
    end: datetime
    room_id: int | None


def _hours_by_weekday(hours: Sequence[WorkingHours]) -> list[list[tuple[int, int]]]:
    """Validate working hours and index them as wall-time offsets in the day."""
    table: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for wh in hours:
        if not 0 <= wh.weekday <= 6:
            raise ValueError(f"weekday must be 0..6: {wh!r}")
        begin = clock_us(wh.start)
        end = US_PER_DAY if wh.end == time(0) else clock_us(wh.end)
        if end <= begin:
            raise ValueError(f"working hours must end after they start: {wh!r}")
        table[wh.weekday].append((begin, end))
    return table


def working_intervals(day: date, hours: Sequence[WorkingHours], tz: ZoneInfo) -> list[Interval]:
    """A mediator's working time on local ``day`` as UTC intervals.

    Exposed so that booking can check a requested time with exactly the rule
    the slot search uses (does not consult the working-day calendar).
    """
    table = _hours_by_weekday(hours)
    spans = working_spans(table[day.weekday()], wall_us(day), day_pieces(tz, day))
    return [Interval(us_dt(s), us_dt(e)) for s, e in spans]


def _forbidden_starts(busy: Sequence[Interval], reach: int, out: list[Span]) -> None:
    """Append, per busy block, the range of slot starts it rules out.

    ``reach`` is how long a slot occupies its resource (duration, plus the
    buffer for a mediator). A start t collides with busy [bs, be) iff
    t < be and t + reach > bs, i.e. bs - reach < t < be; in integer
    microseconds that is the half-open [bs - reach + 1, be).
    """
    try:
        for iv in busy:
            # Inlined dt_us: this loop is the bulk of a search's running time.
            s = (iv.start - EPOCH) // ONE_US
            e = (iv.end - EPOCH) // ONE_US
            if e > s:
                out.append((s - reach + 1, e))
            elif e < s:
                raise ValueError(f"busy interval ends before it starts: {iv!r}")
    except TypeError:
        raise ValueError(f"busy intervals must be timezone-aware: {iv!r}") from None


def _forbidden_starts_us(busy_us: Sequence[tuple[int, int]], reach: int, out: list[Span]) -> None:
    """`_forbidden_starts` for busy time given as epoch microseconds."""
    for s, e in busy_us:
        if e > s:
            out.append((s - reach + 1, e))
        elif e < s:
            raise ValueError(f"busy interval ends before it starts: {(s, e)!r}")


def _require_aware(**values: datetime) -> None:
    for name, value in values.items():
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got {value!r}")


def find_slots(
    query: SlotQuery,
    mediators: Sequence[MediatorCalendar],
    rooms: Sequence[RoomCalendar] | None,
    is_working_day: Callable[[date], bool],
    tz: ZoneInfo,
) -> list[Slot]:
    """Free slots, in chronological order, at most ``query.limit`` of them.

    A slot [s, e) with e = s + duration is offered iff
    s >= earliest_start, s >= window_start, e <= window_end; s is on the
    grid; the local date of s is a working day; for every mediator [s, e) lies
    in that mediator's working time for that local date and [s, e + buffer)
    overlaps none of their busy intervals (the buffer may run past the end of
    working hours); and, when ``rooms`` is given, some room is free for
    [s, e) — the first free one in the given (preference) order is chosen.
    ``rooms=None`` means no room is needed; an empty sequence means no slot.

    Raises ValueError for naive datetimes, a non-positive duration or grid,
    a negative buffer or limit, no mediators, or malformed working hours.
    """
    _require_aware(
        window_start=query.window_start, window_end=query.window_end, earliest_start=query.earliest_start
    )
    duration, grid = td_us(query.duration), td_us(query.grid)
    if duration <= 0:
        raise ValueError("duration must be positive")
    if grid <= 0:
        raise ValueError("grid must be positive")
    if query.limit is not None and query.limit < 0:
        raise ValueError("limit must not be negative")
    if not mediators:
        raise ValueError("at least one mediator is required")
    hours = [_hours_by_weekday(m.working_hours) for m in mediators]
    buffers = [td_us(m.buffer) for m in mediators]
    if min(buffers) < 0:
        raise ValueError("buffer must not be negative")

    first = max(dt_us(query.window_start), dt_us(query.earliest_start))
    last = dt_us(query.window_end) - duration  # latest permitted start
    if first > last or query.limit == 0 or (rooms is not None and len(rooms) == 0):
        return []

    forbidden: list[Span] = []
    for m, buffer in zip(mediators, buffers):
        _forbidden_starts(m.busy, duration + buffer, forbidden)
        _forbidden_starts_us(m.busy_us, duration + buffer, forbidden)
    med_starts, med_ends = merge(forbidden)

    room_table: list[tuple[int, list[int], list[int]]] = []
    for r in rooms or ():
        spans: list[Span] = []
        _forbidden_starts(r.busy, duration, spans)
        _forbidden_starts_us(r.busy_us, duration, spans)
        room_table.append((r.room_id, *merge(spans)))

    slots: list[Slot] = []
    day = us_dt(first).astimezone(tz).date()
    last_day = us_dt(last).astimezone(tz).date()
    while day <= last_day:
        weekday = day.weekday()
        if all(h[weekday] for h in hours) and is_working_day(day):
            midnight = wall_us(day)
            pieces = day_pieces(tz, day)
            joint = working_spans(hours[0][weekday], midnight, pieces)
            for h in hours[1:]:
                joint = intersect(joint, working_spans(h[weekday], midnight, pieces))
            for w_start, w_end in joint:
                lo, hi = max(w_start, first), min(w_end - duration, last)
                for p_start, p_end, offset in pieces:
                    a, b = max(lo, p_start), min(hi, p_end - 1)
                    if a > b:
                        continue
                    origin = midnight - offset  # UTC instant the grid counts from
                    t = ceil_to(a, origin, grid)
                    while t <= b:
                        free = next_free(med_starts, med_ends, t)
                        if free != t:
                            t = ceil_to(free, origin, grid)
                            continue
                        room_id = None
                        if rooms is not None:
                            room_id, t_next = _pick_room(room_table, t)
                            if room_id is None:
                                t = ceil_to(t_next, origin, grid)
                                continue
                        start = us_dt(t)
                        slots.append(Slot(start, start + query.duration, room_id))
                        if query.limit is not None and len(slots) >= query.limit:
                            return slots
                        t += grid
        day += timedelta(days=1)
    return slots


def _pick_room(table: Sequence[tuple[int, list[int], list[int]]], t: int) -> tuple[int | None, int]:
    """The first room (in preference order) free for a slot starting at t.

    Returns ``(room_id, t)``, or ``(None, earliest start at which some room
    frees up)`` so the walk can jump there.
    """
    soonest = None
    for room_id, starts, ends in table:
        free = next_free(starts, ends, t)
        if free == t:
            return room_id, t
        if soonest is None or free < soonest:
            soonest = free
    assert soonest is not None
    return None, soonest
