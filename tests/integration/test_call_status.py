"""Call status callbacks arrive late, twice and out of order: the records still end right.

For a call to the line (its IVR row) and for both legs of a click-to-call:
a status only ever moves a call forward, the first final status stays, and
the attempt is recorded once. Unsigned requests change nothing at all.
"""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.twilio_signature import sign
from telephony.models import CallbackAttempt, CallbackCall, CallbackRequest, IvrCall
from tests.integration.call_helpers import (COORDINATOR_PHONE, ClickToCall, attempts, call_row, conn,  # noqa: F401
                                            jobs, private_redis, settings, standin, walk_request)
from tests.integration.ivr_helpers import BASE, TOKEN, Caller, add_staff, at, status_callback, twilio_post  # noqa: F401

STATUS = BASE + "/telephony/voice/status"


def _rows(runtime: Any) -> dict[str, list[dict[str, Any]]]:
    """Every column of every row a status callback may touch."""
    with runtime.db.session() as s:
        return {model.__tablename__: [{p.key: getattr(row, p.key) for p in model.__mapper__.column_attrs}
                                      for row in s.scalars(select(model))]
                for model in (IvrCall, CallbackCall, CallbackAttempt, CallbackRequest)}


@pytest.fixture
def call(client: Any, runtime: Any, conn: Any, standin: Any, jobs: Any, at: Any) -> ClickToCall:
    request_id = walk_request(client, "+31612345678", ("2", "1", "1", "1", "1"), runtime)
    user_id = add_staff(runtime, COORDINATOR_PHONE, on_duty=False)
    return ClickToCall(client, runtime, conn, standin, user_id, request_id)


def _connected(call: ClickToCall) -> ClickToCall:
    call.press_call()
    call.pick_up()
    call.press("1")
    return call


def _inbound_status(runtime: Any, sid: str) -> str | None:
    with runtime.db.session() as s:
        row = s.get(IvrCall, sid)
        assert row is not None
        return row.call_status


@pytest.mark.parametrize("sequence, final", [
    (["ringing", "in-progress", "completed"], "completed"),
    (["completed", "ringing", "in-progress"], "completed"),   # the late ones never move it back
    (["in-progress", "ringing", "in-progress"], "in-progress"),
    (["completed", "completed"], "completed"),               # a retry
    (["no-answer", "completed", "busy"], "no-answer"),       # the first final status stays
    (["ringing", "something-new"], "ringing"),                # an unknown status never overwrites
])
def test_an_inbound_call_ends_right(client: Any, runtime: Any, at: Any, sequence: list[str], final: str) -> None:
    caller = Caller(client)
    caller.dial()
    for status in sequence:
        assert status_callback(client, STATUS, caller.sid, status, Direction="inbound").status_code == 204
    assert _inbound_status(runtime, caller.sid) == final


def test_the_staff_leg_ends_right_before_and_after_the_bridge(call: ClickToCall, runtime: Any) -> None:
    call.press_call()
    call.staff_status("in-progress")
    call.staff_status("ringing")  # late
    row = call_row(runtime, call.call_id)
    assert (row.state, row.staff_status) == ("ringing_staff", "in-progress")
    call.pick_up()
    call.press("1")
    call.staff_status("completed")
    call.staff_status("in-progress")  # late again
    call.staff_status("completed")    # and twice
    row = call_row(runtime, call.call_id)
    assert (row.state, row.staff_status) == ("finished", "completed")  # it went on to the caller: not missed


def test_the_caller_leg_reporting_after_the_staff_leg_still_counts(call: ClickToCall, runtime: Any) -> None:
    _connected(call)
    call.staff_status("completed")  # the staff leg's end outruns the caller leg's
    call.caller_status("in-progress")
    call.caller_status("completed")
    assert attempts(runtime, call.request_id) == [("reached", call.caller_sid, call.user_id)]
    assert call_row(runtime, call.call_id).state == "finished"


def test_staff_hanging_up_before_the_dial_frees_the_request(call: ClickToCall, runtime: Any) -> None:
    _connected(call)
    call.staff_status("completed")  # hung up during "Ik bel nu": the Dial never ran, no caller leg, no action
    assert call_row(runtime, call.call_id).state == "finished" and attempts(runtime, call.request_id) == []
    call.press_call()  # not stuck "connecting": the request can be called again
    assert call_row(runtime, call.call_id).state == "ringing_staff"


def test_a_retried_press_1_gives_the_same_dial(call: ClickToCall, runtime: Any) -> None:
    call.press_call()
    call.pick_up()
    screen = call.staff.last
    first = call.press("1")
    call.staff.last = screen
    again = call.press("1")  # Twilio retried the webhook (the first answer got lost)
    assert again.xml == first.xml and call_row(runtime, call.call_id).state == "connecting"


