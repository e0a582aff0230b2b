"""Click-to-call against the Twilio stand-in (real `twilio` client) with a real RQ worker.

A coordinator presses "call": the job asks Twilio to ring their phone showing
the office number; their phone hears what to mind and "press 1"; 1 dials the
caller, again showing the office number; the caller leg's status callbacks
and the Dial's action record the attempt exactly once.
"""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.models import User
from core.problems import Conflict, InvalidInput
from notifications.models import OutboxMessage
from telephony.click_to_call import enqueue_place_call, request_call
from telephony.queue import close
from tests.integration.call_helpers import (COORDINATOR_PHONE, SHOWN, ClickToCall, attempts, call_row,  # noqa: F401
                                            conn, jobs, private_redis, request_row, settings, standin, walk_request,
                                            work)
from tests.integration.ivr_helpers import BASE, add_staff, at, local, parse_staff  # noqa: F401

CALLER = "+31612345678"
OWN_NO_NAME = ("2", "1", "1", "2", "1")          # own number, morning, do not say who we are, text please
TYPED_IN = ("2", "2", "0201234567", "1", "1", "1", "1")  # a keyed-in number read back, may say who we are, text
EVENTS = ["initiated", "ringing", "answered", "completed"]


@pytest.fixture
def call(client: Any, runtime: Any, conn: Any, standin: Any, jobs: Any, at: Any) -> ClickToCall:
    """A caller's request (own number, no name please) and a coordinator with a phone, not yet calling."""
    request_id = walk_request(client, CALLER, OWN_NO_NAME, runtime)
    user_id = add_staff(runtime, COORDINATOR_PHONE, on_duty=False)
    return ClickToCall(client, runtime, conn, standin, user_id, request_id)


def _ringing_caller(call: ClickToCall) -> ClickToCall:
    call.press_call()
    call.pick_up()
    assert call.press("1").dial is not None
    return call


def test_pressing_call_rings_the_staff_phone_showing_the_office_number(call: ClickToCall, standin: Any,
                                                                       runtime: Any) -> None:
    call.press_call()
    [placed] = standin.calls
    assert placed.status == 201 and placed.auth == (standin.account_sid, standin.auth_token)
    assert placed.form == {
        "To": COORDINATOR_PHONE, "From": SHOWN, "Url": f"{BASE}/telephony/voice/callback/{call.call_id}/staff",
        "Method": "POST", "Timeout": "25", "StatusCallbackMethod": "POST", "StatusCallbackEvent": "completed",
        "StatusCallback": f"{BASE}/telephony/voice/status?callback_call={call.call_id}&leg=staff"}
    assert placed.lists["StatusCallbackEvent"] == EVENTS
    assert "612345678" not in str(placed.lists)  # the caller's number never goes to Twilio before the dial
    row = call_row(runtime, call.call_id)
    assert (row.state, row.staff_call_sid, row.user_id, row.error) == ("ringing_staff", placed.sid, call.user_id, None)
    request = request_row(runtime, call.request_id)
    assert (request.status, request.assignee_id) == ("in_progress", call.user_id)


@pytest.mark.parametrize("keys, says", [
    (OWN_NO_NAME, "Terugbelverzoek van het bureau. Zeg niet wie u bent als iemand anders opneemt. "
                  "Druk 1 om nu te bellen."),
    (TYPED_IN, "Terugbelverzoek van het bureau. Het nummer is ingetoetst: controleer eerst met wie u spreekt, "
               "voordat u zegt wie u bent. Druk 1 om nu te bellen."),
    (("2", "1", "3", "1", "2"), "Terugbelverzoek van het bureau. Druk 1 om nu te bellen."),
    (("9", "2", "1", "3", "2", "2"), "Terugbelverzoek van het bureau. De beller heeft voor Engels gekozen. "
                                     "Zeg niet wie u bent als iemand anders opneemt. Druk 1 om nu te bellen."),
])
def test_the_staff_phone_hears_what_to_mind_before_pressing_1(client: Any, runtime: Any, conn: Any, standin: Any,
                                                              jobs: Any, at: Any, keys: tuple[str, ...],
                                                              says: str) -> None:
    request_id = walk_request(client, "+31687654321", keys, runtime)
    user_id = add_staff(runtime, COORDINATOR_PHONE, on_duty=False)
    call = ClickToCall(client, runtime, conn, standin, user_id, request_id).press_call()
    heard = call.pick_up()
    assert heard.text == says and heard.verbs == ("Gather", "Hangup")
    assert heard.action == f"{BASE}/telephony/voice/callback/{call.call_id}/staff/answer"
    assert "4321" not in heard.xml and "1234567" not in heard.xml  # no number is read out


