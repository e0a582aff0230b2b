"""A caller who hangs up after confirming the number to call keeps the request, exactly once.

Hanging up reaches us as Twilio's call status callback. Once the number is
confirmed (their own, or a keyed-in one read back), the request stands with
what the caller answered and the safe defaults for the rest (no preference,
do not say who we are, no text), and staff see which answers were defaulted.
The status callback may come twice, and before or after the caller's last
key press (Twilio posts both independently): the request is the same either
way, one row, and at most one confirmation text.
"""
from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from notifications.models import OutboxMessage
from tests import factories
from tests.conftest import both_databases
from tests.integration.ivr_helpers import (Caller, at, hang_up, ivr_row, local, record_events,  # noqa: F401
                                           request_rows, requests)

OWN = "+31612345678"


def texts(runtime: Any) -> list[tuple[str, str]]:
    """The confirmation texts in the outbox: (to, status)."""
    with runtime.db.session() as s:
        return [(m.to_address, m.status) for m in s.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "callback_confirmation").order_by(OutboxMessage.id))]


def summary(runtime: Any) -> list[tuple[Any, ...]]:
    return [(r.number, r.number_typed_in, r.moment, r.may_identify, r.wants_confirmation, r.defaulted, r.status,
             r.window_start, r.due_at) for r in requests(runtime)]


MORNING = (local(2026, 12, 1, 9, 0), local(2026, 12, 1, 12, 0))
AFTERNOON = (local(2026, 12, 1, 12, 0), local(2026, 12, 1, 17, 0))
ALL_DAY = (local(2026, 12, 1, 9, 0), local(2026, 12, 1, 17, 0))


@both_databases
@pytest.mark.parametrize("number, keys, expected", [
    (OWN, ("2", "1"), (OWN, False, "no_preference", False, False, "moment,may_identify,wants_confirmation",
                       "open", *ALL_DAY)),
    (OWN, ("2", "1", "2"), (OWN, False, "afternoon", False, False, "may_identify,wants_confirmation", "open",
                            *AFTERNOON)),
    (OWN, ("2", "1", "1", "1"), (OWN, False, "morning", True, False, "wants_confirmation", "open", *MORNING)),
    ("anonymous", ("2", "0612345678", "1", "1"), (OWN, True, "morning", False, False, "may_identify", "open",
                                                   *MORNING)),
])
def test_a_caller_who_hangs_up_after_confirming_the_number_keeps_the_request(
        client: Any, runtime: Any, at: Any, number: str, keys: tuple[str, ...], expected: tuple[Any, ...]) -> None:
    events = record_events(runtime)
    caller = Caller(client, number)
    assert not caller.walk(*keys).hung_up
    hang_up(caller)
    assert summary(runtime) == [expected]
    [row] = requests(runtime)
    assert [(e.callback_id, e.wants_confirmation, e.window_start) for e in events] == [(row.id, False, expected[7])]
    assert texts(runtime) == []  # the safe default: no text
    assert ivr_row(runtime, caller.sid).call_status == "completed"
    before = request_rows(runtime)
    hang_up(caller)  # Twilio sends it again
    hang_up(caller, "no-answer")  # or a later, different final word: the first one stands
    assert request_rows(runtime) == before and len(events) == 1


@pytest.mark.parametrize("number, keys", [(OWN, ()), (OWN, ("2",)), (OWN, ("2", "2")), ("anonymous", ("2",)),
                                          ("anonymous", ("2", "0612345678")), (OWN, ("2", "2", "0687654321"))])
def test_hanging_up_before_the_number_is_confirmed_leaves_no_request(client: Any, runtime: Any, at: Any,
                                                                     number: str, keys: tuple[str, ...]) -> None:
    events = record_events(runtime)
    caller = Caller(client, number)
    caller.walk(*keys)
    hang_up(caller)
    assert requests(runtime) == [] and events == []
    assert ivr_row(runtime, caller.sid).call_status == "completed"


@both_databases
@pytest.mark.parametrize("hang_up_first", [False, True])
def test_the_last_answer_and_the_hang_up_count_once_in_either_order(client: Any, runtime: Any, at: Any,
                                                                     hang_up_first: bool) -> None:
    caller = Caller(client, OWN)
    question = caller.walk("2", "1", "1", "1")  # at the text question; the caller presses 1 and hangs up
    if hang_up_first:
        hang_up(caller)
        caller.press("1", action=question.action)
    else:
        assert caller.press("1").hung_up
        hang_up(caller)
    hang_up(caller)
    assert summary(runtime) == [(OWN, False, "morning", True, True, None, "open", *MORNING)]
    assert texts(runtime) == [(OWN, "pending")]
    assert ivr_row(runtime, caller.sid).step == "done"


