"""Voice webhooks on the staff side: screening, click-to-call legs and call status callbacks.

All signed like every webhook (core.twilio_signature) and none makes a
network call: they read and write the database and answer TwiML. The
click-to-call routes carry our `callback_calls` id in the path (and the
status callback in the query string, which the signature covers), so a
callback that outruns the job's commit of Twilio's sid still finds its row.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Dial, VoiceResponse

from core.models import User
from core.db import once_more_if_disconnected
from core.runtime import current
from core.twilio_signature import twilio_signed
from telephony import call_status, dialing, ivr, ivr_store
from telephony.ivr_prompts import LineContext, Speaker
from telephony.models import OPEN_STATUSES, CallbackCall, CallbackRequest, IvrCall
from telephony.twiml_http import bad_request, form_sid, line_context, twiml

log = logging.getLogger(__name__)
staff_voice_bp = Blueprint("staff_voice", __name__)
CALLER_RING_SECONDS = 30
CALLBACK_PATH = "/telephony/voice/callback/{id}/{step}"
CALLER_STATUS_PATH = "/telephony/voice/status?callback_call={id}&leg=caller"


@staff_voice_bp.post("/telephony/voice/screen")
@twilio_signed
def screen() -> Response:
    """A staff phone on duty picked up: ask for 1 before the caller is put through (saying if they chose English)."""
    parent = form_sid("ParentCallSid")
    with current().db.session() as session:
        language = session.scalar(select(IvrCall.language).where(IvrCall.call_sid == parent)) if parent else None
    return twiml(dialing.screen(line_context(), english=language == "en"))


@staff_voice_bp.post("/telephony/voice/screen/answer")
@twilio_signed
def screen_answer() -> Response:
    """1 takes the call (recorded on the caller's IVR row); anything else hangs up this phone only."""
    parent = form_sid("ParentCallSid")
    if parent is None:
        return bad_request()
    if (request.form.get("Digits") or "").strip() != "1":
        return twiml(dialing.declined())
    with current().db.write_session() as session:
        call = session.scalar(select(IvrCall).where(IvrCall.call_sid == parent).with_for_update())
        staff_id = session.scalar(select(User.id).where(User.phone == (request.form.get("To") or "").strip()))
        if call is not None and call.accepted_by_id is None and call.step == "dialling":
            call.accepted_by_id = staff_id
        if call is None or staff_id is None:
            log.warning("screened call %s accepted, but %s", parent,
                        "its IVR state is gone" if call is None else "the staff phone matches no account")
    return twiml(dialing.connected(line_context()))


def _callback_url(ctx: LineContext, call_id: int, step: str) -> str:
    return dialing.url(ctx, CALLBACK_PATH.format(id=call_id, step=step))


def _live(session: Session, call_id: int, states: tuple[str, ...],
          lock: bool = False) -> tuple[CallbackCall, CallbackRequest] | None:
    """The click-to-call and its request, if the call is in one of `states` and the request still open."""
    call = call_status.load_call(session, call_id) if lock else session.get(CallbackCall, call_id)
    request_row = session.get(CallbackRequest, call.callback_id) if call is not None else None
    if call is None or request_row is None or request_row.status not in OPEN_STATUSES or call.state not in states:
        return None
    return call, request_row


def _gone(ctx: LineContext) -> Response:
    response = VoiceResponse()
    Speaker(ctx, dialing.STAFF_LANGUAGE).add("callback_gone").into(response)
    response.hangup()
    return twiml(response)


@staff_voice_bp.post("/telephony/voice/callback/<int:call_id>/staff")
@twilio_signed
def callback_staff(call_id: int) -> Response:
    """The staff member answered our call: what to mind on this request, then "press 1 to call"."""
    ctx = line_context()
    with current().db.session() as session:
        live = _live(session, call_id, ("requested", "ringing_staff"))
        if live is None:
            return _gone(ctx)
        request_row = live[1]
        hints = {"number_typed_in": request_row.number_typed_in, "may_identify": request_row.may_identify,
                 "english": request_row.language == "en"}
    return twiml(dialing.screen(ctx, _callback_url(ctx, call_id, "staff/answer"), "callback_screen", **hints))


@staff_voice_bp.post("/telephony/voice/callback/<int:call_id>/staff/answer")
@twilio_signed
def callback_staff_answer(call_id: int) -> Response:
    """1: dial the caller with the office number shown; anything else ends the staff call."""
    ctx = line_context()
    if (request.form.get("Digits") or "").strip() != "1":
        return twiml(dialing.declined())
    with current().db.write_session() as session:
        # "connecting" again: Twilio retried this webhook; the same Dial again, nothing changes.
        live = _live(session, call_id, ("requested", "ringing_staff", "connecting"), lock=True)
        if live is None:
            return _gone(ctx)
        call, request_row = live
        call.state = "connecting"
        number = request_row.number
    response = VoiceResponse()
    Speaker(ctx, dialing.STAFF_LANGUAGE).add("callback_dialling").into(response)
    dial = Dial(timeout=CALLER_RING_SECONDS, caller_id=dialing.caller_id(ctx), method="POST",
                action=_callback_url(ctx, call_id, "done"))
    dial.number(number, status_callback=dialing.url(ctx, CALLER_STATUS_PATH.format(id=call_id)),
                status_callback_event="initiated ringing answered completed", status_callback_method="POST")
    response.append(dial)
    return twiml(response)


@staff_voice_bp.post("/telephony/voice/callback/<int:call_id>/done")
@twilio_signed
def callback_done(call_id: int) -> Response:
    """The call to the caller is over: record how it went (unless the status callback did already)."""
    ctx = line_context()
    runtime = current()
    child, status = form_sid("DialCallSid"), (request.form.get("DialCallStatus") or "").strip()
    with runtime.db.write_session() as session:
        call = call_status.load_call(session, call_id)
        if call is not None and (child is not None or call.caller_call_sid is None):
            call_status.record_outcome(session, call, child, status, runtime.workdays, runtime.settings.tz)
    response = VoiceResponse()
    Speaker(ctx, dialing.STAFF_LANGUAGE).add("callback_ended").into(response)
    response.hangup()
    return twiml(response)


@staff_voice_bp.post("/telephony/voice/status")
@twilio_signed
def status() -> Response:
    """A call status callback: a call to the line, or one leg of a click-to-call. Always 204."""
    sid, state = form_sid(), (request.form.get("CallStatus") or "").strip()
    if sid is None or not state:
        return bad_request()
    runtime = current()
    call_id, leg = request.args.get("callback_call", type=int), request.args.get("leg")
    if call_id is None:
        once_more_if_disconnected(lambda: _inbound_status(sid, state))
    else:
        with runtime.db.write_session() as session:
            call = call_status.load_call(session, call_id)
            if call is not None and leg == "staff":
                call_status.update_staff_leg(session, call, sid, state)
            elif call is not None and leg == "caller":
                call_status.update_caller_leg(session, call, sid, state, runtime.workdays, runtime.settings.tz)
    log.info("call status %s: %s", sid, state)
    return Response(status=204)


def _inbound_status(sid: str, state: str) -> None:
    """A call to the line: its IVR row, locked; a caller who hung up keeps a request they confirmed (telephony.ivr).

    On the phone line's own connections (telephony.voice_views), so done once more when the
    connection turns out gone: the status then no longer moves the call, and nothing changes twice.
    """
    ctx = line_context()
    with current().db.write_connection() as (conn, session):
        call = ivr_store.lock(conn, sid)
        if call is not None:
            before = call.snapshot()
            ivr.status_changed(session, call, state, ctx)
            ivr_store.save(conn, before, call)
