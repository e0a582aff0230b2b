"""Calendar problems in the page's language.

The fetch, the CalDAV adapter, the import and calendars.sources describe a
failure in one fixed English sentence (never an address, a login or event
text), stored as a source's `last_error` or raised on a field. Staff read it
here in their own language: each known sentence, or sentence shape, has its
words; an unknown one is shown as it was recorded rather than hidden.
"""
from __future__ import annotations

import re
from typing import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from calendars.fetch import NOT_ALLOWED
from calendars.sync import SECRET_UNREADABLE

FIXED = {
    "not a valid web address": _l("This is not a valid web address."),
    "only http, https and webcal addresses can be fetched":
        _l("Only addresses starting with http://, https:// or webcal:// can be read."),
    "the web address has no host name": _l("The web address has no server name."),
    "host name not found": _l("The calendar server's name was not found."),
    NOT_ALLOWED: _l("This address is on a private or local network, which Pendel may not read."),
    "a CalDAV address starts with http:// or https://": _l("A CalDAV address starts with http:// or https://."),
    "calendar server sent a compressed answer Pendel cannot read":
        _l("The calendar server sent a compressed answer Pendel cannot read."),
    "calendar server redirected from https to insecure http":
        _l("The calendar server sent Pendel from a secure to an insecure address."),
    "calendar server's TLS certificate is not valid for its name":
        _l("The calendar server's security certificate is not valid."),
    "secure (TLS) connection to the calendar server failed": _l("The secure connection to the calendar server failed."),
    "calendar server refused the connection": _l("The calendar server refused the connection."),
    "calendar server closed the connection or sent an invalid answer":
        _l("The calendar server broke off the connection or sent an invalid answer."),
    "could not connect to the calendar server": _l("Pendel could not connect to the calendar server."),
    "no file has been uploaded": _l("No file has been uploaded."),
    "the source has no address": _l("The calendar has no address."),
    "CalDAV not available": _l("CalDAV calendars cannot be read on this server."),
    SECRET_UNREADABLE: _l("The stored address or password can no longer be read: add the calendar again."),
    "unexpected error while syncing (see the server log)":
        _l("Something unexpected went wrong while reading it (the server log says more)."),
    "database not reachable": _l("The database could not be reached."),
    "the file is empty": _l("The file is empty."),
    "empty feed": _l("The calendar is empty."),
    "not iCalendar: no BEGIN:VCALENDAR at the start": _l("It is not a calendar file (.ics)."),
    "truncated iCalendar: no END:VCALENDAR at the end": _l("The calendar file is incomplete (its end is missing)."),
    "no VCALENDAR in the feed": _l("It holds no calendar."),
    "unparseable iCalendar outside the events": _l("The calendar file is damaged outside its events."),
    "CalDAV address is not an http(s) URL": _l("A CalDAV address starts with http:// or https://."),
    "CalDAV calendar holds an entry that is not valid iCalendar": _l("The CalDAV calendar holds a damaged entry."),
    "CalDAV server could not be reached": _l("The CalDAV server could not be reached."),
    "CalDAV sign-in refused": _l("The CalDAV server refused the user name or password."),
    "CalDAV calendar not found": _l("The CalDAV calendar was not found at this address."),
    "CalDAV server sent an answer that could not be read": _l("The CalDAV server sent an answer Pendel cannot read."),
}


def _http(match: re.Match[str]) -> str:
    code = int(match.group(1))
    if code in (401, 403):
        return _("The calendar server refused access (the link may have expired).")
    if code in (404, 410):
        return _("The calendar was not found at this address (the link may have changed).")
    return _("The calendar server answered with error %(code)s.", code=code)


PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"calendar server answered HTTP (\d+) without a new address"),
     lambda m: _("The calendar server answered with error %(code)s.", code=m.group(1))),
    (re.compile(r"calendar server answered HTTP (\d+)(?:: .*)?"), _http),
    (re.compile(r"calendar took longer than ([\d.]+) s to download"),
     lambda m: _("The calendar took longer than %(seconds)s seconds to download.", seconds=m.group(1))),
    (re.compile(r"calendar server did not answer within ([\d.]+) s"),
     lambda m: _("The calendar server did not answer within %(seconds)s seconds.", seconds=m.group(1))),
    (re.compile(r"CalDAV server timed out after ([\d.]+) s"),
     lambda m: _("The CalDAV server did not answer within %(seconds)s seconds.", seconds=m.group(1))),
    (re.compile(r"(?:calendar|the file) is larger than (.+)"),
     lambda m: _("The calendar is larger than %(size)s.", size=m.group(1))),
    (re.compile(r"not iCalendar \(content type (.*)\)"),
     lambda m: _("The address gives no calendar (it sent %(kind)s).", kind=m.group(1))),
    (re.compile(r"calendar server redirected more than (\d+) times"),
     lambda m: _("The calendar server sent Pendel on more than %(count)s times.", count=m.group(1))),
    (re.compile(r"CalDAV server busy \(HTTP (\d+)\), try again later"),
     lambda m: _("The CalDAV server is busy; Pendel tries again later.")),
    (re.compile(r"CalDAV server answered HTTP (\d+)"),
     lambda m: _("The CalDAV server answered with error %(code)s.", code=m.group(1))),
    (re.compile(r"not a usable iCalendar file: (.*)", re.DOTALL),
     lambda m: _("This is not a usable calendar file: %(why)s", why=problem_words(m.group(1)))),
]


def problem_words(message: str | None) -> str:
    """The recorded English sentence in the page's language (as recorded when it is not a known one)."""
    if not message:
        return ""
    known = FIXED.get(message.strip())
    if known is not None:
        return str(known)
    for pattern, words in PATTERNS:
        found = pattern.fullmatch(message.strip())
        if found:
            return words(found)
    return message
