"""The phone line's menu as a state machine over the `ivr_calls` row of one call.

Each webhook loads the call's row (locked), applies the key the caller
pressed to the current step, and answers with the next question — so the
flow survives across requests and processes. An answer carries the turn of
the question it answers; one for an older turn (Twilio retried a webhook)
changes nothing and the current question is asked again. After three
failed answers to one question (silence, a wrong key, a number we cannot
call) the caller hears a polite goodbye.

Steps: menu → confirm_number | enter_number → read_back → moment →
identify → confirmation (only when the caller's own number is known and
may be texted) → done; ended is the goodbye. During office hours, 1 at the
menu goes to dialling (telephony.dialing): the staff on duty ring; when
nobody takes the call, the caller is offered a callback. The menu never
reveals anything about a case.

Once the caller has confirmed the number to call (their own, or a keyed-in
one read back to them), the request exists: it is taken then with the safe
defaults (telephony.models.SAFE_DEFAULTS) for the questions still to come,
and taken again with the answers when the call is over — the last answer,
three failed tries at a later question (then the defaults stand), or
Twilio's status callback saying the caller hung up (`status_changed`).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from telephony import dialing
from telephony.callbacks import Choices, Window, callback_window, submit, take
from telephony.duty import on_duty
from telephony.ivr_prompts import LineContext, Speaker, closing, farewell, question
from telephony.ivr_store import CallState
from telephony.models import SAFE_DEFAULTS, CallbackRequest
from telephony.numbers import keyed_number
from telephony.queue_rules import TERMINAL, moves_forward

MAX_FAILURES = 3
MOMENT_KEYS = {"1": "morning", "2": "afternoon", "3": "no_preference"}
YES_NO = {"1": True, "2": False}
# The questions after the number: at these the request exists already (see the module's docstring).
AFTER_NUMBER = ("moment", "identify", "confirmation")
# Answers here read more than the question's URL names (the number read back or taken, the caller's choices).
_READ_THE_ROW = frozenset({"confirm_number", "read_back", "identify", "confirmation"})


def welcome(call: CallState, ctx: LineContext) -> VoiceResponse:
    """The first thing a caller hears: the safety line, the greeting, the menu."""
    return question(call, ctx, Speaker(ctx, call.language).add("greeting"),
                    lead=Speaker(ctx, call.language).add("safety"))


def current(session: Session, call: CallState, ctx: LineContext) -> VoiceResponse:
    """The current step again, unchanged (a replayed or out-of-date answer)."""
    if call.step == "menu" and call.turn == 0:
        # Nothing answered yet: the first webhook again (Twilio's retry, or ours after a lost commit),
        # so the caller hears the safety line and the greeting again, not the bare menu.
        return welcome(call, ctx)
    speaker = Speaker(ctx, call.language)
    if call.step == "done":
        request = session.get(CallbackRequest, call.callback_id) if call.callback_id else None
        if request is not None:
            return closing(call, ctx, request.window_start, request.due_at)
        call.step = "ended"
    if call.step == "ended":
        if call.accepted_by_id is not None:  # a staff member took the call: end as the first answer did
            return _hang_up()
        return farewell(speaker.add("goodbye"))
    if call.step == "dialling":
        return _ring(session, call, ctx, speaker)
    return question(call, ctx, speaker)


def needs_row(call: CallState) -> bool:
    """Whether an answer now may read more of the call than its question's URL names (see `answer`).

    Those take the callback request, or read the number or the caller's
    choices. Every other answer to a question reads only the step,
    language, turn, failed tries and the calling number, so it can be
    applied as asked (telephony.ivr_store.as_asked) without reading the row.
    """
    if call.step in _READ_THE_ROW:
        return True
    return call.step == "moment" and call.retries + 1 >= MAX_FAILURES  # a last failure takes the request


def reads_back_number(call: CallState) -> bool:
    """Whether the answer for `call` says a whole keyed-in number (it must not be kept in any cache)."""
    return call.step == "read_back"


def answer(session: Session, call: CallState, digits: str, ctx: LineContext) -> VoiceResponse:
    """Apply the caller's key(s) to the current step and move on (or ask again)."""
    speaker = Speaker(ctx, call.language)
    step, key = call.step, digits.strip()
    if step == "menu":
        if key == "9" and call.language == "nl":
            call.language = "en"  # the whole welcome again in English, the safety line first
            return _ask(call, "menu", ctx, Speaker(ctx, "en").add("greeting"), lead=Speaker(ctx, "en").add("safety"))
        if key == "1" and ctx.is_open:
            call.step, call.retries, call.turn = "dialling", 0, call.turn + 1
            return _ring(session, call, ctx, speaker)
        if key in ("1", "2"):
            return _begin_callback(call, ctx, speaker)
    elif step == "confirm_number" and key in YES_NO:
        if key == "1" and call.caller_number:
            call.number, call.number_typed_in = call.caller_number, False
            return _number_confirmed(session, call, ctx, speaker)
        return _ask(call, "enter_number", ctx, speaker)
    elif step == "enter_number":
        number = keyed_number(key)
        if number is not None:
            # The caller's own number keyed in is still their own: nobody else's phone is involved.
            call.number, call.number_typed_in = number, number != call.caller_number
            return _ask(call, "read_back", ctx, speaker)
        return _failed(session, call, ctx, speaker.add("invalid_number"))
    elif step == "read_back" and key in YES_NO:
        if key == "1":
            return _number_confirmed(session, call, ctx, speaker)
        call.number, call.number_typed_in = None, False
        return _ask(call, "enter_number", ctx, speaker)
    elif step == "moment" and key in MOMENT_KEYS:
        call.moment = MOMENT_KEYS[key]
        return _onward(session, call, ctx, speaker, "identify")
    elif step == "identify" and key in YES_NO:
        call.may_identify = YES_NO[key]
        return _after_identify(session, call, ctx, speaker)
    elif step == "confirmation" and key in YES_NO:
        call.wants_confirmation = YES_NO[key]
        return _finish(session, call, ctx)
    elif step in ("done", "ended", "dialling"):
        return current(session, call, ctx)
    return _failed(session, call, ctx, speaker.add("not_understood"))


