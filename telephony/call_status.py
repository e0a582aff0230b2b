"""Twilio's call status callbacks, applied so the record ends right whatever their order.

Status callbacks come late, twice, or after a later one (Twilio sends them
from separate workers and retries some). A status is applied only when it
moves the call forward (telephony.queue_rules.status_rank), and the first
final status stays. The outcome of a click-to-call's caller leg is recorded
once, keyed by that leg's CallSid, whether the status callback or the dial's
action reports it first: both lock the `callback_calls` row before looking.
The status of a call to the line itself is the IVR's (telephony.ivr.status_changed).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import User
from core.workdays import WorkingDayCalendar
from telephony import clock
from telephony.models import OPEN_STATUSES, CallbackAttempt, CallbackCall, CallbackRequest
from telephony.queue import record_attempt
from telephony.queue_rules import TERMINAL, moves_forward, outcome_of_call


def load_call(session: Session, call_id: int) -> CallbackCall | None:
    return session.get(CallbackCall, call_id, with_for_update=True)


def update_staff_leg(session: Session, call: CallbackCall, call_sid: str, status: str) -> None:
    """The staff member's phone: ringing, answered, or over (missed if it never went on to the caller)."""
    if call.staff_call_sid is None:
        call.staff_call_sid = call_sid  # the callback beat the job's commit of the sid
    if call_sid != call.staff_call_sid or not moves_forward(call.staff_status, status):
        return
    call.staff_status = status
    if status in TERMINAL and call.state in ("requested", "ringing_staff"):
        call.state = "staff_missed"
    elif status in TERMINAL and call.state == "connecting":
        # Over before the caller's leg reported an end (the staff member hung up during "Ik bel nu",
        # or the caller leg's callbacks are still on their way and will record the attempt): left
        # "connecting", the request could never be called again.
        call.state = "finished"
    elif call.state == "requested":
        call.state = "ringing_staff"


def update_caller_leg(session: Session, call: CallbackCall, call_sid: str, status: str,
                      calendar: WorkingDayCalendar, tz: object) -> None:
    """The caller's phone: once final, the attempt is recorded (once) and the call is finished."""
    if call.caller_call_sid is None:
        call.caller_call_sid = call_sid
    if call_sid != call.caller_call_sid or not moves_forward(call.caller_status, status):
        return
    call.caller_status = status
    if status in TERMINAL:
        record_outcome(session, call, call_sid, status, calendar, tz)


def record_outcome(session: Session, call: CallbackCall, call_sid: str | None, status: str,
                   calendar: WorkingDayCalendar, tz: object) -> CallbackAttempt | None:
    """Record the attempt for the caller leg `call_sid` ended in `status`; nothing if already recorded.

    `call_sid` is None when the dial ended without a caller leg (Twilio refused the number at
    once): the call row's own state then keeps a retried report from counting twice.
    """
    outcome = outcome_of_call(status)
    if outcome is None or (call_sid is None and call.state == "finished"):
        return None
    call.state = "finished"
    if call.caller_call_sid is None:
        call.caller_call_sid = call_sid
    if call_sid is not None:
        existing = session.scalar(select(CallbackAttempt).where(CallbackAttempt.call_sid == call_sid))
        if existing is not None:
            return existing
    request = session.get(CallbackRequest, call.callback_id, with_for_update=True)
    if request is None or request.status not in OPEN_STATUSES:
        return None  # closed meanwhile by staff: their word stands
    staff = session.get(User, call.user_id) if call.user_id else None
    return record_attempt(session, staff, request, outcome, clock.now(), calendar, tz, call_sid=call_sid)
