"""Taking a callback request: the promised window, the case link, one open request per number.

Called by the IVR inside its write transaction, so the request, the IVR
state and the `CallbackRequested` event (notifications sends the
confirmation text from it) commit or roll back together.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone, tzinfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.events import publish
from core.officehours import OfficeHours
from core.workdays import WorkingDayCalendar
from scheduler.events import CallbackRequested
from scheduler.models import Case, Participant
from telephony.models import OPEN_STATUSES, CallbackRequest

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


def linked_case_id(session: Session, caller: str | None) -> int | None:
    """The open case of a participant who called from their own number (newest case if several)."""
    if caller is None:
        return None
    return session.scalar(select(Case.id).join(Participant, Participant.case_id == Case.id)
                          .where(Participant.phone == caller, Case.status != "closed")
                          .order_by(Case.id.desc()).limit(1))


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
    call_sid: str


def submit(session: Session, choices: Choices, window: Window) -> CallbackRequest:
    """Create the request, or update the open one for this number; publish CallbackRequested."""
    case_id = linked_case_id(session, choices.caller_number)
    row = _open_for(session, choices.number)
    if row is None:
        try:
            with session.begin_nested():  # a parallel call from the same number may win the unique index
                row = CallbackRequest(number=choices.number, status="open")
                _apply(row, choices, window, case_id)
                session.add(row)
        except IntegrityError:
            row = _open_for(session, choices.number)
            if row is None:
                raise
            _apply(row, choices, window, case_id)
    else:
        _apply(row, choices, window, case_id)
    session.flush()
    publish(session, CallbackRequested(
        callback_id=row.id, caller_number=choices.caller_number, language=choices.language,
        wants_confirmation=choices.wants_confirmation and choices.caller_number is not None,
        window_start=window.start, window_end=window.end))
    return row


def _open_for(session: Session, number: str) -> CallbackRequest | None:
    return session.scalar(select(CallbackRequest).where(CallbackRequest.number == number,
                                                        CallbackRequest.status.in_(OPEN_STATUSES))
                          .with_for_update())


def _apply(row: CallbackRequest, choices: Choices, window: Window, case_id: int | None) -> None:
    """The latest call's wishes win; a known case link is never dropped by a later anonymous call."""
    row.number_typed_in = choices.number_typed_in
    row.caller_number = choices.caller_number
    row.language = choices.language
    row.moment = choices.moment
    row.may_identify = choices.may_identify
    row.wants_confirmation = choices.wants_confirmation and choices.caller_number is not None
    row.call_sid = choices.call_sid
    row.window_start = window.start
    row.due_at = window.end
    if case_id is not None:
        row.case_id = case_id