def status_changed(session: Session, call: CallState, status: str, ctx: LineContext) -> None:
    """Twilio's status of the call, kept when it moves forward; when the call is over, the request stands.

    A caller who hung up after confirming the number gets the request with
    what they answered and the safe defaults for the rest — once: only the
    first final status moves the call, a retried one changes nothing. The
    step stays, so an answer still on its way (Twilio posts a pressed key
    and the status independently) is applied and takes the request again.
    """
    if not moves_forward(call.call_status, status):
        return
    call.call_status = status
    if status in TERMINAL and call.step in AFTER_NUMBER:
        _take(session, call, ctx, final=True)


def after_dial(session: Session, call: CallState, ctx: LineContext) -> VoiceResponse:
    """The staff dial is over: the call was taken (end), or nobody took it (offer a callback)."""
    if call.accepted_by_id is not None:
        call.step, call.turn = "ended", call.turn + 1
        return _hang_up()
    return _begin_callback(call, ctx, Speaker(ctx, call.language).add("nobody_available"))


def _hang_up() -> VoiceResponse:
    response = VoiceResponse()
    response.hangup()
    return response


def _ring(session: Session, call: CallState, ctx: LineContext, speaker: Speaker) -> VoiceResponse:
    # Without an office number to show, Twilio would show the caller's own number on staff phones.
    staff = on_duty(session) if dialing.caller_id(ctx) else []
    if not staff:
        return _begin_callback(call, ctx, speaker.add("nobody_available"))
    return dialing.ring_staff(call, ctx, staff, speaker)


def _ask(call: CallState, step: str, ctx: LineContext, speaker: Speaker,
         lead: Speaker | None = None) -> VoiceResponse:
    call.step, call.retries, call.turn = step, 0, call.turn + 1
    return question(call, ctx, speaker, lead)


def _begin_callback(call: CallState, ctx: LineContext, speaker: Speaker) -> VoiceResponse:
    return _ask(call, "confirm_number" if call.caller_number else "enter_number", ctx, speaker)


def _number_confirmed(session: Session, call: CallState, ctx: LineContext, speaker: Speaker) -> VoiceResponse:
    """The number to call is confirmed: from now on the request exists, whatever happens next."""
    _take(session, call, ctx, final=False)
    return _onward(session, call, ctx, speaker, "moment")


def _onward(session: Session, call: CallState, ctx: LineContext, speaker: Speaker, step: str) -> VoiceResponse:
    """The next question after the number; or, when the caller has hung up meanwhile, the request as it stands."""
    if call.call_status in TERMINAL:
        return _finish(session, call, ctx)
    return _ask(call, step, ctx, speaker)


def _after_identify(session: Session, call: CallState, ctx: LineContext, speaker: Speaker) -> VoiceResponse:
    """Offer a confirmation text only to the number that called, and only when it takes our texts."""
    if call.caller_number is None:
        call.wants_confirmation = False
        return _finish(session, call, ctx)
    if not ctx.may_text(session, call.caller_number):  # it texted STOP: promise nothing the outbox would skip
        call.wants_confirmation = False
        return _finish(session, call, ctx, speaker.add("texts_off"))
    return _onward(session, call, ctx, speaker, "confirmation")


def _failed(session: Session, call: CallState, ctx: LineContext, speaker: Speaker) -> VoiceResponse:
    call.retries += 1
    if call.retries < MAX_FAILURES:
        call.turn += 1
        return question(call, ctx, speaker)
    if call.step in AFTER_NUMBER:  # the number is confirmed: the request stands, with the safe defaults
        return _finish(session, call, ctx, speaker.add("defaults_kept"))
    call.step, call.turn = "ended", call.turn + 1
    return farewell(speaker.add("goodbye"))


def _take(session: Session, call: CallState, ctx: LineContext, final: bool) -> Window:
    """Take the request as the caller left it: their answers, and the safe default for each one not given.

    `final`: the call's part is over, so the event goes out (notifications sends the text from it).
    """
    assert call.number is not None
    given = {"moment": call.moment, "may_identify": call.may_identify, "wants_confirmation": call.wants_confirmation}
    if call.caller_number is None:  # never asked: a text only ever goes to the number that called
        given["wants_confirmation"] = False
    chosen: dict[str, Any] = {name: SAFE_DEFAULTS[name] if value is None else value for name, value in given.items()}
    window = callback_window(ctx.now, chosen["moment"], ctx.calendar, ctx.hours, ctx.settings.tz)
    choices = Choices(number=call.number, number_typed_in=call.number_typed_in, caller_number=call.caller_number,
                      language=call.language, moment=chosen["moment"], may_identify=chosen["may_identify"],
                      wants_confirmation=chosen["wants_confirmation"], call_sid=call.call_sid,
                      defaulted=tuple(name for name, value in given.items() if value is None))
    call.callback_id = (submit if final else take)(session, choices, window)
    return window


def _finish(session: Session, call: CallState, ctx: LineContext, speaker: Speaker | None = None) -> VoiceResponse:
    """Take the request (create or update, publish the event) and tell the caller when we call."""
    window = _take(session, call, ctx, final=True)
    call.step, call.retries, call.turn = "done", 0, call.turn + 1
    return closing(call, ctx, window.start, window.end, speaker)
