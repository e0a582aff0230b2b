"""The phone line's menu as a state machine over the `ivr_calls` row of one call.

Each webhook loads the call's row (locked), applies the key the caller
pressed to the current step, and answers with the next question — so the
flow survives across requests and processes. An answer carries the turn of
the question it answers; one for an older turn (Twilio retried a webhook)
changes nothing and the current question is asked again. After three
failed answers to one question (silence, a wrong key, a number we cannot
call) the caller hears a polite goodbye.

Steps: menu → confirm_number | enter_number → read_back → moment → identify
→ confirmation (only when the caller's own number is known) → done;
ended is the goodbye. During office hours, 1 at the menu goes to dialling
(telephony.dialing): the staff on duty ring; when nobody takes the call,
the caller is offered a callback. The menu never reveals anything about a case.
"""
from __future__ import annotations

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from telephony import dialing
from telephony.callbacks import Choices, callback_window, submit
from telephony.duty import on_duty
from telephony.ivr_prompts import LineContext, Speaker, closing, farewell, question
from telephony.ivr_store import CallState
from telephony.models import CallbackRequest
from telephony.numbers import keyed_number

MAX_FAILURES = 3
MOMENT_KEYS = {"1": "morning", "2": "afternoon", "3": "no_preference"}
YES_NO = {"1": True, "2": False}


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


def may_take_request(call: CallState) -> bool:
    """Whether an answer now may take the callback request (see `answer`), which reads the caller's choices,
    or reads the keyed-in number back.

    Every other answer to a question reads only the step, language, turn,
    failed tries and the calling number, so it can be applied as asked
    (telephony.ivr_store.as_asked) without reading the call's row.
    """
    return call.step in ("confirmation", "read_back") or (call.step == "identify" and not call.caller_number)


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
            return _ask(call, "moment", ctx, speaker)
        return _ask(call, "enter_number", ctx, speaker)
    elif step == "enter_number":
        number = keyed_number(key)
        if number is not None:
            # The caller's own number keyed in is still their own: nobody else's phone is involved.
            call.number, call.number_typed_in = number, number != call.caller_number
            return _ask(call, "read_back", ctx, speaker)
        return _failed(call, ctx, speaker.add("invalid_number"))
    elif step == "read_back" and key in YES_NO:
        if key == "1":  # used only once the caller heard it and said it is right
            return _ask(call, "moment", ctx, speaker)
        call.number, call.number_typed_in = None, False
        return _ask(call, "enter_number", ctx, speaker)
    elif step == "moment" and key in MOMENT_KEYS:
        call.moment = MOMENT_KEYS[key]
        return _ask(call, "identify", ctx, speaker)
    elif step == "identify" and key in YES_NO:
        call.may_identify = YES_NO[key]
        if call.caller_number:  # a text only ever goes to the number that called
            return _ask(call, "confirmation", ctx, speaker)
        call.wants_confirmation = False
        return _finish(session, call, ctx)
    elif step == "confirmation" and key in YES_NO:
        call.wants_confirmation = YES_NO[key]
        return _finish(session, call, ctx)
    elif step in ("done", "ended", "dialling"):
        return current(session, call, ctx)
    return _failed(call, ctx, speaker.add("not_understood"))


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


def _failed(call: CallState, ctx: LineContext, speaker: Speaker) -> VoiceResponse:
    call.retries += 1
    call.turn += 1
    if call.retries >= MAX_FAILURES:
        call.step = "ended"
        return farewell(speaker.add("goodbye"))
    return question(call, ctx, speaker)


def _finish(session: Session, call: CallState, ctx: LineContext) -> VoiceResponse:
    """Take the request (create or update, publish the event) and tell the caller when we call."""
    assert call.number is not None and call.moment is not None and call.may_identify is not None
    window = callback_window(ctx.now, call.moment, ctx.calendar, ctx.hours, ctx.settings.tz)
    request_id = submit(session, Choices(
        number=call.number, number_typed_in=call.number_typed_in, caller_number=call.caller_number,
        language=call.language, moment=call.moment, may_identify=call.may_identify,
        wants_confirmation=bool(call.wants_confirmation), call_sid=call.call_sid), window)
    call.callback_id, call.step, call.retries, call.turn = request_id, "done", 0, call.turn + 1
    return closing(call, ctx, window.start, window.end)
