"""A caller walking the phone line: signed requests as Twilio sends them, TwiML read back like a phone does.

`Caller.dial()` posts the incoming call; `press()` posts the keys to the
action of the last `<Gather>` (an empty press is silence: we ask Twilio to
post even then). Every answer must be well-formed TwiML with a `<Response>`
root; the spoken text and whether the call was hung up are kept for asserts.
A caller's answer asks (Gather), ends (Hangup) or rings staff (Dial); then
`dial_over()` posts the Dial's action as Twilio does when the ringing ends.

`StaffPhone` plays a leg Twilio placed to a staff phone (a screened `<Number>`
of the line's Dial, or a click-to-call): it picks up (posts the leg's URL),
hears the screen and presses a key, or stays silent like a voicemail (the
screen's `<Gather>` then falls through to `<Hangup>`; Twilio posts nothing).
`status_callback()` posts a call status callback, signed for its full URL;
`hang_up()` posts the one Twilio sends when a call to the line is over.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import count
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.auth import create_user
from core.twilio_signature import sign
from scheduler.events import CallbackRequested
from telephony.models import CallbackRequest, IvrCall
from tests.integration.sms_helpers import BASE, TOKEN

AMS = ZoneInfo("Europe/Amsterdam")
OFFICE = "+31850000000"
ACCOUNT = "AC" + "0" * 32
_sids = count(1)


def new_sid(prefix: str = "CA") -> str:
    return f"{prefix}{next(_sids):032d}"


def twilio_post(client: Any, url: str, params: dict[str, str], signed: bool = True, token: str = TOKEN) -> Any:
    """POST `params` to `url` (full URL, query included) as Twilio does: form-encoded, signed for that URL."""
    headers = {"X-Twilio-Signature": sign(url, params, token)} if signed else {}
    parts = urlsplit(url)
    return client.post(parts.path + (f"?{parts.query}" if parts.query else ""), data=params, headers=headers)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS).astimezone(timezone.utc)


@dataclass
class Dialled:
    """The `<Dial>` of an answer: its attributes, and each `<Number>` with its own."""

    attrs: dict[str, str]
    numbers: list[tuple[str, dict[str, str]]]

    @property
    def phones(self) -> list[str]:
        return [number for number, _ in self.numbers]


@dataclass
class Heard:
    """One TwiML answer as the caller experiences it."""

    status: int
    text: str
    says: list[tuple[str, str]]  # (language, text)
    action: str | None
    hung_up: bool
    xml: str
    dial: Dialled | None = None
    verbs: tuple[str, ...] = ()  # the top-level verbs, in order


def _read(response: Any) -> tuple[ET.Element, Heard]:
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert response.mimetype == "text/xml"
    root = ET.fromstring(body)
    assert root.tag == "Response"
    assert root.find(".//Record") is None and root.find(".//Redirect") is None
    says = [(el.get("language", ""), el.text or "") for el in root.iter("Say")]
    gathers = root.findall("Gather")
    dials = root.findall("Dial")
    assert len(dials) <= 1
    dial = None
    if dials:
        numbers = dials[0].findall("Number")
        assert numbers and len(numbers) == len(list(dials[0])), "a Dial holds Numbers only"
        dial = Dialled(dict(dials[0].attrib), [((n.text or "").strip(), dict(n.attrib)) for n in numbers])
    heard = Heard(response.status_code, " ".join(t for _, t in says), says,
                  gathers[-1].get("action") if gathers else None, root.find("Hangup") is not None, body, dial,
                  tuple(el.tag for el in root))
    return root, heard


def parse(response: Any) -> Heard:
    """A caller's answer: asks (a DTMF Gather that posts even on silence), ends, or rings staff (a Dial)."""
    root, heard = _read(response)
    gathers = root.findall("Gather")
    if gathers:
        assert gathers[-1].get("input") == "dtmf" and gathers[-1].get("actionOnEmptyResult") == "true"
    if heard.dial is not None:
        assert not gathers and not heard.hung_up and heard.verbs[-1] == "Dial", "a Dial ends the answer"
        assert heard.dial.attrs.get("action", "").startswith(BASE + "/telephony/voice/")
    else:
        assert heard.hung_up != bool(gathers), "every answer either asks a question or ends the call"
        assert heard.verbs[-1] == ("Hangup" if heard.hung_up else "Gather")
    return heard


def parse_staff(response: Any) -> Heard:
    """A staff leg's answer: a screen (Gather, then Hangup on silence), words then Hangup, words alone
    (Twilio then bridges the screened leg), or words then a Dial to the caller."""
    root, heard = _read(response)
    verbs = heard.verbs
    assert verbs, "an empty answer"
    if "Gather" in verbs:
        gather = root.findall("Gather")[-1]
        assert gather.get("input") == "dtmf" and gather.get("numDigits") == "1"
        assert verbs[-2:] == ("Gather", "Hangup"), "silence (a voicemail) must end in Hangup"
    elif heard.dial is not None:
        assert verbs[-1] == "Dial" and not heard.hung_up
    else:
        assert set(verbs) <= {"Say", "Hangup"} and "Hangup" not in verbs[:-1]
    return heard


