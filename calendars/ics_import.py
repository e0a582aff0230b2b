"""Turn an iCalendar feed into busy intervals (invariant 2 in docs/architecture.md).

Pure: bytes in, UTC intervals out; no DB, HTTP or Flask, so the sync job,
the upload view, the CalDAV adapter and the benchmark all share it.

Fast: one ``Calendar.from_ical``, Google's ``X-WR-TIMEZONE`` applied once,
then each UID expanded by recurring-ical-events' own ``Series`` -- the loop
``CalendarQuery.between`` runs, minus copying every occurrence into a new
``Event`` (we only need times). Time zones: ``calendars.ics_zones``.

One broken event is non-fatal: ``recurring_ical_events.of`` raises on the
first broken property (or, with ``skip_bad_series``, drops it silently, so it
could not be counted). Each UID's series runs in its own ``try``; only when
one fails are its components expanded one by one to find the broken ones, and
the series is rebuilt from the rest. The same idea one level up: icalendar
tolerates a bad property line inside an event but fails (or silently returns
less) on broken BEGIN/END structure; then the text is cut at VEVENT
boundaries and only the unparseable blocks are dropped. Everything skipped is
counted, with a short reason that never contains event text (privacy).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component
from recurring_ical_events import EventAdapter, Occurrence, Series

from calendars.ics_limits import MAX_FEED_STEPS, MAX_SERIES_STEPS, series_steps
from calendars.ics_zones import FeedZones, apply_x_wr_timezone, iso_utc, to_utc, zone_for_naive

# The library filters on its own (naive, pre-FeedZones) view of the times; a
# margin wider than any zone offset keeps every candidate, we filter exactly.
_QUERY_MARGIN = timedelta(days=2)
_MAX_REASONS = 50
_BOM = b"\xef\xbb\xbf"
_VEVENT_LINE = re.compile(rb"^BEGIN:VEVENT[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
_UID_LINE = re.compile(r"^UID(?:;[^:\r\n]*)?:(.*?)\r?$", re.IGNORECASE | re.MULTILINE)
_TIME_PROPERTIES = ("DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID")


@dataclass(frozen=True, slots=True)
class BusyInterval:
    """One busy occurrence: times and identity only, nothing a person wrote."""

    start: datetime  # UTC-aware
    end: datetime  # UTC-aware, > start
    uid: str
    recurrence_id: str | None  # ISO UTC of the occurrence's original start, recurring only


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The busy intervals of a feed plus what had to be left out, and why."""

    intervals: tuple[BusyInterval, ...]  # sorted by start
    skipped_events: int
    skipped_reasons: tuple[str, ...]


class FeedError(Exception):
    """The whole feed is unusable; the caller keeps the last good copy."""


class _Event(EventAdapter):
    """Event adapter that also remembers what the busy filter needs."""

    def __init__(self, component: Component) -> None:
        super().__init__(component)
        self.event = component
        self.busy = is_busy(component)


class _Occurrence(Occurrence):
    """Occurrence that exposes its source adapter (the base class hides it)."""

    def __init__(self, adapter: _Event, start=None, end=None, sequence: int = -1) -> None:
        super().__init__(adapter, start, end, sequence)
        self.source = adapter
        self.own_time = start is None  # the component's own times (e.g. an override)


class _Series(Series):
    """``Series`` whose occurrences are ``_Occurrence`` (the library's hook)."""

    def occurrence(self, adapter, start=None, end=None):  # noqa: D102 - see Series
        return _Occurrence(adapter, start, end, sequence=self.sequence)


_NOT_BUSY = (("STATUS", "CANCELLED"), ("TRANSP", "TRANSPARENT"), ("X-MICROSOFT-CDO-BUSYSTATUS", "FREE"))


def is_busy(event: Component) -> bool:
    """Cancelled, transparent and Outlook-FREE events do not block a slot.

    TENTATIVE (STATUS or Outlook busy status) and OOF stay busy: a mediator
    who might be elsewhere cannot be booked.
    """
    return not any(str(event.get(name, "")).strip().upper() == value for name, value in _NOT_BUSY)


@dataclass(frozen=True)
class _Job:
    """Everything one ``parse_busy`` call needs while expanding."""

    window_start: datetime
    window_end: datetime
    default_tz: ZoneInfo
    all_day_busy: bool
    zones: FeedZones


