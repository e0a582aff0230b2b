"""Read a CalDAV calendar's events in the sync window as ONE iCalendar document.

Why one document: ``calendars.ics_import.parse_busy`` takes a single feed and
does all recurrence expansion, zone handling and busy filtering, so a CalDAV
source and an ICS URL end up in exactly the same code. CalDAV returns one
resource per UID (master, overrides and the VTIMEZONEs it uses); we merge the
VEVENTs and the VTIMEZONEs (once per TZID) into a fresh VCALENDAR.

Choices that matter:

* The REPORT asks for unexpanded events (we expand ourselves) and the
  caldav library's client-side ``post_filter`` is off: it keeps only the
  components of a resource that match the range, which can drop an override
  that moved out of the window and so bring the original occurrence back.
  The server compares floating times and dates as UTC, so the range we send
  is one day wider on each side; ``parse_busy`` does the exact cut.
* The merge is textual, block by block: a VEVENT with a broken property is
  passed on as the server sent it, so ``parse_busy`` skips and counts it
  instead of one bad entry sinking the calendar (a resource whose BEGIN/END
  structure is broken cannot be cut into blocks and fails the fetch).
* Every request gets ``timeout`` as its connect and read timeout: the library
  hands ``DAVClient.timeout`` to niquests (or requests) on each call. It is a
  per-read limit, not a deadline for the whole fetch.
* Failures become ``SourceError`` with a fixed, staff-fit message; the
  library's own exception (which quotes the URL) is not chained. The caldav
  logger is silenced here: it logs response bodies at DEBUG and iCalendar
  diffs at WARNING, i.e. other people's event text.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from caldav import DAVClient
from caldav.lib import error as dav_error
from caldav.lib.http_sync import requests as http_library

from calendars.errors import SourceError

_log = logging.getLogger(__name__)
logging.getLogger("caldav").setLevel(logging.CRITICAL + 1)  # event text, see module docstring

# Dates and floating times are compared by the server as if they were UTC.
_SERVER_MARGIN = timedelta(days=1)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_UNFOLD = re.compile(r"\r\n[ \t]")
_TZID = re.compile(r"^TZID(?:;[^:\r\n]*)?:(.*)$", re.IGNORECASE | re.MULTILINE)
_X_WR_TIMEZONE = re.compile(r"^X-WR-TIMEZONE(?:;[^:\r\n]*)?:(.*)$", re.IGNORECASE | re.MULTILINE)
_PRODID = "-//Pendel//CalDAV busy time//NL"


class _BrokenResource(Exception):
    """A calendar object whose BEGIN/END structure cannot be cut into components."""


def fetch_caldav(url: str, username: str | None, password: str | None,
                 window_start: datetime, window_end: datetime, timeout: float) -> bytes:
    """The window's VEVENTs (unexpanded) and their VTIMEZONEs as one VCALENDAR.

    ``url`` is the calendar collection. Raises ``SourceError`` (message names
    the failure, never the URL, username or event text) for anything the
    server or the network does; ``ValueError`` for a bad window or timeout.
    """
    if window_start.tzinfo is None or window_end.tzinfo is None or window_end <= window_start:
        raise ValueError("window bounds must be timezone-aware and window_end after window_start")
    if not timeout > 0:
        raise ValueError("timeout must be positive")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise SourceError("CalDAV address is not an http(s) URL")
    try:
        resources = _report(url, username, password, window_start, window_end, timeout)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a staff-fit message
        message = _describe(exc, timeout)
        _log.warning("CalDAV fetch failed: %s (%s)", message, type(exc).__name__)
        raise SourceError(message) from None
    try:
        document = _merge(resources)
    except _BrokenResource:
        message = "CalDAV calendar holds an entry that is not valid iCalendar"
        _log.warning("CalDAV fetch failed: %s", message)
        raise SourceError(message) from None
    _log.debug("CalDAV fetch: %d calendar objects, %d bytes", len(resources), len(document))
    return document


def _report(url: str, username: str | None, password: str | None,
            window_start: datetime, window_end: datetime, timeout: float) -> list[str]:
    """One calendar-query REPORT (plus the library's auth round trip); the objects' text."""
    # No RFC 6764 discovery: the URL is the calendar itself, and discovery
    # would make DNS and well-known requests to hosts nobody configured.
    # rate_limit_handle=False: a 429/503 with Retry-After fails now instead
    # of sleeping as long as the server asks; the next scheduled sync retries.
    client = DAVClient(url=url, username=username, password=password, timeout=timeout,
                       enable_rfc6764=False, rate_limit_handle=False)
    try:
        calendar = client.calendar(url=url)
        found = calendar.search(start=window_start - _SERVER_MARGIN, end=window_end + _SERVER_MARGIN,
                                event=True, expand=False, post_filter=False)
        return [str(item.data) for item in found if item.data]
    finally:
        client.close()


def _describe(exc: BaseException, timeout: float) -> str:
    """What went wrong, in words fit for staff; the library's text quotes the URL."""
    exceptions = http_library.exceptions
    if isinstance(exc, (exceptions.Timeout, TimeoutError)):
        return f"CalDAV server timed out after {timeout:g} s"
    if isinstance(exc, exceptions.ConnectionError):
        return "CalDAV server could not be reached"
    if isinstance(exc, dav_error.DAVError):
        status = getattr(exc, "status", None)
        if isinstance(exc, dav_error.AuthorizationError) or status in (401, 403):
            return "CalDAV sign-in refused"
        if isinstance(exc, dav_error.NotFoundError) or status in (404, 410):
            return "CalDAV calendar not found"
        if isinstance(exc, dav_error.RateLimitError):
            return f"CalDAV server busy (HTTP {status or 429}), try again later"
        if isinstance(status, int) and status >= 300:
            return f"CalDAV server answered HTTP {status}"
    elif isinstance(exc, (exceptions.RequestException, OSError)):
        return "CalDAV server could not be reached"
    return "CalDAV server sent an answer that could not be read"


def _merge(resources: list[str]) -> bytes:
    """One VCALENDAR: every VEVENT, each VTIMEZONE once (first definition per TZID wins)."""
    zones: dict[str, list[str]] = {}
    events: list[list[str]] = []
    wr_zones: set[str] = set()
    for text in resources:
        blocks, header = _top_level(text)
        wr_zones.update(m.group(1).strip() for m in _X_WR_TIMEZONE.finditer(header))
        for name, lines in blocks:
            if name == "VEVENT":
                events.append(lines)
            elif name == "VTIMEZONE":
                match = _TZID.search(_UNFOLD.sub("", "\r\n".join(lines)))
                zones.setdefault(match.group(1).strip() if match else "\n".join(lines), lines)
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{_PRODID}"]
    if len(wr_zones) == 1:  # Google's calendar-wide zone; ambiguous if the objects disagree
        out.append(f"X-WR-TIMEZONE:{wr_zones.pop()}")
    for lines in [*zones.values(), *events]:
        out.extend(lines)
    out.append("END:VCALENDAR")
    return ("\r\n".join(out) + "\r\n").encode("utf-8")


def _top_level(text: str) -> tuple[list[tuple[str, list[str]]], str]:
    """The components directly inside each VCALENDAR, and the calendars' own property lines."""
    blocks: list[tuple[str, list[str]]] = []
    header: list[str] = []
    stack: list[str] = []
    current: list[str] | None = None
    calendars = 0
    for line in _LINE_BREAK.split(text.removeprefix("\ufeff")):
        key = line.rstrip().upper()  # a folded continuation starts with a blank: never a key
        if key.startswith("BEGIN:"):
            if not stack and key != "BEGIN:VCALENDAR":
                raise _BrokenResource
            if len(stack) == 1:
                current = []
            calendars += not stack
            stack.append(key[6:])
        if current is not None:
            current.append(line)
        elif len(stack) == 1 and line and not key.startswith(("BEGIN:", "END:")):
            header.append(line)
        if key.startswith("END:"):
            if not stack or stack.pop() != key[4:]:
                raise _BrokenResource
            if len(stack) == 1 and current is not None:
                blocks.append((current[0].rstrip().upper()[6:], current))
                current = None
    if stack or not calendars:
        raise _BrokenResource
    return blocks, _UNFOLD.sub("", "\r\n".join(header))
