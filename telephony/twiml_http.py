"""What every voice webhook shares: the TwiML response, the line's context, the CallSid."""
from __future__ import annotations

from typing import Any, Hashable

from flask import Response, current_app, request
from twilio.twiml import TwiML
from twilio.twiml.voice_response import VoiceResponse

from core.runtime import current
from telephony import clock
from telephony.ivr_prompts import MAY_TEXT, LineContext, any_number

MAX_SID = 64
# Serialised answers by their shape. Callers hear the same few dozen answers (a question, its turn,
# the same opening time), and ElementTree serialisation is a good part of a webhook's own work.
# Answers that dial (a staff or caller's full number, a click-to-call's own URL) are never kept, and
# the whole cache is dropped when full, so one-off answers (a read-back's last four digits) do not
# stay in memory for the life of the process.
_XML: dict[Hashable, str] = {}
_XML_MAX = 512
_NOT_KEPT = frozenset({"Dial", "Number", "Client", "Sip", "Conference", "Queue"})


def twiml(response: VoiceResponse, keep: bool = True) -> Response:
    """The answer as TwiML; `keep=False` for one that says a whole number (a keyed-in number read back)."""
    return Response(_xml(response) if keep else str(response), status=200, mimetype="text/xml")


def _xml(response: TwiML) -> str:
    """`str(response)`, the twilio library's serialisation, remembered for answers of the same shape."""
    try:
        key = _shape(response)
        hash(key)
    except (TypeError, _Dials):  # an unhashable attribute value, or numbers to dial: serialise every time
        return str(response)
    xml = _XML.get(key)
    if xml is None:
        xml = str(response)
        if len(_XML) >= _XML_MAX:
            _XML.clear()
        _XML[key] = xml
    return xml


class _Dials(Exception):
    """The answer dials someone: its serialisation is not kept."""


def _shape(node: Any) -> Hashable:
    """Everything the serialisation reads: name, attributes (with their types: True is not 1), text, children."""
    if isinstance(node, str):
        return node
    if node.name in _NOT_KEPT:
        raise _Dials
    return (node.name, tuple(sorted((k, type(v), v) for k, v in node.attrs.items())), node.value,
            tuple(_shape(child) for child in node.verbs))


def line_context() -> LineContext:
    runtime = current()
    return LineContext(settings=runtime.settings, calendar=runtime.workdays, now=clock.now(),
                       may_text=current_app.extensions.get(MAY_TEXT, any_number))


def form_sid(name: str = "CallSid") -> str | None:
    """A Twilio sid from the form, or None when missing or implausibly long."""
    sid = (request.form.get(name) or "").strip()
    return sid if sid and len(sid) <= MAX_SID else None


def bad_request() -> Response:
    return Response("Bad request", status=400, mimetype="text/plain")
