"""Twilio's voice webhooks for the phone line: the incoming call and the answers to its questions.

Every request is signed (core.twilio_signature): without Twilio's signature
it gets a 403 and nothing changes. The call's progress lives in the
`ivr_calls` row, read and written with plain statements (telephony.ivr_store),
since every key press is a request. An answer to an ordinary question is
applied as its URL says the question was asked and written with one UPDATE
that holds only while the row is still at that question; otherwise (and for
the incoming call, the answers that take the callback request, the end of a
staff dial) the row is read under its lock for the length of the request.
Either way parallel or retried webhooks for one call are applied one at a
time and at most once (telephony.ivr), which is also what makes it safe to
answer a webhook again when its database connection turns out to be gone
(core.db.write_connection skips the pool's ping). Nothing personal reaches
the log: no numbers, no keys.
"""
from __future__ import annotations

import logging
from typing import Callable

from flask import Blueprint, Flask, Response, request
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from core.db import once_more_if_disconnected
from core.runtime import current
from core.twilio_signature import twilio_signed
from telephony import ivr, ivr_store
from telephony.ivr_prompts import MAY_TEXT, LineContext, MayText
from telephony.ivr_store import Asked, CallState
from telephony.numbers import as_sent, caller_number
from telephony.twiml_http import bad_request, form_sid, line_context, twiml

log = logging.getLogger(__name__)
voice_bp = Blueprint("voice", __name__)
Step = Callable[[Session, CallState, LineContext, bool], VoiceResponse]


def texts_allowed_by(app: Flask, may_text: MayText) -> None:
    """Hand the phone line the check "may we text this number?" (the app wires notifications' opt-outs in).

    Asked before a caller is offered a confirmation text, in the webhook's
    transaction; without it every number counts as one we may text.
    """
    app.extensions[MAY_TEXT] = may_text


def _handle(expect_new: bool, step: Step, what: str) -> Response:
    """Load (or start) the call's state under its row lock, apply `step`, save what changed."""
    sid = form_sid()
    if sid is None:
        return bad_request()
    ctx = line_context()
    with current().db.write_connection() as (conn, session):
        call, created = ivr_store.load_or_start(conn, sid, lambda: caller_number(request.form.get("From")),
                                                expect_new)
        before = call.snapshot()
        response = ivr.welcome(call, ctx) if created and not expect_new else step(session, call, ctx, created)
        ivr_store.save(conn, before, call)
    log.info("call %s %s: now at %s%s", sid, what, call.step, " (new)" if created else "")
    return twiml(response, keep=not ivr.reads_back_number(call))


@voice_bp.post("/telephony/voice")
@twilio_signed
def incoming_call() -> Response:
    """A call to the office number: the safety line, the greeting and the menu (once; a retry repeats)."""
    return once_more_if_disconnected(lambda: _handle(
        True, lambda session, call, ctx, created:
        ivr.welcome(call, ctx) if created else ivr.current(session, call, ctx), "incoming"))


@voice_bp.post("/telephony/voice/answer/<int:turn>")
@twilio_signed
def answer(turn: int) -> Response:
    """The caller's key(s) for the question of `turn`; an answer to an older question changes nothing.

    Applied as asked when it can be (`_answer_as_asked`), else to the row read under its lock.
    With no state for this call (never seen, or cleaned up) the caller starts at the beginning.
    """
    digits = request.form.get("Digits") or ""
    return once_more_if_disconnected(lambda: _answer_as_asked(turn, digits) or _handle(
        False, lambda session, call, ctx, _created:
        ivr.answer(session, call, digits, ctx) if turn == call.turn else ivr.current(session, call, ctx),
        f"turn {turn}"))


class _NotAsAsked(Exception):
    """The call's row is no longer as the answered question's URL says."""


def _answer_as_asked(turn: int, digits: str) -> Response | None:
    """The answer applied to the question its URL names, without reading the row (telephony.ivr_store).

    None, having changed nothing, when the URL names no question, when the
    answer may read more than that (it may take the callback request, or
    reads the number or the caller's choices), or when the row is no longer
    as asked (a retried or parallel webhook, or the caller hung up meanwhile).
    """
    sid, asked = form_sid(), Asked.from_query(request.args)
    if sid is None or asked is None:
        return None
    call = ivr_store.as_asked(sid, turn, asked, as_sent(request.form.get("From")))
    if ivr.needs_row(call):
        return None
    before = call.snapshot()
    ctx = line_context()
    try:
        with current().db.write_connection() as (conn, session):
            response = ivr.answer(session, call, digits, ctx)
            if not ivr_store.save_if_asked(conn, before, call):
                raise _NotAsAsked  # rolls back whatever the step did
    except _NotAsAsked:
        return None
    log.info("call %s turn %s: now at %s", sid, turn, call.step)
    return twiml(response, keep=not ivr.reads_back_number(call))


@voice_bp.post("/telephony/voice/dialled/<int:turn>")
@twilio_signed
def dialled(turn: int) -> Response:
    """The staff dial of `turn` ended: goodbye if someone took the call, else offer a callback."""
    return once_more_if_disconnected(lambda: _handle(
        False, lambda session, call, ctx, _created:
        ivr.after_dial(session, call, ctx) if turn == call.turn and call.step == "dialling"
        else ivr.current(session, call, ctx), f"dial of turn {turn} over"))
