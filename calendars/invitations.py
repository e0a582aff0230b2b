"""iTIP invitations (RFC 5546 over iMIP, RFC 6047) for one participant at a time.

Built from plain data so the notifications package can attach them to an email
without loading ORM objects. What Outlook, Google Calendar and Apple Calendar
need to treat the attachment as an invitation (and not as a loose file):

- METHOD in the VCALENDAR and the same `method=` on the MIME part (see
  `content_type`); Outlook goes by the METHOD property when they differ, Gmail
  may show neither buttons nor event without the MIME parameter.
- exactly one ORGANIZER and at least one ATTENDEE (REQUEST); DTSTAMP, UID and
  SEQUENCE; STATUS only TENTATIVE/CONFIRMED in a REQUEST and CANCELLED in a CANCEL.
- the same UID for every update and the cancel, with a higher SEQUENCE each time
  (Pendel bumps `version` on every change, cancelling included).
- a VTIMEZONE for every TZID used (Exchange refuses observances without TZOFFSETTO).

Confidentiality: one recipient per invitation, so the ATTENDEE list is that
recipient alone; the other party's address never travels. Title, organiser name
and description are whatever discreet text the caller passes.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import vCalAddress

from calendars.ics_export import EventData, build_vevent, ical_status, new_calendar, serialize

METHODS = ("REQUEST", "CANCEL")


def content_type(method: str) -> str:
    """The MIME type of the text/calendar part; `method` must match METHOD inside."""
    method = _method(method)
    return f'text/calendar; charset="utf-8"; method={method}'


def invitation(
    event: EventData,
    *,
    method: str,
    attendee_email: str,
    attendee_name: str | None,
    organizer_email: str,
    organizer_name: str,
    tz: ZoneInfo,
    uid_domain: str,
    arrival: datetime | None = None,
    rsvp: bool = True,
) -> bytes:
    """An invitation (REQUEST) or cancellation (CANCEL) for one recipient.

    `arrival`, when given, is the recipient's own start time (staggered arrivals
    at a joint meeting keep the parties apart in the waiting room) and becomes
    DTSTART; DTEND stays the appointment's end. `rsvp` asks the client to offer
    accept/decline; replies go to `organizer_email`, so it must be a mailbox the
    office reads.
    """
    method = _method(method)
    status = ical_status(event.status)
    if method == "REQUEST" and status == "CANCELLED":
        raise ValueError("a cancelled appointment is sent with method CANCEL, not REQUEST")
    if method == "CANCEL":
        status = "CANCELLED"
    attendee = _address(attendee_email, "attendee_email")
    organizer = _address(organizer_email, "organizer_email")
    if attendee.lower() == organizer.lower():
        raise ValueError("organizer and attendee must differ: clients ignore invitations from oneself")
    if arrival is not None and arrival.tzinfo is None:
        raise ValueError("arrival must be timezone-aware")

    vevent, years = build_vevent(event, tz=tz, uid_domain=uid_domain, status=status, start=arrival)
    vevent.add("organizer", _cal_address(organizer, organizer_name, {}))
    params = {"CUTYPE": "INDIVIDUAL", "ROLE": "REQ-PARTICIPANT"}
    if method == "REQUEST":
        params |= {"PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE" if rsvp else "FALSE"}
    else:
        params["RSVP"] = "FALSE"
    vevent.add("attendee", _cal_address(attendee, attendee_name, params))

    cal = new_calendar(method)
    cal.add_component(vevent)
    return serialize(cal, tz, years)


def _method(method: str) -> str:
    upper = method.strip().upper()
    if upper not in METHODS:
        raise ValueError(f"invitation method must be one of {METHODS}, got {method!r}")
    return upper


def _address(email: str, what: str) -> str:
    """One plain address: a list or header injection here would leak or break."""
    email = email.strip()
    local, _, domain = email.partition("@")
    if not local or not domain or "@" in domain or any(c in email for c in ' ,;:<>"\r\n\t'):
        raise ValueError(f"{what} must be one plain email address")
    return email


def _cal_address(email: str, name: str | None, params: dict[str, str]) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name and name.strip():
        # Outlook does not decode RFC 6868 (^'), so avoid double quotes altogether.
        address.params["CN"] = " ".join(name.replace('"', "'").split())
    for key, value in params.items():
        address.params[key] = value
    return address