def test_pressing_1_dials_the_caller_showing_the_office_number(call: ClickToCall, runtime: Any,
                                                               standin: Any) -> None:
    call.press_call()
    call.pick_up()
    heard = call.press("1")
    assert heard.text == "Ik bel nu." and heard.verbs == ("Say", "Dial")
    dial = heard.dial
    assert dial is not None and dial.attrs == {
        "callerId": SHOWN, "timeout": "30", "method": "POST",
        "action": f"{BASE}/telephony/voice/callback/{call.call_id}/done"}
    assert dial.numbers == [(CALLER, {
        "statusCallback": f"{BASE}/telephony/voice/status?callback_call={call.call_id}&leg=caller",
        "statusCallbackEvent": "initiated ringing answered completed", "statusCallbackMethod": "POST"})]
    assert COORDINATOR_PHONE[3:] not in heard.xml  # the staff member's own number is never shown
    assert call_row(runtime, call.call_id).state == "connecting"
    assert len(standin.calls) == 1  # the caller's leg is TwiML, not a second REST call


def test_a_reached_caller_is_one_attempt_whatever_reports_it(call: ClickToCall, runtime: Any) -> None:
    _ringing_caller(call)
    for status in ("initiated", "ringing", "in-progress", "completed"):
        assert call.caller_status(status).status_code == 204
    assert attempts(runtime, call.request_id) == [("reached", call.caller_sid, call.user_id)]
    heard = call.dial_done("completed")
    assert heard.hung_up and heard.text.startswith("Het gesprek is beëindigd.")
    call.caller_status("completed")  # Twilio retries a callback
    assert attempts(runtime, call.request_id) == [("reached", call.caller_sid, call.user_id)]
    row = call_row(runtime, call.call_id)
    assert (row.state, row.caller_call_sid, row.caller_status) == ("finished", call.caller_sid, "completed")
    assert request_row(runtime, call.request_id).status == "in_progress"  # the coordinator closes it


@pytest.mark.parametrize("status, outcome", [("busy", "busy"), ("no-answer", "no_answer"),
                                             ("failed", "no_answer"), ("canceled", "no_answer")])
def test_busy_and_unanswered_calls_are_recorded(call: ClickToCall, runtime: Any, status: str,
                                                outcome: str) -> None:
    _ringing_caller(call)
    call.caller_status("ringing")
    call.dial_done(status)  # the Dial's action first this time, then the status callback
    call.caller_status(status)
    assert attempts(runtime, call.request_id) == [(outcome, call.caller_sid, call.user_id)]
    assert call_row(runtime, call.call_id).state == "finished"
    assert request_row(runtime, call.request_id).status == "in_progress"


def _unanswered(call: ClickToCall) -> None:
    _ringing_caller(call)
    call.caller_status("no-answer")


def _outbox(runtime: Any, kind: str) -> list[tuple[str, str | None, str]]:
    with runtime.db.session() as s:
        return [(m.channel, m.to_address, m.language) for m in s.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind))]


@pytest.mark.parametrize("keys, text_to", [
    (OWN_NO_NAME, [("sms", CALLER, "nl")]),
    (TYPED_IN, [("sms", CALLER, "nl")]),  # to the number that called, never the typed-in one
    (("2", "1", "1", "1", "2"), []),      # no texts wanted
])
def test_three_unanswered_calls_on_two_working_days_make_the_request_unreachable(
        client: Any, runtime: Any, conn: Any, standin: Any, jobs: Any, at: Any,
        keys: tuple[str, ...], text_to: list[tuple[str, str, str]]) -> None:
    request_id = walk_request(client, CALLER, keys, runtime)
    user_id = add_staff(runtime, COORDINATOR_PHONE, on_duty=False)
    moments = [local(2026, 11, 30, 10, 0), local(2026, 12, 1, 10, 0), local(2026, 12, 1, 14, 0)]
    for n, moment in enumerate(moments):
        at(moment)
        _unanswered(ClickToCall(client, runtime, conn, standin, user_id, request_id))
        assert request_row(runtime, request_id).status == ("unreachable" if n == 2 else "in_progress")
    assert [a[0] for a in attempts(runtime, request_id)] == ["no_answer"] * 3
    assert _outbox(runtime, "callback_unreachable") == text_to
    with runtime.db.write_session() as s, pytest.raises(Conflict):
        request_call(s, s.get(User, user_id), request_id)


def test_three_unanswered_calls_on_one_day_are_not_yet_unreachable(call: ClickToCall, runtime: Any,
                                                                   at: Any) -> None:
    at(local(2026, 12, 1, 10, 0))
    for _ in range(3):
        _unanswered(ClickToCall(call.client, runtime, call.conn, call.standin, call.user_id, call.request_id))
    assert request_row(runtime, call.request_id).status == "in_progress"
    assert _outbox(runtime, "callback_unreachable") == []


@pytest.mark.parametrize("answer", ["2", "0", "silence"])
def test_a_staff_phone_that_does_not_press_1_never_calls_the_caller(call: ClickToCall, runtime: Any,
                                                                    standin: Any, answer: str) -> None:
    call.press_call()
    call.staff_status("ringing")
    call.pick_up()
    call.staff_status("in-progress")
    if answer == "silence":  # a voicemail took the staff call
        call.staff.stay_silent()
    else:
        assert call.press(answer).verbs == ("Hangup",)
    call.staff_status("completed")
    row = call_row(runtime, call.call_id)
    assert (row.state, row.staff_status, row.caller_call_sid) == ("staff_missed", "completed", None)
    assert attempts(runtime, call.request_id) == [] and len(standin.calls) == 1