def parse_busy(
    data: bytes,
    window_start: datetime,
    window_end: datetime,
    *,
    default_tz: ZoneInfo,
    all_day_busy: bool,
    ignore_uid_suffix: str | None = None,
) -> ImportResult:
    """Busy intervals of every occurrence overlapping [window_start, window_end).

    Intervals are not clipped to the window. Raises ``FeedError`` when the
    feed as a whole is unusable, ``ValueError`` for a bad window.
    """
    if window_start.tzinfo is None or window_end.tzinfo is None or window_end <= window_start:
        raise ValueError("window bounds must be timezone-aware and window_end after window_start")
    calendars, reasons = _parse_feed(data)
    skipped = len(reasons)
    intervals: list[BusyInterval] = []
    steps = 0  # the recurrences' cost so far (calendars.ics_limits)
    for calendar in calendars:
        calendar = apply_x_wr_timezone(calendar)
        job = _Job(window_start, window_end, default_tz, all_day_busy, FeedZones(calendar))
        for uid, components in _group_by_uid(calendar, ignore_uid_suffix).items():
            if not any(is_busy(c) for c in components):
                continue  # nothing of this series can block a slot
            cost = series_steps(components, window_end)
            if cost > MAX_SERIES_STEPS:
                skipped += len(components)
                reasons.append(_reason(uid, "recurrence too frequent to expand"))
                continue
            steps += cost
            if steps > MAX_FEED_STEPS:
                raise FeedError("too many recurring events to expand")
            try:
                intervals.extend(_expand(uid, components, job))
            except Exception:  # noqa: BLE001 - isolate, see module docstring
                found, dropped = _isolate(uid, components, job)
                intervals.extend(found)
                skipped += len(dropped)
                reasons.extend(dropped)
    intervals.sort(key=lambda i: (i.start, i.end, i.uid, i.recurrence_id or ""))
    if len(reasons) > _MAX_REASONS:
        reasons = reasons[:_MAX_REASONS] + [f"... and {len(reasons) - _MAX_REASONS} more"]
    return ImportResult(tuple(intervals), skipped, tuple(reasons))


def _parse_feed(data: bytes) -> tuple[list[Calendar], list[str]]:
    """Parse the feed once; salvage at VEVENT level only if that fails."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("feed data must be bytes")
    body = bytes(data).removeprefix(_BOM).strip()
    if not body:
        raise FeedError("empty feed")
    if not body[:15].upper() == b"BEGIN:VCALENDAR":
        raise FeedError("not iCalendar: no BEGIN:VCALENDAR at the start")
    if not body[-13:].upper() == b"END:VCALENDAR":
        # a cut-off download would silently lose the later events
        raise FeedError("truncated iCalendar: no END:VCALENDAR at the end")
    try:
        calendars = _calendars(Calendar.from_ical(body, multiple=True))
    except Exception:  # noqa: BLE001 - one broken event must not sink the feed
        calendars = []
    # icalendar silently returns nothing (or less) when BEGIN/END do not pair up
    found = sum(1 for cal in calendars for c in cal.subcomponents if c.name == "VEVENT")
    if calendars and found == len(_VEVENT_LINE.findall(body)):
        return calendars, []
    parsed, reasons = _salvage(body.decode("utf-8", errors="replace"))
    calendars = _calendars(parsed)
    if not calendars:
        raise FeedError("no VCALENDAR in the feed")
    return calendars, reasons


def _calendars(components: list[Component]) -> list[Calendar]:
    """The VCALENDARs among parsed top-level components."""
    return [c for c in components if c.name == "VCALENDAR"]


def _salvage(text: str) -> tuple[list[Component], list[str]]:
    """Re-parse without the VEVENT blocks that icalendar cannot parse."""
    skeleton: list[str] = []
    blocks: list[str] = []
    current: list[str] | None = None
    for line in re.split(r"(?<=\n)", text):
        key = line.rstrip().upper()  # folded continuation lines start with a blank
        if current is None and key == "BEGIN:VEVENT":
            current = []
        (skeleton if current is None else current).append(line)
        if current is not None and key == "END:VEVENT":
            blocks.append("".join(current))
            current = None
    good: list[str] = []
    reasons: list[str] = []
    for block in blocks + (["".join(current)] if current else []):
        try:
            Calendar.from_ical(f"BEGIN:VCALENDAR\r\n{block.rstrip()}\r\nEND:VCALENDAR\r\n")
            good.append(block if block.endswith("\n") else block + "\r\n")
        except Exception:  # noqa: BLE001
            uid = _UID_LINE.search(block)
            reasons.append(_reason(uid.group(1).strip() if uid else "?", "unparseable event"))
    ends = [i for i, line in enumerate(skeleton) if line.rstrip().upper() == "END:VCALENDAR"]
    if not ends:
        raise FeedError("no VCALENDAR in the feed")
    rebuilt = "".join(skeleton[: ends[-1]] + good + skeleton[ends[-1]:])
    try:
        return Calendar.from_ical(rebuilt, multiple=True), reasons
    except Exception:  # noqa: BLE001
        raise FeedError("unparseable iCalendar outside the events") from None


def _group_by_uid(calendar: Calendar, suffix: str | None) -> dict[str, list[Component]]:
    """VEVENTs by UID (a series and its overrides), minus Pendel's own."""
    groups: dict[str, list[Component]] = {}
    for component in calendar.subcomponents:
        if component.name != "VEVENT":
            continue
        uid = component.get("UID")
        if uid is None:  # RFC 5545 requires one; a content hash stays stable across syncs
            uid = "no-uid-" + hashlib.sha256(component.to_ical()).hexdigest()[:16]
        uid = storable_uid(str(uid))
        if suffix and uid.endswith(suffix):
            continue
        groups.setdefault(uid, []).append(component)
    return groups


