"""Answers applied as asked: each question's URL names it, and the answer is written only if the row agrees.

An answer to an ordinary question is applied without reading the call's
row (telephony.ivr_store.as_asked) and written with one UPDATE that checks
the row is still at that question. These tests make the row disagree — a
URL naming another question, another language, a different calling number,
and a parallel webhook that changes the row while the UPDATE waits for its
lock — and check the answer is then applied to the row as it is, once.
"""
from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, text

from telephony.ivr_store import NOT_READ, Asked, as_asked
from telephony.models import IvrCall
from telephony.numbers import as_sent
from tests.conftest import both_databases
from tests.integration.ivr_helpers import BASE, Caller, local, requests

MONDAY_10 = local(2026, 11, 30, 10, 0)


@pytest.fixture
def at(app: Any):  # type: ignore[no-untyped-def]
    app.config["PENDEL_NOW"] = MONDAY_10


def row(runtime: Any, sid: str) -> IvrCall:
    with runtime.db.session() as s:
        found = s.scalar(select(IvrCall).where(IvrCall.call_sid == sid))
        assert found is not None
        return found


def test_every_question_names_itself_in_its_url(client: Any, at: Any) -> None:
    caller = Caller(client)
    heard = [caller.dial()] + [caller.press(key) for key in ("7", "9", "2", "1", "1")]
    asked = []
    for answer in heard:
        url = urlsplit(answer.action)
        asked.append((url.path.rsplit("/", 1)[1], {k: v[0] for k, v in parse_qs(url.query).items()}))
    assert asked == [
        ("0", {"step": "menu", "lang": "nl", "tries": "0"}),
        ("1", {"step": "menu", "lang": "nl", "tries": "1"}),   # a wrong key: asked again, one try down
        ("2", {"step": "menu", "lang": "en", "tries": "0"}),   # 9: in English
        ("3", {"step": "confirm_number", "lang": "en", "tries": "0"}),
        ("4", {"step": "moment", "lang": "en", "tries": "0"}),
        ("5", {"step": "identify", "lang": "en", "tries": "0"}),
    ]


@both_databases
def test_a_url_naming_another_question_is_applied_to_the_question_really_asked(client: Any, runtime: Any,
                                                                               at: Any) -> None:
    caller = Caller(client)
    caller.walk("2")  # now at confirm_number, turn 1
    lying = f"{BASE}/telephony/voice/answer/1?step=moment&lang=en&tries=0"
    heard = caller.press("1", action=lying)  # signed by Twilio, yet not what the row says
    call = row(runtime, caller.sid)
    assert (call.step, call.turn, call.number, call.moment, call.language) == (
        "moment", 2, "+31612345678", None, "nl")
    assert heard.text.startswith("Wanneer komt het u het best uit?")


def test_a_different_calling_number_is_not_taken_as_asked(client: Any, runtime: Any, at: Any) -> None:
    caller = Caller(client, "+31612345678")
    caller.walk("2")
    confirm = caller.last.action
    caller.number = "anonymous"  # Twilio would not change From within a call; if it did, the row decides
    caller.press("1", action=confirm)
    call = row(runtime, caller.sid)
    assert (call.step, call.number, call.number_typed_in) == ("moment", "+31612345678", False)


