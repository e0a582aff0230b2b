"""Hypothesis walks of the phone line through the real app (issue 14, "an IVR fuzz").

A walk is one call: the incoming webhook, then random key presses (single
keys, whole numbers, nonsense), silences (a Gather's action posted without
Digits, or with an empty Digits: we ask Twilio to post even then), replays of
the last signed webhook exactly as sent, a hang-up (Twilio's call status
callback with CallStatus completed, in the middle of any question, possibly
followed by one answer that was already on its way), and, when the staff on
duty ring, the end of the ringing. Callers with their own number, a landline
and a withheld one; office hours open and closed (the line's clock is moved
in Python, as in test_ivr.py); 9 at the menu switches to English.

Properties, checked after every request and at the end of the walk:
- never a 5xx; every voice answer is TwiML as ivr_helpers.parse reads it
  (well-formed XML, a <Response> root, ask or end or ring), and the twilio
  library's own `twilio.twiml` names every verb in it;
- a callback request exists exactly when the caller confirmed a number in
  that walk (1 at "is this your number?" or at the read-back of a keyed-in
  number), and then exactly one, for this call.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.control import currently_in_test_context, event
from twilio.twiml import voice_response

from sqlalchemy import func, select

from core.models import User
from telephony.models import CallbackRequest
from tests.integration.ivr_helpers import BASE, Caller, add_staff, local, parse

OPEN = [local(2026, 11, 30, 10, 0), local(2026, 12, 2, 16, 55)]  # Monday morning, Wednesday just before five
CLOSED = [local(2026, 11, 27, 19, 0), local(2026, 11, 29, 12, 0), local(2026, 12, 1, 8, 30)]  # Fri eve, Sun, early
CALLERS = ["+31612345678", "+31201234567", "anonymous", ""]
STAFF_PHONE = "+31611110001"
DIAL_OUTCOMES = ["no-answer", "busy", "failed", "completed", "canceled"]
# Every verb and noun the twilio library can write in a voice answer, by its TwiML tag.
TWIML_TAGS = {cls.__name__ for cls in vars(voice_response).values()
              if isinstance(cls, type) and issubclass(cls, voice_response.TwiML)} | {"Response"}

JUNK = st.one_of(
    st.sampled_from(["0", "4", "5", "7", "8", "*", "#", "1#", " 1", "11", "12", "06123", "112", "0900123456",
                     "0031612345678", "+31612345678"]),
    st.text(alphabet="0123456789*#", max_size=14),
)
NUMBERS = st.sampled_from(["0612345678", "0612345678#", "0201234567", "0687654321", "0031612345678"])
# What a question takes; the walk mostly answers it (so it gets deep), and often does not.
VALID = {"menu": st.sampled_from("129"), "confirm_number": st.sampled_from("12"), "enter_number": NUMBERS,
         "read_back": st.sampled_from("12"), "moment": st.sampled_from("123"), "identify": st.sampled_from("12"),
         "confirmation": st.sampled_from("12")}
# Kinds by weight: answering the question, a wrong key, silence, an empty Digits, a replay, a hang-up.
KINDS = ["valid"] * 10 + ["junk"] * 2 + ["silence", "empty_digits", "replay", "hang_up"]


def action_for(step: str | None, dialling: bool) -> st.SearchStrategy[tuple[str, str]]:
    """One thing that happens next, given the question the caller is at (or that staff phones ring)."""
    if dialling:
        return st.one_of(st.tuples(st.just("dial_over"), st.sampled_from(DIAL_OUTCOMES)),
                         st.tuples(st.sampled_from(["replay", "hang_up"]), st.just("")))
    return st.sampled_from(KINDS).flatmap(lambda kind: (
        st.tuples(st.just("press"), VALID.get(step or "", JUNK)) if kind == "valid" else
        st.tuples(st.just("press"), JUNK) if kind == "junk" else st.tuples(st.just(kind), st.just(""))))


@dataclass
class Walk:
    """One call as the fuzzer plays it, and what the caller did that the oracle needs."""

    caller: Caller
    confirmed: bool = False
    hung_up: bool = False
    over: bool = False  # nothing more can reach us for this call
    sent: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def post(self, url: str, extra: dict[str, str]) -> Any:
        self.sent.append((url, extra))
        return self.caller.post(url, extra)


def twiml_ok(response: Any) -> None:
    """Never a 5xx; a voice answer is TwiML the way ivr_helpers reads it, made of the library's own tags."""
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code == 204:  # a status callback: no body at all
        assert response.get_data() == b""
        return
    heard = parse(response)
    unknown = {el.tag for el in ET.fromstring(heard.xml).iter()} - TWIML_TAGS
    assert not unknown, f"not TwiML: {unknown}"


def seen(what: str) -> None:
    """Count what the walks reached (pytest --hypothesis-show-statistics); nothing outside hypothesis."""
    if currently_in_test_context():
        event(what)


def step_of(action: str | None) -> str | None:
    return parse_qs(urlsplit(action).query).get("step", [None])[0] if action else None


