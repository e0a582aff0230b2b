"""Option 1 during office hours: ring the staff on duty together, screened.

The caller's call `<Dial>`s every on-duty phone at once with a timeout. Each
staff leg first runs the screening TwiML (the `url` of its `<Number>`):
"press 1 to take the call". Only a key press connects, so a personal
voicemail that picks up never takes the call — it hears the question,
presses nothing, and its leg hangs up while the others keep ringing.

Whether someone accepted is recorded on the caller's `ivr_calls` row (the
staff leg's ParentCallSid), not read from Twilio's DialCallStatus: that is
what the dial's action uses to decide between "goodbye" and "nobody could
take your call, we will call you back". Every call we place shows the office
number, so staff phones never keep a caller's number in their call log.
"""
from __future__ import annotations

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from core.models import User
from telephony.ivr_prompts import LineContext, Speaker
from telephony.ivr_store import CallState
from telephony.numbers import office_caller_id

RING_SECONDS = 20      # how long the staff phones ring before the caller is offered a callback
SCREEN_SECONDS = 8     # how long the staff member has to press 1
DIALLED_PATH = "/telephony/voice/dialled/{turn}"
SCREEN_PATH = "/telephony/voice/screen"
SCREEN_ANSWER_PATH = "/telephony/voice/screen/answer"
STAFF_LANGUAGE = "nl"  # the office works in Dutch


def caller_id(ctx: LineContext) -> str | None:
    return office_caller_id(ctx.settings.twilio_phone_number, ctx.settings.office_phone)


def url(ctx: LineContext, path: str) -> str:
    return ctx.settings.public_base_url.rstrip("/") + path


def ring_staff(call: CallState, ctx: LineContext, staff: list[User], speaker: Speaker) -> VoiceResponse:
    """Tell the caller we connect them, then ring every on-duty phone together."""
    speaker.add("connecting")
    response = VoiceResponse()
    speaker.into(response)
    dial = Dial(timeout=RING_SECONDS, action=url(ctx, DIALLED_PATH.format(turn=call.turn)), method="POST",
                caller_id=caller_id(ctx))
    for person in staff:
        assert person.phone is not None
        dial.number(person.phone, url=url(ctx, SCREEN_PATH), method="POST")
    response.append(dial)
    return response


def screen(ctx: LineContext, action: str | None = None, text: str = "staff_screen",
           **hints: object) -> VoiceResponse:
    """What a staff phone hears when it picks up: press 1 (to take the call, or to call back); silence hangs up."""
    response = VoiceResponse()
    gather = Gather(input="dtmf", num_digits=1, timeout=SCREEN_SECONDS,
                    action=action or url(ctx, SCREEN_ANSWER_PATH), method="POST")
    Speaker(ctx, STAFF_LANGUAGE).add(text, **hints).into(gather)
    response.append(gather)
    response.hangup()
    return response


def connected(ctx: LineContext) -> VoiceResponse:
    """The staff member pressed 1: a word, then Twilio bridges the two legs."""
    response = VoiceResponse()
    Speaker(ctx, STAFF_LANGUAGE).add("staff_connected").into(response)
    return response


def declined() -> VoiceResponse:
    """Any other key: this leg hangs up; the other phones keep ringing."""
    response = VoiceResponse()
    response.hangup()
    return response