def test_an_answer_whose_row_changes_while_it_waits_for_the_lock_is_applied_once(
        client: Any, runtime: Any, at: Any) -> None:
    caller = Caller(client)
    caller.walk("2", "1")  # at moment, turn 2
    moment = caller.last.action
    results: list[Any] = []
    with runtime.db.engine.connect() as conn:
        with conn.begin():
            # Another webhook of this call holds the row: it answers "moment" with 2 (afternoon).
            conn.execute(text("SELECT 1 FROM ivr_calls WHERE call_sid = :s FOR UPDATE"), {"s": caller.sid})
            worker = threading.Thread(target=lambda: results.append(caller.post(moment, {"Digits": "1"})))
            worker.start()
            worker.join(0.5)
            assert worker.is_alive(), "the answer's UPDATE should be waiting for the row lock"
            conn.execute(text("UPDATE ivr_calls SET step = 'identify', turn = 3, moment = 'afternoon' "
                              "WHERE call_sid = :s"), {"s": caller.sid})
        worker.join(10)
    assert not worker.is_alive()
    [response] = results
    assert response.status_code == 200
    call = row(runtime, caller.sid)
    # The waiting answer found the row moved on: it changed nothing and asked the current question again.
    assert (call.step, call.turn, call.moment, call.retries) == ("identify", 3, "afternoon", 0)
    assert "/telephony/voice/answer/3?step=identify" in response.get_data(as_text=True)
    # The request stands since the number was confirmed, with the defaults: the waiting answer took nothing.
    assert [(r.moment, r.defaulted) for r in requests(runtime)] == [
        ("no_preference", "moment,may_identify,wants_confirmation")]


def test_the_last_answers_still_read_the_row(client: Any, runtime: Any, at: Any) -> None:
    caller = Caller(client)
    heard = caller.walk("2", "1", "1", "1", "1")
    assert heard.hung_up
    [request] = requests(runtime)
    assert (request.number, request.moment, request.may_identify, request.wants_confirmation) == (
        "+31612345678", "morning", True, True)


@pytest.mark.parametrize("query", ["", "step=done&lang=nl&tries=0", "step=menu&lang=de&tries=0",
                                   "step=menu&lang=nl&tries=x", "step=menu&lang=nl&tries=10",
                                   "step=menu&lang=nl"])
def test_urls_that_name_no_question_are_not_taken_as_asked(query: str) -> None:
    args = {k: v[0] for k, v in parse_qs(query).items()}
    assert Asked.from_query(args) is None


def test_what_an_answer_did_not_read_cannot_be_decided_on() -> None:
    call = as_asked("CA1", 3, Asked("moment", "nl", 0), "+31612345678")
    assert Asked.from_query({"step": "moment", "lang": "nl", "tries": "0"}) == Asked.of(call)
    assert call.moment is NOT_READ
    with pytest.raises(TypeError):
        bool(call.moment)


def _end_the_apps_connections(runtime: Any) -> None:
    """What a database restart does to the pooled connections: the server ends them (all but this one)."""
    with runtime.db.engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                          "current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"))
        conn.commit()


def test_webhooks_on_connections_the_server_ended_are_answered_on_new_ones(client: Any, runtime: Any,
                                                                          at: Any) -> None:
    caller = Caller(client)
    caller.walk("2")
    _end_the_apps_connections(runtime)
    heard = caller.press("1")  # as asked: its pooled connection is dead, and nothing pings it first
    assert heard.text.startswith("Wanneer komt het u het best uit?")
    _end_the_apps_connections(runtime)
    caller.press("1")
    caller.press("1")
    _end_the_apps_connections(runtime)
    assert caller.press("1").hung_up  # the answer that takes the request, under the row lock
    [request] = requests(runtime)
    assert (request.number, request.moment, request.wants_confirmation) == ("+31612345678", "morning", True)
    _end_the_apps_connections(runtime)
    assert Caller(client, "+31687654321").dial().action  # a new call, on a new connection
    call = row(runtime, caller.sid)
    assert (call.step, call.turn) == ("done", 5)


def test_a_retried_first_webhook_hears_the_safety_line_again(client: Any, runtime: Any, at: Any) -> None:
    caller = Caller(client)
    first = caller.dial()
    again = caller.dial()  # Twilio's retry, or ours after the first one's commit reply was lost
    assert again.text == first.text and "112" in again.text
    assert row(runtime, caller.sid).turn == 0


@pytest.mark.parametrize("raw", ["", "anonymous", "+266696687", "+7378742833", "+86282452253", "+", "+3161234567²",
                                 "0612345678", "sip:someone@example.org"])
def test_only_a_plain_international_number_is_claimed_as_sent(raw: str) -> None:
    assert as_sent(raw) is None
    assert as_sent(" +31612345678 ") == "+31612345678"