@pytest.mark.parametrize("sequence, outcome, final", [
    (["completed", "ringing", "in-progress", "completed"], "reached", "completed"),
    (["ringing", "no-answer", "completed"], "no_answer", "no-answer"),  # the first final status stays
    (["busy", "busy", "initiated"], "busy", "busy"),
])
def test_the_caller_leg_ends_right_and_counts_once(call: ClickToCall, runtime: Any, sequence: list[str],
                                                   outcome: str, final: str) -> None:
    _connected(call)
    for status in sequence:
        assert call.caller_status(status).status_code == 204
    assert attempts(runtime, call.request_id) == [(outcome, call.caller_sid, call.user_id)]
    row = call_row(runtime, call.call_id)
    assert (row.state, row.caller_status, row.caller_call_sid) == ("finished", final, call.caller_sid)


def test_the_dial_action_and_the_status_callback_count_once_in_either_order(call: ClickToCall,
                                                                            runtime: Any) -> None:
    _connected(call)
    call.dial_done("completed")
    call.dial_done("completed")  # Twilio retried the action
    call.caller_status("completed")
    call.caller_status("ringing")
    assert attempts(runtime, call.request_id) == [("reached", call.caller_sid, call.user_id)]


def test_a_status_of_another_leg_is_ignored(call: ClickToCall, runtime: Any) -> None:
    _connected(call)
    call.caller_status("ringing")
    before = _rows(runtime)
    call.caller_status("completed", sid="CA" + "e" * 32)  # not the leg this call dialled
    call.staff_status("completed", sid="CA" + "d" * 32)
    assert _rows(runtime) == before


@pytest.mark.parametrize("early, state", [("ringing", "ringing_staff"), ("in-progress", "ringing_staff"),
                                          ("completed", "staff_missed"), ("no-answer", "staff_missed")])
def test_a_status_callback_that_outruns_the_job_still_lands(call: ClickToCall, runtime: Any, standin: Any,
                                                            early: str, state: str) -> None:
    seen: list[int] = []

    def twilio_meanwhile(placed: Any) -> None:  # before the job hears Twilio's answer (and stores the sid)
        seen.append(status_callback(call.client, placed.form["StatusCallback"], placed.sid, early).status_code)
        row = call_row(runtime, call.call_id)
        assert (row.staff_call_sid, row.staff_status) == (placed.sid, early)

    standin.before_answer(twilio_meanwhile)
    call.press_call()
    assert seen == [204]
    row = call_row(runtime, call.call_id)
    assert (row.state, row.staff_call_sid, row.staff_status) == (state, call.placed.sid, early)


@pytest.mark.parametrize("how", [{"signed": False}, {"token": "not-the-token"}])
def test_unsigned_status_callbacks_are_refused_and_change_nothing(call: ClickToCall, runtime: Any,
                                                                  how: dict[str, Any]) -> None:
    _connected(call)
    caller = Caller(call.client)
    caller.dial()
    before = _rows(runtime)
    number, attrs = call.dial.dial.numbers[0]
    for url, sid in ((attrs["statusCallback"], call.caller_sid), (call.placed.form["StatusCallback"],
                                                                 call.placed.sid), (STATUS, caller.sid)):
        params = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "CallStatus": "completed", "To": number}
        response = twilio_post(call.client, url, params, **how)
        assert response.status_code == 403
    assert _rows(runtime) == before


def test_a_signature_for_another_url_is_refused(call: ClickToCall, runtime: Any) -> None:
    _connected(call)
    before = _rows(runtime)
    number, attrs = call.dial.dial.numbers[0]
    params = {"CallSid": call.caller_sid, "AccountSid": "AC" + "0" * 32, "CallStatus": "completed"}
    other = attrs["statusCallback"].replace("leg=caller", "leg=staff")
    response = call.client.post(other.removeprefix(BASE), data=params,
                                headers={"X-Twilio-Signature": sign(attrs["statusCallback"], params, TOKEN)})
    assert response.status_code == 403 and _rows(runtime) == before


@pytest.mark.parametrize("query", ["", "?callback_call=999&leg=caller", "?callback_call=1&leg=other"])
def test_an_unknown_call_gets_204_and_changes_nothing(call: ClickToCall, runtime: Any, query: str) -> None:
    _connected(call)
    before = _rows(runtime)
    response = status_callback(call.client, STATUS + query, "CA" + "c" * 32, "completed")
    assert response.status_code == 204 and response.get_data() == b""
    assert _rows(runtime) == before


@pytest.mark.parametrize("params", [{"CallStatus": "completed"}, {"CallSid": "CA" + "1" * 32},
                                    {"CallSid": "", "CallStatus": "completed"},
                                    {"CallSid": "CA" + "1" * 70, "CallStatus": "completed"}])
def test_a_status_callback_without_sid_or_status_is_a_bad_request(client: Any, runtime: Any,
                                                                   params: dict[str, str]) -> None:
    before = _rows(runtime)
    assert twilio_post(client, STATUS, params).status_code == 400
    assert _rows(runtime) == before
