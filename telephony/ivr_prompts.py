"""The TwiML the caller hears for each step of the menu.

Built with the `twilio` library's VoiceResponse, so every answer is valid
TwiML; the words come from telephony.speech. Each question is a DTMF-only
`<Gather>` whose action carries the question's turn number (see
telephony.models.IvrCall) and the question as asked (telephony.ivr_store.Asked),
and posts even when the caller pressed nothing
(`actionOnEmptyResult`), so silence is handled like a wrong key: asked again,
at most a few times, then a friendly goodbye. Nothing is ever recorded.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Gather, VoiceResponse

from core.config import Settings
from core.officehours import OfficeHours, is_open, next_opening
from core.workdays import WorkingDayCalendar
from telephony.ivr_store import Asked, CallState
from telephony.numbers import last_four
from telephony.speech import digit_groups, say, spoken_day

ANSWER_PATH = "/telephony/voice/answer/{turn}"
SAY_LANGUAGE = {"nl": "nl-NL", "en": "en-GB"}
KEY_TIMEOUT = 8      # seconds of silence before a one-key question counts as unanswered
NUMBER_TIMEOUT = 10  # keying in a whole number takes longer between digits
MAX_NUMBER_DIGITS = 20
# "May we text this number?", asked in the webhook's transaction. Whether a number texted STOP is
# notifications' to know, and telephony imports no notifications: the app hands the check in
# (telephony.voice_views.texts_allowed_by), and line_context() finds it under this key.
MayText = Callable[[Session, str], bool]
MAY_TEXT = "telephony.may_text"


def any_number(_session: Session, _number: str) -> bool:
    """The check when none was handed in (telephony on its own): nothing says a number takes no texts."""
    return True


@dataclass(frozen=True)
class LineContext:
    """What every step needs to know about the line right now."""

    settings: Settings
    calendar: WorkingDayCalendar
    now: datetime
    may_text: MayText = any_number

    @property
    def hours(self) -> OfficeHours:
        return OfficeHours(self.settings.office_opens, self.settings.office_closes)

    @property
    def is_open(self) -> bool:
        return is_open(self.now, self.calendar, self.hours, self.settings.tz)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.settings.tz).date()

    def spoken(self, moment: datetime) -> dict[str, Any]:
        return spoken_day(moment.astimezone(self.settings.tz), self.today)

    def voice(self, language: str) -> str:
        return self.settings.voice_en if language == "en" else self.settings.voice_nl

    def answer_url(self, call: CallState) -> str:
        """Where the answer to the question `call` is at goes: its turn, and the question as asked (ivr_store.Asked)."""
        return (self.settings.public_base_url.rstrip("/") + ANSWER_PATH.format(turn=call.turn)
                + "?" + Asked.of(call).query())


class Speaker:
    """Collects spoken texts for one TwiML answer, each in its own language's voice."""

    def __init__(self, ctx: LineContext, language: str) -> None:
        self.ctx, self.language, self.texts = ctx, language, []  # type: ignore[var-annotated]

    def add(self, name: str, language: str | None = None, **context: Any) -> "Speaker":
        lang = language or self.language
        self.texts.append((say(name, lang, **context), lang))
        return self

    def into(self, target: VoiceResponse | Gather) -> None:
        for text, lang in self.texts:
            target.say(text, voice=self.ctx.voice(lang), language=SAY_LANGUAGE[lang])


def question(call: CallState, ctx: LineContext, speaker: Speaker, lead: Speaker | None = None) -> VoiceResponse:
    """Ask the current step's question after whatever `speaker` already holds.

    `lead` is said before the question and cannot be cut short by a key (the safety line).
    """
    step = call.step
    if step == "menu":
        if call.language == "nl":
            speaker.add("english_offer", "en")
        if ctx.is_open:
            speaker.add("menu_open")
        else:
            opening = next_opening(ctx.now, ctx.calendar, ctx.hours, ctx.settings.tz)
            speaker.add("menu_closed", opening=ctx.spoken(opening))
    elif step == "confirm_number":
        speaker.add("confirm_number", last_four=last_four(call.caller_number or ""))
    elif step == "read_back":
        speaker.add("read_back", groups=digit_groups(call.number or ""))
    elif step in ("enter_number", "moment", "identify", "confirmation"):
        speaker.add(step)
    else:
        raise ValueError(f"not a question step: {step}")
    response = VoiceResponse()
    if lead is not None:
        lead.into(response)
    if step == "enter_number":
        gather = Gather(input="dtmf", finish_on_key="#", timeout=NUMBER_TIMEOUT, action=ctx.answer_url(call),
                        method="POST", action_on_empty_result=True)
    else:
        gather = Gather(input="dtmf", num_digits=1, timeout=KEY_TIMEOUT, action=ctx.answer_url(call),
                        method="POST", action_on_empty_result=True)
    speaker.into(gather)
    response.append(gather)
    return response


def farewell(speaker: Speaker) -> VoiceResponse:
    """Say what `speaker` holds, then hang up."""
    response = VoiceResponse()
    speaker.into(response)
    response.hangup()
    return response


def closing(call: CallState, ctx: LineContext, window_start: datetime, window_end: datetime,
            speaker: Speaker | None = None) -> VoiceResponse:
    """Tell the caller when to expect the call, and end."""
    speaker = speaker or Speaker(ctx, call.language)
    speaker.add("closing", start=ctx.spoken(window_start), end=ctx.spoken(window_end))
    return farewell(speaker)
