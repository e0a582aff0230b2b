"""The chaos run's own checks (tests/chaos/checks.py, settle.py) find what they are for.

As in tests/integration/test_invariants_check.py, each fault is planted in
one transaction on the test database, checked on that connection and
rolled back: the checks can fail, without running a whole system.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from notifications.models import OutboxMessage
from telephony.models import CallbackRequest, IvrCall
from tests import factories
from tests.chaos import checks
from tests.chaos.faults import Fault
from tests.chaos.settle import hurry, on_its_way
from tests.chaos.traffic import CallbackLedger
from tests.integration.test_invariants_check import _appointment, _message, planted  # noqa: F401 - the fixture

NOW = datetime.now(timezone.utc)
PERMANENT_SMS = "permanent: Twilio HTTP 400, error 21408"


def _window(kind: str, from_seconds: float, to_seconds: float) -> Fault:
    return Fault(kind, NOW.timestamp() + from_seconds, NOW.timestamp() + to_seconds)


def _dead_confirmation(session: Session, last_error: str = PERMANENT_SMS) -> None:
    """A confirmed appointment of a participant who may be texted only, whose confirmation died just now."""
    case = factories.case(session, [factories.mediator(session)])
    case.participants[0].email_allowed = False
    appointment = _appointment(session, case)
    _message(session, appointment, case.participants[0].id, status="dead", sent_at=None, finished_at=NOW,
             last_error=last_error)


def test_a_dead_message_is_excused_only_by_a_permanent_window_of_its_channel(
        planted: tuple[Connection, Session]) -> None:  # noqa: F811
    conn, session = planted
    _dead_confirmation(session)
    during = [_window("sms permanent", -5, 5)]
    assert checks.confirmations(conn, NOW, during) == [] and checks.dead_messages(conn, during) == []
    for faults in ([], [_window("sms transient", -5, 5)], [_window("email permanent", -5, 5)],
                   [_window("sms permanent", -300, -200)]):
        assert [v.count for v in checks.confirmations(conn, NOW, faults)] == [1]
        assert [v.count for v in checks.dead_messages(conn, faults)] == [1]


def test_a_transient_error_never_excuses_a_dead_message(planted: tuple[Connection, Session]) -> None:  # noqa: F811
    conn, session = planted
    _dead_confirmation(session, last_error="transient: Twilio HTTP 503 (after 8 attempts)")
    assert [v.count for v in checks.dead_messages(conn, [_window("sms permanent", -5, 5)])] == [1]


def _outbox(session: Session, **kw: object) -> OutboxMessage:
    values: dict[str, object] = dict(
        idempotency_key=f"planted-{time.time_ns()}", kind="callback_confirmation", channel="sms",
        recipient_kind="caller", to_address="+31612340000", body="x", status="pending", next_attempt_at=NOW)
    values.update(kw)
    row = OutboxMessage(**values)
    session.add(row)
    session.flush()
    return row


def test_messages_on_their_way_are_lost_and_hurrying_moves_only_their_timers(
        planted: tuple[Connection, Session]) -> None:  # noqa: F811
    conn, session = planted
    queued = _outbox(session, status="queued", attempts=1, lease_until=NOW + timedelta(minutes=5))
    retry = _outbox(session, attempts=2, next_attempt_at=NOW + timedelta(minutes=2), last_error="transient: x")
    planned = _outbox(session, kind="appointment_reminder", is_reminder=True, next_attempt_at=NOW + timedelta(days=2))
    assert on_its_way(conn, NOW) == [queued.id, retry.id]  # a reminder planned for later is not
    assert [v.ids for v in checks.lost_messages(conn, NOW)] == [(queued.id, retry.id)]
    assert hurry(conn, NOW) == 2
    session.expire_all()
    assert session.get(OutboxMessage, retry.id).next_attempt_at == NOW
    assert session.get(OutboxMessage, queued.id).lease_until == NOW
    assert session.get(OutboxMessage, planned.id).next_attempt_at == NOW + timedelta(days=2)


def _request(session: Session, number: str, wants_confirmation: bool = False) -> CallbackRequest:
    row = CallbackRequest(number=number, number_typed_in=False, caller_number=number, language="nl",
                          moment="morning", may_identify=False, wants_confirmation=wants_confirmation,
                          status="open", window_start=NOW, due_at=NOW + timedelta(hours=4))
    session.add(row)
    session.flush()
    return row


def test_callback_requests_the_caller_heard_taken_must_be_in_the_queue(
        planted: tuple[Connection, Session]) -> None:  # noqa: F811
    conn, session = planted
    ledger = CallbackLedger()
    ledger.walk("CA" + "c" * 32)
    ledger.web_request("0612349999")
    assert [v.count for v in checks.lost_callbacks(conn, ledger)] == [1, 1]
    by_phone = _request(session, "+31612348888")
    session.add(IvrCall(call_sid="CA" + "c" * 32, caller_number="+31612348888", callback_id=by_phone.id))
    _request(session, "+31612349999")
    session.flush()
    assert checks.lost_callbacks(conn, ledger) == []


def test_a_callback_request_that_asked_for_a_text_needs_one_that_went(
        planted: tuple[Connection, Session]) -> None:  # noqa: F811
    conn, session = planted
    request = _request(session, "+31612347777", wants_confirmation=True)
    assert [v.count for v in checks.callback_confirmations(conn, [])] == [1]
    row = _outbox(session, idempotency_key=f"callback:{request.id}:callback_confirmation:sms", status="dead",
                  finished_at=NOW, last_error=PERMANENT_SMS)
    assert [v.count for v in checks.callback_confirmations(conn, [])] == [1]
    assert checks.callback_confirmations(conn, [_window("sms permanent", -1, 1)]) == []
    row.status = "sent"
    session.flush()
    assert checks.callback_confirmations(conn, []) == []


def test_personal_data_in_the_systems_logs_is_found_by_kind(tmp_path: Path) -> None:
    (tmp_path / "gunicorn.log").write_text("[ERROR] booking failed for Deelnemer B 12a\n")
    (tmp_path / "worker-0.log").write_text("default: outbox-12-1 (sent)\n")
    assert [v.name for v in checks.personal_data_in_logs(str(tmp_path))] == [
        "personal data in the system's logs (gunicorn.log: participant name)"]
    (tmp_path / "gunicorn.log").write_text("texting +31612345678\n")
    assert [v.name for v in checks.personal_data_in_logs(str(tmp_path))] == [
        "personal data in the system's logs (gunicorn.log: phone number)"]
