"""iCalendar that Pendel writes: the shared pieces and the feeds.

Pure functions over plain data (no ORM, no database, no Flask), so the feed view
and the notifications package can both call them. Invitations live in
`calendars.invitations` and reuse the builders here.

Choices that are not obvious:
- Times are written in the office time zone (TZID=<tz key>) with a VTIMEZONE that
  Pendel builds itself. icalendar 7.3.2's `Timezone.from_tzinfo` writes the
  spring-forward onset as 03:00 with TZOFFSETFROM:+0100, i.e. an hour late for a
  reader that follows RFC 5545 (Outlook does: the DTSTART hour becomes its DST rule),
  and adds a third, no-change STANDARD block; we emit the Outlook/Google/Apple
  shape instead: one STANDARD and one DAYLIGHT with a yearly RRULE.
- A time in the repeated hour of the autumn change (fold=1) cannot be written as
  local time + TZID: RFC 5545 says such a local time means the FIRST occurrence.
  Events touching it are written in UTC, so they still round-trip exactly.
- DTSTAMP and LAST-MODIFIED come from `updated_at`, never from the clock, so the
  same data gives the same bytes (stable ETags, idempotent outbox retries).
- Everything is CLASS:PRIVATE: a calendar shared with a housemate or an assistant
  then shows "busy", not the title.
"""
from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Iterable
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vDuration

PRODID = "-//Pendel//Pendel//NL"
FEED_REFRESH = timedelta(minutes=15)
_EMPTY_FEED_YEAR = 2026

# Pendel's appointment statuses -> RFC 5545 STATUS. Completed and no-show
# appointments did take place in the calendar: they stay CONFIRMED.
ICAL_STATUS = {
    "held": "TENTATIVE",
    "confirmed": "CONFIRMED",
    "completed": "CONFIRMED",
    "no_show": "CONFIRMED",
    "cancelled": "CANCELLED",
}
# Outlook reads this for free/busy in subscribed calendars; our own importer
# treats FREE as not busy, matching STATUS:CANCELLED.
_BUSYSTATUS = {"TENTATIVE": "TENTATIVE", "CONFIRMED": "BUSY", "CANCELLED": "FREE"}
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class EventData:
    """One appointment as the outside world may see it (text already discreet)."""

    appointment_id: int
    version: int  # becomes SEQUENCE (bumped by Pendel on every change)
    start: datetime  # UTC-aware
    end: datetime  # UTC-aware
    status: str  # "held" | "confirmed" | "completed" | "no_show" | "cancelled"
    summary: str  # decided by the caller, e.g. "HB-2026-0001 · intake"
    location: str | None
    description: str | None
    updated_at: datetime  # for DTSTAMP / LAST-MODIFIED


def event_uid(appointment_id: int, uid_domain: str) -> str:
    """The one UID of an appointment, in every feed and invitation, forever.

    Clients match updates and cancellations by UID, and our own importer uses it
    to recognise Pendel's events when they come back through a subscribed calendar.
    """
    return f"appointment-{appointment_id}@{uid_domain}"


def appointment_id_from_uid(uid: str, uid_domain: str) -> int | None:
    """The appointment id in one of our UIDs, or None for anyone else's event."""
    prefix, suffix = "appointment-", f"@{uid_domain}"
    if not (uid.startswith(prefix) and uid.endswith(suffix)):
        return None
    digits = uid[len(prefix) : -len(suffix)]
    return int(digits) if digits.isdigit() else None


