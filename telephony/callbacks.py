"""Taking a callback request: the promised window, the case link, one open request per number.

Called by the IVR inside its write transaction, so the request, the IVR
state and the `CallbackRequested` event (notifications sends the
confirmation text from it) commit or roll back together. The IVR takes the
request as soon as the caller has confirmed the number (`take`, with the
safe defaults for what is still to be asked) and again with the answers
when the call is over (`submit`, which also publishes the event).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone, tzinfo
from functools import lru_cache

from sqlalchemy import Insert, bindparam, func, select, update
from sqlalchemy.orm import Session

from core.db import insert_unless_exists, utcnow
from core.events import publish
from core.officehours import OfficeHours
from core.workdays import WorkingDayCalendar
from scheduler.events import CallbackRequested
from scheduler.models import Case, Participant
from telephony.models import OPEN_SQL, OPEN_STATUSES, CallbackRequest

MIDDAY = time(12, 0)


@dataclass(frozen=True)
class Window:
    """When the caller may expect the call, as aware UTC moments."""

    start: datetime
    end: datetime


def callback_window(now: datetime, moment: str, calendar: WorkingDayCalendar, hours: OfficeHours,
                    tz: tzinfo) -> Window:
    """The chosen part of the next working day after today (local): the SLA the queue is held to."""
    day = calendar.next_working_day(now.astimezone(tz).date())
    start, end = hours.opens, hours.closes
    if moment == "morning":
        end = min(MIDDAY, hours.closes)
    elif moment == "afternoon":
        start = max(MIDDAY, hours.opens)
    return Window(_utc(day, start, tz), _utc(day, end, tz))


def _utc(day: date, at: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(timezone.utc)


_CASES, _PARTICIPANTS = Case.__table__, Participant.__table__
# The open case of a participant who called from their own number (the newest if several; none for a
# withheld number): part of the statement that takes the request, so it costs no round trip of its own.
_CALLERS_CASE = (select(_CASES.c.id).join(_PARTICIPANTS, _PARTICIPANTS.c.case_id == _CASES.c.id)
                 .where(_PARTICIPANTS.c.phone == bindparam("caller_phone"), _CASES.c.status != "closed")
                 .order_by(_CASES.c.id.desc()).limit(1).scalar_subquery())


@dataclass(frozen=True)
class Choices:
    """What the caller chose in the IVR."""

    number: str
    number_typed_in: bool
    caller_number: str | None
    language: str
    moment: str
    may_identify: bool
    wants_confirmation: bool
    call_sid: str | None  # None for a request that came from a web page (telephony.web_callbacks)
    # The answers the caller never gave (field names, telephony.models.SAFE_DEFAULTS): their default stands.
    defaulted: tuple[str, ...] = ()


def submit(session: Session, choices: Choices, window: Window) -> int:
    """Take the request (`take`), then publish CallbackRequested: the caller's wishes are final; return its id."""
    request_id = take(session, choices, window)
    publish(session, CallbackRequested(
        callback_id=request_id, caller_number=choices.caller_number, language=choices.language,
        wants_confirmation=choices.wants_confirmation and choices.caller_number is not None,
        window_start=window.start, window_end=window.end))
    return request_id


def take(session: Session, choices: Choices, window: Window) -> int:
    """Create the request, or update the open one for this number; return its id.

    One `INSERT … ON CONFLICT DO NOTHING` against the partial unique index
    (one open request per number) makes a new request; when the number has
    one open already, an `UPDATE` of that row (which locks it) applies the
    latest call's wishes. Should that open row be closed by staff between the
    two statements, the insert is simply tried again.
    """
    conn = session.connection()
    values = {**_values(choices, window), "caller_phone": choices.caller_number}
    for _ in range(3):
        now = utcnow()
        new_id = conn.execute(_insert_statement(conn.dialect.name),
                              {**values, "status": "open", "created_at": now, "updated_at": now}).scalar()
        request_id = new_id if new_id is not None else conn.execute(
            _UPDATE_OPEN, {**values, "updated_at": now, "where_number": choices.number}).scalar()
        if request_id is not None:
            break
    else:
        raise RuntimeError("could not take the callback request: its number kept changing state")
    return request_id


def _values(choices: Choices, window: Window) -> dict[str, object]:
    """The latest call's wishes (a text only ever to the number that called)."""
    return {"number": choices.number, "number_typed_in": choices.number_typed_in,
            "caller_number": choices.caller_number, "language": choices.language, "moment": choices.moment,
            "may_identify": choices.may_identify,
            "wants_confirmation": choices.wants_confirmation and choices.caller_number is not None,
            "call_sid": choices.call_sid, "window_start": window.start, "due_at": window.end,
            "defaulted": ",".join(choices.defaulted) or None}


_TABLE = CallbackRequest.__table__
_OPEN = _TABLE.c.status.in_(OPEN_STATUSES)
# A known case link is never dropped by a later call from another (or a withheld) number.
_UPDATE_OPEN = (update(_TABLE).where(_TABLE.c.number == bindparam("where_number"), _OPEN)
                .values(case_id=func.coalesce(_CALLERS_CASE, _TABLE.c.case_id))
                .returning(_TABLE.c.id))


@lru_cache(maxsize=2)
def _insert_statement(dialect_name: str) -> Insert:
    return (insert_unless_exists(dialect_name, _TABLE, ("number",), ("id",), OPEN_SQL)
            .values(case_id=_CALLERS_CASE))
