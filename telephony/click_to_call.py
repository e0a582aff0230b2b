"""Click-to-call: a staff member presses "call" and Twilio rings them first, then the caller.

1. `request_call` (in the API's transaction) checks the request may be
   worked and the staff member has a phone, claims the request, and writes a
   `callback_calls` row. After the commit the API enqueues `place_call_job`.
2. The job asks Twilio to ring the staff member's phone, showing the office
   number, with TwiML at /telephony/voice/callback/<id>/staff (screened:
   "press 1 to call now", so a voicemail never starts a call to a caller).
3. On 1, that leg `<Dial>`s the caller, again showing the office number —
   the staff member's own number is never shown.
4. The caller leg's status callback (and the dial's action, whichever comes
   first) records the attempt; three failures over two working days make
   the request unreachable (telephony.queue).

A job that finds its row no longer "requested" does nothing: a retry never
rings a phone twice. A failed request to Twilio is not retried later: a
phone ringing minutes after the click would surprise the person it rings;
the row says it failed, and the staff member can press "call" again.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException, TwilioRestException

from core.config import Settings
from core.db import Database, utcnow
from core.jobcontext import job_runtime
from core.models import User
from core.problems import Conflict, InvalidInput
from core.twilio_client import make_twilio_client
from telephony.models import CallbackCall, CallbackRequest
from telephony.numbers import office_caller_id
from telephony.queue import callback_for, ensure_may_work

STAFF_RING_SECONDS = 25
# How long a call may sit in each state before it counts as lost (a job that never ran, a final
# status callback Twilio never delivered) and a new "call" is allowed for the request.
STALE_AFTER = {"requested": timedelta(minutes=2), "ringing_staff": timedelta(minutes=5),
               "connecting": timedelta(hours=2)}
STAFF_PATH = "/telephony/voice/callback/{id}/staff"
STATUS_PATH = "/telephony/voice/status?callback_call={id}&leg={leg}"
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
PLACE_JOB = "telephony.click_to_call.place_call_job"
log = logging.getLogger(__name__)


def calling_available(settings: Settings) -> bool:
    """Click-to-call needs a Twilio account and a number to show."""
    return bool(settings.twilio_account_sid and settings.twilio_auth_token
                and office_caller_id(settings.twilio_phone_number, settings.office_phone))


def request_call(session: Session, actor: User, callback_id: int) -> CallbackCall:
    """Claim the request for `actor` and write the call to place; the caller enqueues it after commit."""
    row = callback_for(session, actor, callback_id, lock=True)
    ensure_may_work(row, actor)
    if not actor.phone:
        raise InvalidInput("phone", "your account has no phone number to ring first; add it under your duty settings")
    now = utcnow()
    busy = session.scalar(select(CallbackCall.id).where(
        CallbackCall.callback_id == row.id,
        or_(*[(CallbackCall.state == state) & (CallbackCall.updated_at > now - age)
              for state, age in STALE_AFTER.items()])))
    if busy is not None:
        raise Conflict(f"a call for callback request {row.id} is already under way", call_id=busy)
    row.status, row.assignee_id = "in_progress", actor.id
    call = CallbackCall(callback_id=row.id, user_id=actor.id, state="requested")
    session.add(call)
    session.flush()
    return call


def place_call_job(call_id: int) -> str:
    """Ring the staff member's phone through Twilio; returns the row's state afterwards."""
    runtime = job_runtime()
    settings = runtime.settings
    with runtime.db.write_session() as session:
        call = session.get(CallbackCall, call_id, with_for_update=True)
        if call is None or call.state != "requested":
            return call.state if call is not None else "gone"
        staff = session.get(User, call.user_id) if call.user_id else None
        request = session.get(CallbackRequest, call.callback_id)
        if staff is None or not staff.phone or request is None or request.status not in ("open", "in_progress"):
            call.state, call.error = "failed", "the request or the staff member's phone is gone"
            return call.state
        staff_phone = staff.phone
    base = settings.public_base_url.rstrip("/")
    try:
        placed = make_twilio_client(settings).calls.create(
            to=staff_phone, from_=office_caller_id(settings.twilio_phone_number, settings.office_phone),
            url=base + STAFF_PATH.format(id=call_id), method="POST", timeout=STAFF_RING_SECONDS,
            status_callback=base + STATUS_PATH.format(id=call_id, leg="staff"),
            status_callback_event=STATUS_EVENTS, status_callback_method="POST")
    except (TwilioRestException, TwilioException, OSError, ValueError) as exc:
        return _failed(runtime.db, call_id, _reason(exc))
    with runtime.db.write_session() as session:
        call = session.get(CallbackCall, call_id, with_for_update=True)
        assert call is not None
        call.staff_call_sid = placed.sid
        if call.state == "requested":  # a status callback may have moved it on already
            call.state = "ringing_staff"
        return call.state


def _reason(exc: Exception) -> str:
    """Why Twilio refused, without the number (Twilio's messages quote it)."""
    if isinstance(exc, TwilioRestException):
        return f"Twilio refused the call (HTTP {exc.status}, error {exc.code})"
    return f"could not reach Twilio ({type(exc).__name__})"


def _failed(db: Database, call_id: int, reason: str) -> str:
    with db.write_session() as session:
        call = session.get(CallbackCall, call_id, with_for_update=True)
        if call is not None and call.state == "requested":
            call.state, call.error = "failed", reason
    log.warning("click-to-call %d: %s", call_id, reason)
    return "failed"


def enqueue_place_call(redis: object, call_id: int) -> bool:
    """After the commit: queue the job on the calls queue (ahead of messages). False if Redis is away."""
    from core.queue import queue

    try:
        queue(redis, "calls").enqueue(PLACE_JOB, call_id, job_id=f"call-{call_id}", result_ttl=600,
                                      failure_ttl=24 * 3600, job_timeout=60)
    except Exception:  # noqa: BLE001 - the API reports it; the row is marked failed
        log.warning("click-to-call %d: could not enqueue", call_id)
        return False
    return True