def utc(dt: datetime, what: str) -> datetime:
    """`dt` in UTC at whole seconds; naive input is a bug, not a guess."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {dt!r}")
    return dt.astimezone(timezone.utc).replace(microsecond=0)


def ical_status(status: str) -> str:
    try:
        return ICAL_STATUS[status]
    except KeyError:
        raise ValueError(f"unknown appointment status {status!r}") from None


def _in_second_fold(dt: datetime, tz: ZoneInfo) -> bool:
    """True when the local time of `dt` is the repeated (second) one in `tz`."""
    local = dt.astimezone(tz)
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def new_calendar(method: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    return cal


def build_vevent(
    event: EventData, *, tz: ZoneInfo, uid_domain: str, status: str, start: datetime | None = None
) -> tuple[Event, set[int]]:
    """A VEVENT without ORGANIZER/ATTENDEE, and the local years its TZID times fall in.

    `start` overrides DTSTART (a participant's own arrival). The returned years
    are empty when the times had to be written in UTC; the caller sizes the
    VTIMEZONE from them.
    """
    begin = utc(start if start is not None else event.start, "start")
    end = utc(event.end, "end")
    if end <= begin:
        raise ValueError(f"appointment {event.appointment_id}: end must be after start")
    if event.version < 0:
        raise ValueError(f"appointment {event.appointment_id}: version must be >= 0")
    stamp = utc(event.updated_at, "updated_at")
    years: set[int] = set()
    if _in_second_fold(begin, tz) or _in_second_fold(end, tz):
        times = (begin, end)
    else:
        times = (begin.astimezone(tz), end.astimezone(tz))
        years = {t.year for t in times}
    vevent = Event()
    vevent.add("uid", event_uid(event.appointment_id, uid_domain))
    vevent.add("dtstamp", stamp)
    vevent.add("sequence", event.version)
    vevent.add("dtstart", times[0])
    vevent.add("dtend", times[1])
    vevent.add("summary", event.summary)
    if event.location:
        vevent.add("location", event.location)
    if event.description:
        vevent.add("description", event.description)
    vevent.add("status", status)
    vevent.add("transp", "TRANSPARENT" if status == "CANCELLED" else "OPAQUE")
    vevent.add("class", "PRIVATE")
    vevent.add("last-modified", stamp)
    return vevent, years


def serialize(cal: Calendar, tz: ZoneInfo, years: set[int]) -> bytes:
    """Put the VTIMEZONE first (if any time uses TZID) and write CRLF-folded bytes."""
    if years:
        cal.subcomponents.insert(0, office_vtimezone(tz, min(years), max(years)))
    return cal.to_ical()


def feed(events: Iterable[EventData], *, calendar_name: str, tz: ZoneInfo, uid_domain: str) -> bytes:
    """A subscription feed (METHOD:PUBLISH) of a mediator's or a room's appointments.

    Cancelled appointments stay in as STATUS:CANCELLED + TRANSP:TRANSPARENT so
    that subscribers drop them instead of keeping a stale copy. Events are sorted
    so unchanged data gives byte-identical output (If-None-Match). A feed with
    no events still carries the VTIMEZONE: RFC 5545 wants at least one component
    and some subscribers reject an empty VCALENDAR; which years it covers is then
    moot, so a fixed year keeps the function pure.
    """
    cal = new_calendar("PUBLISH")
    cal.add("x-wr-calname", calendar_name)
    cal.add("name", calendar_name)
    cal.add("x-wr-timezone", _tzid(tz))
    cal.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(FEED_REFRESH))  # x-props default to text
    years: set[int] = set()
    for event in sorted(events, key=lambda e: (utc(e.start, "start"), e.appointment_id)):
        status = ical_status(event.status)
        vevent, event_years = build_vevent(event, tz=tz, uid_domain=uid_domain, status=status)
        vevent.add("x-microsoft-cdo-busystatus", _BUSYSTATUS[status])
        cal.add_component(vevent)
        years |= event_years
    return serialize(cal, tz, years or {_EMPTY_FEED_YEAR})


def _tzid(tz: ZoneInfo) -> str:
    if not getattr(tz, "key", None):
        raise ValueError(f"time zone {tz!r} has no IANA name to use as TZID")
    return tz.key


# --- VTIMEZONE ---------------------------------------------------------------

_State = tuple[timedelta, timedelta, str]  # utcoffset, dst, tzname


def _state(tz: ZoneInfo, instant: datetime) -> _State:
    local = instant.astimezone(tz)
    return local.utcoffset() or timedelta(0), local.dst() or timedelta(0), local.tzname() or ""


@lru_cache(maxsize=64)
def _transitions(tz: ZoneInfo, first_year: int, last_year: int) -> tuple[tuple[datetime, _State, _State], ...]:
    """Every (instant UTC, state before, state after) change from first_year to last_year."""
    step = 6 * 3600  # no real zone changes twice within six hours
    t = int(datetime(first_year, 1, 1, tzinfo=timezone.utc).timestamp())
    stop = int(datetime(last_year + 1, 1, 1, tzinfo=timezone.utc).timestamp())
    found = []
    before = _state(tz, _at(t))
    while t < stop:
        nxt = t + step
        after = _state(tz, _at(nxt))
        if after != before:
            lo, hi = t, nxt  # bisect on whole seconds: hi is the first second of `after`
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if _state(tz, _at(mid)) == before else (lo, mid)
            found.append((_at(hi), before, after))
        t, before = nxt, after
    return tuple(found)


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _yearly_rule(onsets: list[datetime]) -> dict | None:
    """An RRULE reproducing these onsets (one per consecutive year), else None."""
    first = onsets[0]
    if len(onsets) < 2 or any(
        (o.month, o.time(), o.weekday(), o.year) != (first.month, first.time(), first.weekday(), first.year + i)
        for i, o in enumerate(onsets)
    ):
        return None
    if all(o.day + 7 > _calendar.monthrange(o.year, o.month)[1] for o in onsets):
        nth = "-1"
    elif len({(o.day - 1) // 7 for o in onsets}) == 1:
        nth = str((first.day - 1) // 7 + 1)
    else:
        return None
    return {"FREQ": "YEARLY", "BYMONTH": first.month, "BYDAY": nth + _WEEKDAYS[first.weekday()]}


def office_vtimezone(tz: ZoneInfo, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE for `tz`, correct for every instant from first_year to last_year.

    Onsets are local times in the offset in force BEFORE the change (RFC 5545
    3.6.5). Starting a year early puts the observance in force on 1 January of
    `first_year` inside the component. A yearly pattern becomes an RRULE (the only
    form Outlook turns into its time-zone rule); anything irregular falls back to
    RDATEs. A rule that is still in force in `last_year` is left open, as tzdata does.
    """
    component = Timezone()
    component.add("tzid", _tzid(tz))
    changes = _transitions(tz, first_year - 1, last_year)
    if not changes:
        offset, dst, name = _state(tz, datetime(first_year, 1, 1, tzinfo=timezone.utc))
        sub = TimezoneDaylight() if dst else TimezoneStandard()
        sub.add("dtstart", datetime(1970, 1, 1))
        sub.add("tzoffsetfrom", offset)
        sub.add("tzoffsetto", offset)
        sub.add("tzname", name or _tzid(tz))
        component.add_component(sub)
        return component
    groups: dict[tuple[timedelta, _State], list[tuple[datetime, datetime]]] = {}
    for instant, before, after in changes:
        onset = (instant + before[0]).replace(tzinfo=None)
        groups.setdefault((before[0], after), []).append((onset, instant))
    for (offset_from, (offset_to, dst, name)), items in groups.items():
        onsets = [onset for onset, _ in items]
        sub = TimezoneDaylight() if dst else TimezoneStandard()
        sub.add("dtstart", onsets[0])
        rule = _yearly_rule(onsets)
        if rule is not None:
            if onsets[-1].year < last_year:
                rule["UNTIL"] = items[-1][1]
            sub.add("rrule", rule)
        elif len(onsets) > 1:
            sub.add("rdate", onsets[1:])
        sub.add("tzoffsetfrom", offset_from)
        sub.add("tzoffsetto", offset_to)
        sub.add("tzname", name or _tzid(tz))
        component.add_component(sub)
    return component