def test_a_staff_phone_that_never_answers_is_missed(call: ClickToCall, runtime: Any) -> None:
    call.press_call()
    call.staff_status("ringing")
    call.staff_status("no-answer")
    assert call_row(runtime, call.call_id).state == "staff_missed"
    assert attempts(runtime, call.request_id) == []
    call.press_call()  # the coordinator may try again at once
    assert call_row(runtime, call.call_id).state == "ringing_staff"


@pytest.mark.parametrize("status, code, reason", [
    (400, 21211, "Twilio refused the call (HTTP 400, error 21211)"),
    (503, None, "Twilio refused the call (HTTP 503, error 503)"),
    (401, 20003, "Twilio refused the call (HTTP 401, error 20003)"),
])
def test_twilio_refusing_marks_the_call_failed_without_quoting_a_number(call: ClickToCall, runtime: Any,
                                                                        standin: Any, status: int,
                                                                        code: int | None, reason: str) -> None:
    standin.fail_next(1, status, code)
    call.press_call()
    row = call_row(runtime, call.call_id)
    assert (row.state, row.staff_call_sid, row.error) == ("failed", None, reason)
    for number in (COORDINATOR_PHONE, CALLER, SHOWN):
        assert number[-6:] not in (row.error or "")
    assert standin.calls == [] and attempts(runtime, call.request_id) == []
    call.press_call()  # not retried behind the coordinator's back; pressing again works
    assert call_row(runtime, call.call_id).state == "ringing_staff" and len(standin.calls) == 1


def test_twilio_unreachable_marks_the_call_failed(call: ClickToCall, runtime: Any, standin: Any) -> None:
    standin.stop()
    try:
        call.press_call()
    finally:
        standin.start()
    row = call_row(runtime, call.call_id)
    assert (row.state, row.error) == ("failed", "could not reach Twilio (ConnectionError)")


def test_the_job_run_twice_rings_once(call: ClickToCall, runtime: Any, standin: Any) -> None:
    call.press_call()
    assert enqueue_place_call(call.conn, call.call_id)  # a replayed job
    work(call.conn)
    assert len(standin.calls) == 1 and call_row(runtime, call.call_id).state == "ringing_staff"


def test_a_call_already_under_way_is_not_placed_twice(call: ClickToCall, runtime: Any) -> None:
    call.press_call()
    with runtime.db.write_session() as s, pytest.raises(Conflict):
        request_call(s, s.get(User, call.user_id), call.request_id)


def test_a_staff_member_without_a_phone_cannot_call(client: Any, runtime: Any, at: Any) -> None:
    request_id = walk_request(client, CALLER, OWN_NO_NAME, runtime)
    user_id = add_staff(runtime, None, on_duty=False)
    with runtime.db.write_session() as s, pytest.raises(InvalidInput):
        request_call(s, s.get(User, user_id), request_id)


@pytest.mark.parametrize("when", ["before the staff answers", "before the staff presses 1"])
def test_a_request_closed_meanwhile_is_gone(call: ClickToCall, runtime: Any, when: str) -> None:
    call.press_call()
    if when == "before the staff presses 1":
        call.pick_up()
    with runtime.db.write_session() as s:
        close(s, s.get(User, call.user_id), call.request_id, "done")
    heard = call.press("1") if call.staff else call.pick_up()
    assert heard.text == "Dit terugbelverzoek is al afgehandeld. Tot ziens." and heard.verbs == ("Say", "Hangup")
    assert call.dial is None and attempts(runtime, call.request_id) == []


def test_a_dial_that_ends_without_a_caller_leg_still_counts_once(call: ClickToCall, runtime: Any) -> None:
    """Twilio refused the number at once: the dial's end carries no DialCallSid, and a retry counts nothing."""
    _ringing_caller(call)
    assert call.dial is not None and call.dial.dial is not None and call.staff is not None
    for _ in range(2):
        heard = parse_staff(call.staff.post(call.dial.dial.attrs["action"], {"DialCallStatus": "failed"}))
        assert heard.hung_up
    assert [a[0] for a in attempts(runtime, call.request_id)] == ["no_answer"]
    assert call_row(runtime, call.call_id).state == "finished"


def test_a_call_whose_final_status_never_came_stops_blocking_after_a_while(call: ClickToCall, runtime: Any) -> None:
    """Twilio does not retry status callbacks: a staff leg stuck "ringing" must not block the request forever."""
    from datetime import timedelta

    from sqlalchemy import update

    from telephony.models import CallbackCall

    call.press_call()
    with runtime.db.write_session() as s, pytest.raises(Conflict):
        request_call(s, s.get(User, call.user_id), call.request_id)
    with runtime.db.write_session() as s:
        s.execute(update(CallbackCall).where(CallbackCall.id == call.call_id)
                  .values(updated_at=call_row(runtime, call.call_id).updated_at - timedelta(minutes=6)))
    with runtime.db.write_session() as s:
        assert request_call(s, s.get(User, call.user_id), call.request_id).id != call.call_id
