"""What every voice webhook shares: the TwiML response, the line's context, the CallSid."""
from __future__ import annotations

from flask import Response, request
from twilio.twiml.voice_response import VoiceResponse

from core.runtime import current
from telephony import clock
from telephony.ivr_prompts import LineContext

MAX_SID = 64


def twiml(response: VoiceResponse) -> Response:
    return Response(str(response), status=200, mimetype="text/xml")


def line_context() -> LineContext:
    runtime = current()
    return LineContext(settings=runtime.settings, calendar=runtime.workdays, now=clock.now())


def form_sid(name: str = "CallSid") -> str | None:
    """A Twilio sid from the form, or None when missing or implausibly long."""
    sid = (request.form.get(name) or "").strip()
    return sid if sid and len(sid) <= MAX_SID else None


def bad_request() -> Response:
    return Response("Bad request", status=400, mimetype="text/plain")
