"""Twilio's voice webhooks for the phone line: the incoming call and the answers to its questions.

Every request is signed (core.twilio_signature): without Twilio's signature
it gets a 403 and nothing changes. The call's progress lives in the
`ivr_calls` row, locked for the length of the request, so parallel or
retried webhooks for one call are applied one at a time and at most once
(telephony.ivr). Nothing personal reaches the log: no numbers, no keys.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.runtime import current
from core.twilio_signature import twilio_signed
from telephony import ivr
from telephony.models import IvrCall
from telephony.numbers import caller_number
from telephony.twiml_http import bad_request, form_sid, line_context, twiml

log = logging.getLogger(__name__)
voice_bp = Blueprint("voice", __name__)


def _load(session: Session, sid: str) -> tuple[IvrCall, bool]:
    """The call's row, locked; created (True) on the first request for this CallSid."""
    call = session.scalar(select(IvrCall).where(IvrCall.call_sid == sid).with_for_update())
    if call is not None:
        return call, False
    try:
        with session.begin_nested():  # a retried first webhook may insert the same CallSid in parallel
            call = IvrCall(call_sid=sid, caller_number=caller_number(request.form.get("From")), language="nl",
                           step="menu", turn=0, retries=0, number_typed_in=False)
            session.add(call)
        return call, True
    except IntegrityError:
        call = session.scalar(select(IvrCall).where(IvrCall.call_sid == sid).with_for_update())
        if call is None:
            raise
        return call, False


@voice_bp.post("/telephony/voice")
@twilio_signed
def incoming_call() -> Response:
    """A call to the office number: the safety line, the greeting and the menu."""
    sid = form_sid()
    if sid is None:
        return bad_request()
    ctx = line_context()
    with current().db.write_session() as session:
        call, created = _load(session, sid)
        response = ivr.welcome(call, ctx) if created else ivr.current(session, call, ctx)
    log.info("incoming call %s (%s)", sid, "new" if created else "repeat")
    return twiml(response)


@voice_bp.post("/telephony/voice/answer/<int:turn>")
@twilio_signed
def answer(turn: int) -> Response:
    """The caller's key(s) for the question of `turn`; an answer to an older question changes nothing."""
    sid = form_sid()
    if sid is None:
        return bad_request()
    ctx = line_context()
    with current().db.write_session() as session:
        call, created = _load(session, sid)
        if created:  # no state for this call (never seen, or cleaned up): start at the beginning
            response = ivr.welcome(call, ctx)
        elif turn != call.turn:
            response = ivr.current(session, call, ctx)
        else:
            response = ivr.answer(session, call, request.form.get("Digits") or "", ctx)
        step = call.step
    log.info("call %s turn %s: now at %s", sid, turn, step)
    return twiml(response)


@voice_bp.post("/telephony/voice/dialled/<int:turn>")
@twilio_signed
def dialled(turn: int) -> Response:
    """The staff dial of `turn` ended: goodbye if someone took the call, else offer a callback."""
    sid = form_sid()
    if sid is None:
        return bad_request()
    ctx = line_context()
    with current().db.write_session() as session:
        call, created = _load(session, sid)
        if created:
            response = ivr.welcome(call, ctx)
        elif turn != call.turn or call.step != "dialling":
            response = ivr.current(session, call, ctx)
        else:
            response = ivr.after_dial(session, call, ctx)
        step = call.step
    log.info("call %s dial of turn %s over: now at %s", sid, turn, step)
    return twiml(response)
