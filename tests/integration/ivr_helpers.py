"""A caller walking the phone line: signed requests as Twilio sends them, TwiML read back like a phone does.

`Caller.dial()` posts the incoming call; `press()` posts the keys to the
action of the last `<Gather>` (an empty press is silence: we ask Twilio to
post even then). Every answer must be well-formed TwiML with a `<Response>`
root; the spoken text and whether the call was hung up are kept for asserts.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import count
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.twilio_signature import sign
from scheduler.events import CallbackRequested
from telephony.models import CallbackRequest, IvrCall
from tests.integration.sms_helpers import BASE, TOKEN

AMS = ZoneInfo("Europe/Amsterdam")
OFFICE = "+31850000000"
_sids = count(1)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS).astimezone(timezone.utc)


@dataclass
class Heard:
    """One TwiML answer as the caller experiences it."""

    status: int
    text: str
    says: list[tuple[str, str]]  # (language, text)
    action: str | None
    hung_up: bool
    xml: str


def parse(response: Any) -> Heard:
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert response.mimetype == "text/xml"
    root = ET.fromstring(body)
    assert root.tag == "Response"
    assert root.find(".//Record") is None
    says = [(el.get("language", ""), el.text or "") for el in root.iter("Say")]
    gathers = root.findall("Gather")
    action = gathers[-1].get("action") if gathers else None
    if gathers:
        assert gathers[-1].get("input") == "dtmf" and gathers[-1].get("actionOnEmptyResult") == "true"
    hung_up = root.find("Hangup") is not None
    assert hung_up != bool(gathers), "every answer either asks a question or ends the call"
    return Heard(response.status_code, " ".join(t for _, t in says), says, action, hung_up, body)


class Caller:
    def __init__(self, client: Any, number: str = "+31612345678", sid: str | None = None) -> None:
        self.client, self.number = client, number
        self.sid = sid or f"CA{next(_sids):032d}"
        self.last: Heard | None = None

    def post(self, url: str, extra: dict[str, str] | None = None, signed: bool = True,
             token: str = TOKEN) -> Any:
        params = {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.number, "To": OFFICE,
                  "CallStatus": "in-progress", "Direction": "inbound", **(extra or {})}
        headers = {"X-Twilio-Signature": sign(url, params, token)} if signed else {}
        parts = urlsplit(url)
        return self.client.post(parts.path + (f"?{parts.query}" if parts.query else ""), data=params,
                                headers=headers)

    def dial(self) -> Heard:
        self.last = parse(self.post(f"{BASE}/telephony/voice", {"CallStatus": "ringing"}))
        return self.last

    def press(self, digits: str, action: str | None = None) -> Heard:
        url = action or (self.last.action if self.last else None)
        assert url, "nothing to answer: the call has ended"
        assert url.startswith(BASE + "/telephony/voice/")
        extra = {"Digits": digits} if digits else {}
        self.last = parse(self.post(url, extra))
        return self.last

    def walk(self, *keys: str) -> Heard:
        heard = self.dial()
        for key in keys:
            heard = self.press(key)
        return heard


def requests(runtime: Any) -> list[CallbackRequest]:
    with runtime.db.session() as s:
        return list(s.scalars(select(CallbackRequest).order_by(CallbackRequest.id)))


def counts(runtime: Any) -> tuple[int, int]:
    with runtime.db.session() as s:
        return (s.scalar(select(func.count()).select_from(CallbackRequest)) or 0,
                s.scalar(select(func.count()).select_from(IvrCall)) or 0)


def record_events(runtime: Any) -> list[CallbackRequested]:
    """Subscribe to the app's bus: the list fills as the IVR publishes."""
    seen: list[CallbackRequested] = []
    runtime.bus.subscribe(CallbackRequested, lambda _session, event: seen.append(event))
    return seen


def ivr_state(runtime: Any, sid: str) -> tuple[Any, ...]:
    """The whole IVR row of a call, to show a refused request changed nothing."""
    with runtime.db.session() as s:
        call = s.get(IvrCall, sid)
        assert call is not None
        return (call.step, call.turn, call.retries, call.language, call.number, call.moment, call.may_identify,
                call.wants_confirmation, call.callback_id, call.updated_at)