UID_MAX = 500  # busy_blocks.uid
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def storable_uid(uid: str) -> str:
    """A UID as the database can keep it: no control characters (PostgreSQL refuses NUL in text), at most
    UID_MAX characters (a longer one keeps its start and a hash of the whole, so it stays unique and stable)."""
    clean = _CONTROL.sub("", uid)
    if len(clean) <= UID_MAX:
        return clean
    return clean[:UID_MAX - 17] + "-" + hashlib.sha256(uid.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _expand(uid: str, components: list[Component], job: _Job) -> list[BusyInterval]:
    """All busy occurrences of one UID that overlap the window."""
    recurring = any("RRULE" in c or "RDATE" in c or "RECURRENCE-ID" in c for c in components)
    series = _Series([_Event(c) for c in components])
    span = (job.window_start - _QUERY_MARGIN, job.window_end + _QUERY_MARGIN)
    found = (_to_interval(occurrence, uid, recurring, job) for occurrence in series.between(*span))
    return [interval for interval in found if interval is not None]


def _to_interval(occurrence: _Occurrence, uid: str, recurring: bool, job: _Job) -> BusyInterval | None:
    """UTC interval of one occurrence, or None if it is free or outside."""
    source = occurrence.source
    if not source.busy:
        return None
    start, end = occurrence.start, occurrence.end
    if isinstance(start, datetime):
        naive_tz = zone_for_naive(source.event["DTSTART"].params.get("TZID"), job.default_tz)
    elif job.all_day_busy:
        naive_tz = job.default_tz
    else:
        return None
    start_utc = to_utc(start, naive_tz, job.default_tz, job.zones)
    end_utc = to_utc(end, naive_tz, job.default_tz, job.zones)
    if end_utc <= start_utc or start_utc >= job.window_end or end_utc <= job.window_start:
        return None  # zero-length (DTSTART only) or outside the window
    if not recurring:
        return BusyInterval(start_utc, end_utc, uid, None)
    # identity = where the occurrence sat in the series before any move
    prop = source.event.get("RECURRENCE-ID")
    if occurrence.own_time and prop is not None:  # an override: its RECURRENCE-ID
        naive_tz = zone_for_naive(prop.params.get("TZID"), job.default_tz)
        original: date | datetime = prop.dt
    else:  # generated; RANGE=THISANDFUTURE shifts them by move_recurrences_by
        original = start - source.move_recurrences_by
    return BusyInterval(start_utc, end_utc, uid, iso_utc(to_utc(original, naive_tz, job.default_tz, job.zones)))


def _isolate(uid: str, components: list[Component], job: _Job) -> tuple[list[BusyInterval], list[str]]:
    """Slow path: find the broken components of a failed series, keep the rest."""
    good: list[Component] = []
    dropped: list[str] = []
    for component in components:
        try:
            _expand(uid, [component], job)
            good.append(component)
        except Exception as exc:  # noqa: BLE001
            dropped.append(_reason(uid, _describe(component, exc)))
    if good and dropped:
        try:
            return _expand(uid, good, job), dropped
        except Exception:  # noqa: BLE001 - fall through: drop the whole series
            pass
    reason = _reason(uid, "series could not be expanded")
    return [], dropped + [reason] * (len(components) - len(dropped))


def _describe(component: Component, exc: Exception) -> str:
    """A reason built from property names only, never from values."""
    broken = sorted({name for name, _ in getattr(component, "errors", []) if name in _TIME_PROPERTIES})
    if broken:
        return "invalid " + ", ".join(broken)
    return "missing DTSTART" if "DTSTART" not in component else f"unusable times ({type(exc).__name__})"


def _reason(uid: str, what: str) -> str:
    """``UID <uid>: <what>``, with the UID shortened and without control characters."""
    uid = _CONTROL.sub("", uid)
    return f"UID {uid if len(uid) <= 60 else uid[:57] + '...'}: {what}"