@pytest.mark.parametrize("keys, late, expected", [
    (("2", "1"), "2", ("afternoon", False, False, "may_identify,wants_confirmation", *AFTERNOON)),
    (("2", "1", "1"), "1", ("morning", True, False, "wants_confirmation", *MORNING)),
    (("2",), "1", ("no_preference", False, False, "moment,may_identify,wants_confirmation", *ALL_DAY)),
])
def test_a_key_pressed_just_before_hanging_up_still_counts(client: Any, runtime: Any, at: Any,
                                                           keys: tuple[str, ...], late: str,
                                                           expected: tuple[Any, ...]) -> None:
    """The status callback got here first; the answer, on its way, is applied and the call is over."""
    caller = Caller(client, OWN)
    question = caller.walk(*keys)
    hang_up(caller)
    heard = caller.press(late, action=question.action)
    assert heard.hung_up and heard.text.startswith("Dank u wel. Wij bellen u")
    assert [(r.moment, r.may_identify, r.wants_confirmation, r.defaulted, r.window_start, r.due_at)
            for r in requests(runtime)] == [expected]
    call = ivr_row(runtime, caller.sid)
    assert (call.step, call.call_status) == ("done", "completed")


def test_a_status_that_is_not_final_takes_nothing_yet(client: Any, runtime: Any, at: Any) -> None:
    events = record_events(runtime)
    caller = Caller(client, OWN)
    caller.walk("2", "1", "2")
    before = request_rows(runtime)
    caller.post("https://pendel.test/telephony/voice/status", {"CallStatus": "in-progress"})
    assert request_rows(runtime) == before and events == []
    assert caller.press("1").text.startswith("Wilt u een sms")  # the call goes on as before
    assert ivr_row(runtime, caller.sid).call_status == "in-progress"


def test_a_later_call_from_the_number_that_hangs_up_keeps_one_request(client: Any, runtime: Any, at: Any) -> None:
    assert Caller(client, OWN).walk("2", "1", "1", "1", "1").hung_up
    at(local(2026, 11, 30, 14, 0))
    again = Caller(client, OWN)
    again.walk("2", "1", "2")
    hang_up(again)
    assert summary(runtime) == [(OWN, False, "afternoon", False, False, "may_identify,wants_confirmation", "open",
                                 *AFTERNOON)]
    assert texts(runtime) == [(OWN, "cancelled")]  # the first call's text, not sent yet, no longer holds


def test_staff_see_which_answers_were_defaulted(client: Any, runtime: Any, at: Any) -> None:
    with runtime.db.write_session() as s:
        user, headers = factories.staff(s, "coordinator")
        email = user.email
    Caller(client, "+31687654321").walk("2", "1", "2", "1", "2")  # every question answered
    hung_up = Caller(client, OWN)
    hung_up.walk("2", "1", "2")  # afternoon, then gone before "may we say who we are"
    hang_up(hung_up)
    listed = client.get("/api/v1/callbacks", headers=headers).get_json()["callbacks"]
    assert {c["number"]: (c["moment"], c["may_identify"], c["wants_confirmation"], c["defaulted"])
            for c in listed} == {"+31687654321": ("afternoon", True, False, []),
                                 OWN: ("afternoon", False, False, ["may_identify", "wants_confirmation"])}
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["CallbackOut"]
    assert schema["properties"]["defaulted"]["items"]["enum"] == ["moment", "may_identify", "wants_confirmation"]
    assert client.post("/login", data={"email": email, "password": "correct horse battery"}).status_code == 302
    [row] = [r for r in requests(runtime) if r.number == OWN]
    page = client.get(f"/callbacks/{row.id}").get_data(as_text=True)
    fields = dict(re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", page, re.S))
    marked = [label.split(" <")[0] for label, value in fields.items() if "niet gekozen: de standaard" in value]
    assert marked == ["Let op", "Zeggen wie wij zijn", "Sms-bevestiging"]  # the note, and each answer
    queue = client.get("/callbacks").get_data(as_text=True)
    assert queue.count("niet gekozen: de standaard") == 1  # beside "don't say who we are"; the moment was chosen
