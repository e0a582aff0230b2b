"""The whole-system invariant checks (tests/support/invariants.py) find what they are for.

Each fault is planted inside one transaction on the test database (where a
constraint would refuse it, the constraint is dropped in that transaction
too), checked on the same connection, and rolled back: so these show the
checks can fail, without a whole system and without leaving anything behind.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.db import Database
from notifications.models import OutboxMessage
from scheduler.models import Appointment, Attendance, Case, Reservation
from telephony.models import CallbackRequest
from tests import factories
from tests.support.invariants import Ledger, check

NOW = datetime.now(timezone.utc)
START = (NOW + timedelta(days=10)).replace(microsecond=0)


@pytest.fixture
def planted(database: Database) -> Iterator[tuple[Connection, Session]]:
    with database.engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn)
        try:
            yield conn, session
        finally:
            session.close()
            outer.rollback()


def _appointment(session: Session, case: Case, status: str = "confirmed", start: datetime = START,
                 participant: int = 0) -> Appointment:
    """An appointment with its mediator's and one participant's reservations, written as rows."""
    person = case.participants[participant]
    row = Appointment(case_id=case.id, kind="intake", mode="phone", start=start, end=start + timedelta(hours=1),
                      status=status, version=1, mediators=list(case.mediators))
    row.attendances = [Attendance(participant_id=person.id, arrival=start)]
    session.add(row)
    session.flush()
    live = status in ("held", "confirmed")
    for resource in ({"mediator_id": case.mediators[0].id}, {"participant_id": person.id}):
        session.add(Reservation(appointment_id=row.id, starts_at=row.start, ends_at=row.end, live=live, **resource))
    session.flush()
    return row


def _message(session: Session, appointment: Appointment, participant_id: int, channel: str = "sms",
             status: str = "sent", sent_at: datetime | None = NOW, **kw: object) -> OutboxMessage:
    row = OutboxMessage(idempotency_key=f"planted-{appointment.id}-{participant_id}-{channel}-{time.time_ns()}",
                        kind=kw.pop("kind", "appointment_confirmed"), channel=channel, recipient_kind="participant",
                        participant_id=participant_id, appointment_id=appointment.id, appointment_version=1,
                        status=status, sent_at=sent_at, provider_id=kw.pop("provider_id", None), **kw)
    session.add(row)
    session.flush()
    return row


def _confirmed_with_messages(session: Session) -> tuple[Case, Appointment]:
    """A case whose first participant may be texted only, with a confirmed appointment told by text."""
    case = factories.case(session, [factories.mediator(session)])
    case.participants[0].email_allowed = False
    appointment = _appointment(session, case)
    _message(session, appointment, case.participants[0].id, provider_id="SM-planted")
    return case, appointment


def names(found: list) -> list[str]:  # type: ignore[type-arg]
    return [v.name for v in found]


def test_a_consistent_database_has_no_violations(planted: tuple[Connection, Session]) -> None:
    conn, session = planted
    _confirmed_with_messages(session)
    assert check(conn, providers={"SM-planted": time.time()}, ledger=Ledger()) == []


def test_overlapping_live_reservations_are_found(planted: tuple[Connection, Session]) -> None:
    conn, session = planted
    case, first = _confirmed_with_messages(session)
    for resource in ("mediator", "participant"):
        conn.execute(text(f"ALTER TABLE reservations DROP CONSTRAINT ex_reservations_{resource}_id_overlap"))
    second = _appointment(session, case, start=START + timedelta(minutes=30))
    _message(session, second, case.participants[0].id)
    found = names(check(conn))
    assert "overlapping live reservations (mediator)" in found
    assert "overlapping live reservations (participant)" in found


def test_a_cancelled_appointment_still_holding_time_is_found(planted: tuple[Connection, Session]) -> None:
    conn, session = planted
    case = factories.case(session, [factories.mediator(session)])
    cancelled = _appointment(session, case, status="cancelled")
    session.execute(text("UPDATE reservations SET live = true WHERE appointment_id = :a"), {"a": cancelled.id})
    assert names(check(conn)) == ["live reservations of cancelled appointments"]


def test_a_confirmation_that_never_went_and_a_message_left_due_are_found(
        planted: tuple[Connection, Session]) -> None:
    conn, session = planted
    case = factories.case(session, [factories.mediator(session)])
    appointment = _appointment(session, case)  # its participant may be texted and mailed: neither went
    _message(session, appointment, case.participants[0].id, status="pending", sent_at=None,
             next_attempt_at=NOW - timedelta(minutes=5))
    found = check(conn)
    assert names(found) == ["confirmed appointments without their sent confirmation (appointment, participant, "
                            "channel)", "messages due but not sent, dead, cancelled or skipped"]
    assert found[0].count == 2  # sms and email


def test_sends_after_a_cancellation_or_a_withdrawal_are_found(planted: tuple[Connection, Session]) -> None:
    conn, session = planted
    case = factories.case(session, [factories.mediator(session)])
    cancelled = _appointment(session, case, status="cancelled")
    withdrawn = _appointment(session, case, status="cancelled", start=START + timedelta(days=1), participant=1)
    ledger = Ledger()
    ledger.cancel(cancelled.id, NOW.timestamp() - 10)
    ledger.withdraw(case.participants[1].id, NOW.timestamp() - 10)
    # Before the answers: allowed (the send was under way while the cancel waited for its row lock).
    _message(session, cancelled, case.participants[0].id, sent_at=NOW - timedelta(seconds=20), provider_id="SM-1")
    # After them: one by the outbox's clock, one by the provider's.
    _message(session, cancelled, case.participants[0].id, channel="email", provider_id="<m2@pendel.test>")
    _message(session, withdrawn, case.participants[1].id, sent_at=NOW - timedelta(seconds=30), provider_id="SM-3")
    providers = {"SM-1": NOW.timestamp() - 20, "<m2@pendel.test>": NOW.timestamp(), "SM-3": NOW.timestamp()}
    found = {v.name: v for v in check(conn, providers=providers, ledger=ledger)}
    late_db = found["sent (per the outbox) after its appointment's cancellation or its participant's withdrawal"]
    late_provider = found["reached the provider after its appointment's cancellation or its participant's "
                          "withdrawal"]
    assert (late_db.count, late_provider.count) == (1, 2)
    assert len(found) == 2


def test_outbox_and_providers_disagreeing_is_found(planted: tuple[Connection, Session]) -> None:
    conn, session = planted
    _confirmed_with_messages(session)
    found = names(check(conn, providers={"SM-somebody-else": time.time()}))
    assert found == ["sent per the outbox, never reached the provider",
                     "reached a provider without a sent outbox row (duplicates)"]
    allowed = names(check(conn, providers={"SM-planted": 0.0, "SM-duplicate": 0.0}, allow_unrecorded=True))
    assert allowed == []


def test_two_open_callback_requests_for_one_number_are_found(planted: tuple[Connection, Session]) -> None:
    conn, session = planted
    conn.execute(text("DROP INDEX uq_callback_requests_open_number"))
    for _ in range(2):
        session.add(CallbackRequest(number="+31612340000", number_typed_in=False, caller_number="+31612340000",
                                    language="nl", moment="morning", may_identify=False, wants_confirmation=False,
                                    status="open", window_start=NOW, due_at=NOW + timedelta(hours=4)))
    session.flush()
    assert names(check(conn)) == ["numbers with more than one open callback request"]