class Caller:
    def __init__(self, client: Any, number: str = "+31612345678", sid: str | None = None) -> None:
        self.client, self.number = client, number
        self.sid = sid or f"CA{next(_sids):032d}"
        self.last: Heard | None = None

    def post(self, url: str, extra: dict[str, str] | None = None, signed: bool = True,
             token: str = TOKEN) -> Any:
        params = {"CallSid": self.sid, "AccountSid": ACCOUNT, "From": self.number, "To": OFFICE,
                  "CallStatus": "in-progress", "Direction": "inbound", **(extra or {})}
        return twilio_post(self.client, url, params, signed, token)

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

    def dial_over(self, status: str = "no-answer", child: str | None = None, action: str | None = None) -> Heard:
        """The staff Dial ended: Twilio posts its action with DialCallStatus (and the answered leg's sid)."""
        url = action or (self.last.dial.attrs["action"] if self.last and self.last.dial else None)
        assert url, "no Dial to be over"
        extra = {"DialCallStatus": status, **({"DialCallSid": child, "DialCallDuration": "42"} if child else {})}
        self.last = parse(self.post(url, extra))
        return self.last


class StaffPhone:
    """A staff phone on a leg Twilio placed. `parent`: the caller's CallSid when the leg is a `<Number>`
    of the line's Dial (Twilio sends it as ParentCallSid); None for a click-to-call's staff leg."""

    def __init__(self, client: Any, phone: str, parent: str | None = None, shown: str = OFFICE,
                 sid: str | None = None) -> None:
        self.client, self.phone, self.parent, self.shown = client, phone, parent, shown
        self.sid = sid or new_sid()
        self.last: Heard | None = None

    def params(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"CallSid": self.sid, "AccountSid": ACCOUNT, "From": self.shown, "To": self.phone,
                "CallStatus": "in-progress", "Direction": "outbound-dial" if self.parent else "outbound-api",
                "ApiVersion": "2010-04-01", **({"ParentCallSid": self.parent} if self.parent else {}),
                **(extra or {})}

    def post(self, url: str, extra: dict[str, str] | None = None, **kw: Any) -> Any:
        return twilio_post(self.client, url, self.params(extra), **kw)

    def pick_up(self, url: str) -> Heard:
        """The phone answered: Twilio fetches the leg's TwiML."""
        self.last = parse_staff(self.post(url))
        return self.last

    def press(self, digits: str) -> Heard:
        assert self.last is not None and self.last.action, "nothing to answer"
        self.last = parse_staff(self.post(self.last.action, {"Digits": digits}))
        return self.last

    def stay_silent(self) -> None:
        """A voicemail (or nobody) on the line: the screen's Gather times out and the leg hangs up."""
        assert self.last is not None and self.last.verbs[-2:] == ("Gather", "Hangup")
        self.last = None


def hang_up(caller: Caller, status: str = "completed") -> Any:
    """Twilio's status callback for a call to the line that is over (the caller hung up): 204, no body."""
    response = caller.post(f"{BASE}/telephony/voice/status", {"CallStatus": status, "CallDuration": "40"})
    assert response.status_code == 204 and response.get_data() == b""
    return response


def status_callback(client: Any, url: str, sid: str, status: str, **extra: str) -> Any:
    """A call status callback as Twilio posts it to `url` (full URL, with its query string)."""
    params = {"CallSid": sid, "AccountSid": ACCOUNT, "CallStatus": status, "ApiVersion": "2010-04-01",
              "Direction": "outbound-api", "From": OFFICE, "To": "+31612345678", **extra}
    return twilio_post(client, url, params)


@pytest.fixture
def at(app: Any):  # type: ignore[no-untyped-def]
    """Set the phone line's clock: `at(local(2026, 11, 30, 10, 0))`; Monday 30 Nov 2026 10:00 to begin with."""
    def set_now(moment: Any) -> None:
        app.config["PENDEL_NOW"] = moment
    set_now(local(2026, 11, 30, 10, 0))
    return set_now


_staff = count(1)


def add_staff(runtime: Any, phone: str | None, on_duty: bool = True, active: bool = True,
              role: str = "coordinator") -> int:
    """A staff account with this phone and duty switch; returns its id."""
    n = next(_staff)
    with runtime.db.write_session() as s:
        user = create_user(s, f"staff{n}@example.org", f"Medewerker {n}", role, "a-long-password", phone)
        user.on_duty, user.active = on_duty, active
        s.flush()
        return user.id


def ivr_row(runtime: Any, sid: str) -> IvrCall:
    with runtime.db.session() as s:
        call = s.get(IvrCall, sid)
        assert call is not None
        return call


def requests(runtime: Any) -> list[CallbackRequest]:
    with runtime.db.session() as s:
        return list(s.scalars(select(CallbackRequest).order_by(CallbackRequest.id)))


def request_rows(runtime: Any) -> list[dict[str, Any]]:
    """Every column of every callback request, in id order: to show what a request changed, or did not."""
    with runtime.db.session() as s:
        return [{p.key: getattr(row, p.key) for p in CallbackRequest.__mapper__.column_attrs}
                for row in s.scalars(select(CallbackRequest).order_by(CallbackRequest.id))]


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
