"""Time-zone helpers for turning iCalendar times into UTC busy intervals.

Pure functions, no I/O. Most of the work is already done by ``icalendar``
while parsing: a TZID is resolved from the feed's own VTIMEZONE block, from
an IANA name, or from an Outlook/Exchange Windows name ("W. Europe Standard
Time" -> Europe/Berlin) through ``icalendar.timezone.windows_to_olson``
(generated from Unicode CLDR ``windowsZones.xml``). We reuse that table
instead of keeping our own copy, so the mapping is updated with the pinned
library.

What is left for us:

* values ``icalendar`` could not resolve come back *naive*. RFC 5545 calls a
  naive value "floating" (same wall-clock time everywhere); for a busy
  calendar the only sensible reading is the source's own zone
  (``default_tz``). A few Exchange-only spellings such as
  ``tzone://Microsoft/Utc`` are mapped first, because reading those as the
  local zone would shift every event by an hour or two.
* all-day (DATE) values cover the local day in ``default_tz`` from midnight to
  midnight; converting through ``ZoneInfo`` keeps the 23- and 25-hour days of
  the DST changes correct.
* icalendar caches a VTIMEZONE it does not know by name (e.g. Outlook's
  "Customized Time Zone") in a process-wide cache, first definition wins. A
  worker that syncs many sources would read the second source's times in the
  first source's zone. ``FeedZones`` re-attaches each feed's own definition.
* Google's ``X-WR-TIMEZONE`` header (UTC times meant as local ones) is applied
  with ``x-wr-timezone``; a header naming no known zone is ignored rather than
  making the whole feed unusable.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import x_wr_timezone
from icalendar import Calendar
from icalendar.timezone import tzp

UTC = timezone.utc

# Exchange writes these without a VTIMEZONE; icalendar does not know them.
_MICROSOFT_PREFIX = "tzone://microsoft/"
_UTC_ALIASES = frozenset({"utc", "gmt", "z", "etc/utc", "etc/gmt", "coordinated universal time"})


@lru_cache(maxsize=256)
def resolve_tzid(tzid: str) -> tzinfo | None:
    """Return the zone a TZID names, or None if nobody knows it.

    The Exchange ``tzone://Microsoft/...`` prefix and UTC aliases are handled
    here; everything else goes to icalendar's own lookup (IANA names, Windows
    names via its CLDR table ``WINDOWS_TO_OLSON``, vendor-prefixed ids).
    Cached: a feed repeats the same handful of TZIDs thousands of times.
    """
    name = tzid.strip().strip('"').strip()
    if not name:
        return None
    if name.lower().startswith(_MICROSOFT_PREFIX):
        name = name[len(_MICROSOFT_PREFIX):]
    if name.lower() in _UTC_ALIASES:
        return UTC
    try:
        found = tzp.timezone(name)
    except (ValueError, KeyError, ZoneInfoNotFoundError, OSError):
        found = None
    return found


def zone_for_naive(tzid: object, default_tz: tzinfo) -> tzinfo:
    """The zone in which to read a naive (floating or unresolved) value.

    ``tzid`` is the TZID parameter of the property the value came from (None
    for a genuinely floating time). Unknown zones fall back to the source's
    zone rather than failing the event: the office's calendars are Dutch, so
    this is right far more often than skipping the event would be.
    """
    if tzid:
        zone = resolve_tzid(str(tzid))
        if zone is not None:
            return zone
    return default_tz


def _is_iana(name: str) -> bool:
    """Whether the zone database knows ``name`` (then icalendar never caches)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


class FeedZones:
    """This feed's own VTIMEZONE definitions, for the TZIDs icalendar caches.

    Built once per feed (about a millisecond per VTIMEZONE). ``fix`` swaps
    the zone object the parser attached (possibly another feed's definition of
    the same TZID) for this feed's one; the wall-clock time is kept, which is
    what the feed meant. Only zone objects made from a VTIMEZONE are swapped:
    a ``ZoneInfo`` is shared by many TZIDs and is correct for its name.
    """

    def __init__(self, calendar: Calendar) -> None:
        self._swap: dict[int, tuple[tzinfo, tzinfo]] = {}
        for component in calendar.walk("VTIMEZONE"):
            tzid = str(component.get("TZID", "")).strip()
            if not tzid or _is_iana(tzid):
                continue
            try:
                parsed_with = tzp.timezone(tzid)
                own = component.to_tz(tzp, lookup_tzid=False)
            except Exception:  # noqa: BLE001 - a bad VTIMEZONE only loses the fix
                continue
            if parsed_with is None or isinstance(parsed_with, ZoneInfo) or own is None:
                continue
            # keep parsed_with referenced so its id() cannot be reused
            self._swap[id(parsed_with)] = (parsed_with, own)

    def fix(self, value: datetime) -> datetime:
        """Return ``value`` in this feed's definition of its zone."""
        if self._swap and value.tzinfo is not None:
            hit = self._swap.get(id(value.tzinfo))
            if hit is not None:
                return value.replace(tzinfo=hit[1])
        return value


def to_utc(
    value: date | datetime, naive_tz: tzinfo, default_tz: tzinfo, zones: FeedZones | None = None
) -> datetime:
    """Convert an iCalendar DATE or DATE-TIME value to an aware UTC datetime.

    Aware values are converted as they are (after ``zones.fix``); naive ones
    are read in ``naive_tz``; a DATE is local midnight in ``default_tz``
    (all-day events follow the source's days, not UTC days).
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            value = value.replace(tzinfo=naive_tz)
        elif zones is not None:
            value = zones.fix(value)
        return value.astimezone(UTC)
    return datetime.combine(value, time(0), tzinfo=default_tz).astimezone(UTC)


def apply_x_wr_timezone(calendar: Calendar) -> Calendar:
    """Google writes UTC times plus X-WR-TIMEZONE: recur in the local zone.

    Without this a weekly 10:00 meeting expanded in UTC would move to 11:00
    local after the spring DST change. An unknown zone name leaves the times
    as they are: the instants are still right, only a series across DST is off.
    """
    header = calendar.get("X-WR-TIMEZONE")
    zone = resolve_tzid(str(header)) if header is not None else None
    if zone is None:
        return calendar
    return x_wr_timezone.to_standard(calendar, timezone=zone)


def iso_utc(value: datetime) -> str:
    """Stable text form of a UTC instant, used as the recurrence id."""
    return value.astimezone(UTC).isoformat()