def apply(walk: Walk, kind: str, value: str) -> None:
    caller, last = walk.caller, walk.caller.last
    if kind == "replay":
        if walk.sent:
            url, extra = walk.sent[-1]
            response = caller.post(url, extra)  # the same signed request, byte for byte
            twiml_ok(response)
        return
    if kind == "hang_up":
        status = f"{BASE}/telephony/voice/status"
        twiml_ok(walk.post(status, {"CallStatus": "completed", "CallDuration": "40"}))
        walk.hung_up = True
        return
    if last is None or walk.over:
        return
    if last.dial is not None:  # the staff phones ring: the next thing Twilio posts is the Dial's end
        if kind == "dial_over" or not walk.hung_up:
            extra = {"DialCallStatus": value if kind == "dial_over" else "no-answer"}
            response = walk.post(last.dial.attrs["action"], extra)
            twiml_ok(response)
            caller.last = parse(response)
        return
    if kind == "dial_over" or not last.action:
        return
    step = step_of(last.action)
    seen(f"answered {step} ({caller.last.says[-1][0] if caller.last.says else '?'})")
    extra = {} if kind == "silence" else {"Digits": value}
    response = walk.post(last.action, extra)
    twiml_ok(response)
    caller.last = parse(response)
    if kind == "press" and value.strip() == "1" and step in ("confirm_number", "read_back"):
        walk.confirmed = True


def run_walk(app: Any, client: Any, runtime: Any, moment: datetime, number: str, on_duty: bool,
             actions: list[tuple[str, str]] | None, data: Any = None, length: int = 0) -> None:
    """Play `actions`, or (with `data`) `length` actions drawn one by one for the question then asked."""
    app.config["PENDEL_NOW"] = moment
    set_duty(runtime, on_duty)
    walk = Walk(Caller(client, number))
    response = walk.post(f"{BASE}/telephony/voice", {"CallStatus": "ringing"})
    twiml_ok(response)
    walk.caller.last = parse(response)
    actions = list(actions or [])
    for i in range(len(actions) if data is None else length):
        if walk.over:
            break
        if data is not None:
            last = walk.caller.last
            actions.append(data.draw(action_for(step_of(last.action) if last else None,
                                                bool(last and last.dial is not None))))
        kind, value = actions[i]
        was_hung_up = walk.hung_up
        apply(walk, kind, value)
        if was_hung_up:  # after the hang-up at most one answer still on its way arrives
            walk.over = True
    if not walk.hung_up:  # every call ends with Twilio's final status
        twiml_ok(walk.post(f"{BASE}/telephony/voice/status", {"CallStatus": "completed", "CallDuration": "60"}))
    with runtime.db.session() as s:
        ours = s.scalar(select(func.count()).where(CallbackRequest.call_sid == walk.caller.sid))
        doubled = s.scalars(select(CallbackRequest.number).where(CallbackRequest.status == "open")
                            .group_by(CallbackRequest.number).having(func.count() > 1)).all()
    seen("confirmed a number" if walk.confirmed else "confirmed no number")
    assert ours == (1 if walk.confirmed else 0), actions
    assert doubled == [], "one open request per number"


def set_duty(runtime: Any, on_duty: bool) -> None:
    """One staff member with a phone, on duty or not for this walk (the examples share the database:
    each walk's request is found by its own CallSid, and a later call from the same number updates it)."""
    with runtime.db.write_session() as s:
        user = s.scalar(select(User).where(User.phone == STAFF_PHONE))
        if user is not None:
            user.on_duty = on_duty
            return
    if on_duty:
        add_staff(runtime, STAFF_PHONE)


# Walks that reach every question, in both languages, open and closed: the fuzz starts from these.
OWN_NL = [("press", "2"), ("press", "1"), ("press", "1"), ("press", "1"), ("press", "1")]
OWN_EN = [("press", "9"), ("press", "2"), ("press", "1"), ("press", "2"), ("press", "2"), ("press", "2")]
KEYED = [("press", "2"), ("press", "0612345678"), ("press", "2"), ("press", "0201234567"), ("press", "1"),
         ("press", "3"), ("press", "1")]
TRIES = [("press", "2"), ("press", "1"), ("silence", ""), ("press", "7"), ("empty_digits", ""),
         ("replay", ""), ("press", "1")]


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(moment=st.sampled_from(OPEN + CLOSED), number=st.sampled_from(CALLERS), on_duty=st.booleans(),
       length=st.integers(0, 16), data=st.data())
def test_a_random_walk_of_the_phone_line(app: Any, client: Any, runtime: Any, moment: datetime, number: str,
                                         on_duty: bool, length: int, data: Any) -> None:
    run_walk(app, client, runtime, moment, number, on_duty, None, data, length)


@pytest.mark.parametrize("moment, number, on_duty, actions", [
    (OPEN[0], CALLERS[0], False, OWN_NL),
    (CLOSED[0], CALLERS[0], False, OWN_EN),
    (OPEN[0], CALLERS[2], False, [("press", "9"), *KEYED[1:]]),
    (CLOSED[1], CALLERS[1], False, [("press", "9"), *KEYED]),
    (OPEN[0], CALLERS[0], False, TRIES + [("hang_up", ""), ("press", "1")]),
    (OPEN[0], CALLERS[0], True, [("press", "1"), ("dial_over", "no-answer"), ("press", "1"), ("replay", ""),
                                 ("hang_up", "")]),
    (OPEN[1], CALLERS[3], False, [("press", "2"), ("press", "0612345678"), ("hang_up", ""), ("press", "1")]),
    (CLOSED[2], CALLERS[0], False, [("press", "5")] * 3 + [("replay", "")]),
])
def test_walks_that_reach_every_question(app: Any, client: Any, runtime: Any, moment: datetime, number: str,
                                         on_duty: bool, actions: list[tuple[str, str]]) -> None:
    """The fuzz's landmarks: every question in both languages, open and closed, a hang-up, a dial, a replay."""
    run_walk(app, client, runtime, moment, number, on_duty, actions)
