"""No cancellation for what was never announced.

When an appointment is cancelled (or a participant withdrawn) before its
confirmation left, the confirmation is withdrawn and no cancellation notice
is written: nobody hears "your appointment is off" about one they were never
told of. Once a confirmation went (the provider accepted it), the participant
knows, and hears that it is off. Real PostgreSQL, a private Redis with real
RQ workers, the Twilio stand-in and a local SMTP server; the appointment is
confirmed and cancelled through the domain events, as the app does it.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
import redis
from rq import Queue

from core.db import utcnow
from core.events import publish
from core.queue import ThreadWorker
from core.runtime import Runtime
from notifications.subscribers import subscribe
from scheduler.booking import cancel
from scheduler.events import AppointmentConfirmed
from scheduler.models import Appointment, Attendance, Participant
from scheduler.withdrawal import withdraw
from tests import factories
from tests.integration.delivery_support import (QUEUE, conn, delivery, dispatch,  # noqa: F401 - fixtures
                                                private_redis, row_locked, run_until_settled, wait_until, work)
from tests.integration.test_dispatch import rows
from tests.support.fixtures import smtp_server, twilio_standin  # noqa: F401 - the fixtures
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_standin import TwilioStandin


@pytest.fixture
def office(delivery: Runtime) -> Runtime:
    """The delivery runtime with notifications subscribed to the scheduler's events, as app.py wires it."""
    subscribe(delivery.bus, delivery.settings)
    return delivery


def _confirmed(runtime: Runtime, parties: int = 1, email: bool = True) -> tuple[int, list[int]]:
    """A confirmed phone appointment in three days with `parties` participants (texts on; email if asked)."""
    start = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    with runtime.db.write_session() as s:
        case = factories.case(s, [factories.mediator(s)], roles=("victim", "offender")[:parties])
        for participant in case.participants:
            participant.email_allowed = email
        appointment = Appointment(case_id=case.id, kind="meeting" if parties > 1 else "intake", mode="phone",
                                  start=start, end=start + timedelta(hours=1), status="confirmed",
                                  mediators=list(case.mediators))
        appointment.attendances = [Attendance(participant_id=p.id, arrival=start) for p in case.participants]
        s.add(appointment)
        s.flush()
        publish(s, AppointmentConfirmed(appointment.id, appointment.version, None))
        return appointment.id, [p.id for p in case.participants]


def _participant_rows(runtime: Runtime, kind: str) -> list[Any]:
    return sorted((r for r in rows(runtime.db).values() if r.recipient_kind == "participant" and r.kind == kind),
                  key=lambda r: r.id)


def first_attempts(runtime: Runtime, conn: redis.Redis) -> None:
    """Dispatch what is due now and work it: first attempts only, nothing retried."""
    dispatch(runtime, conn)
    work(conn)


def _mail_to_participants(smtp: SmtpServer) -> list[Any]:
    return [m for m in smtp.messages if any(to.endswith("@example.net") for to in m.rcpt_tos)]


@pytest.mark.parametrize("how", ["cancelled", "withdrawn"])
def test_nothing_reaches_a_participant_about_an_appointment_called_off_before_its_confirmation_left(
        office: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin, smtp_server: SmtpServer,
        how: str) -> None:
    appointment_id, (victim,) = _confirmed(office)
    with office.db.write_session() as s:
        if how == "cancelled":
            cancel(s, appointment_id, None, utcnow())
        else:
            withdraw(s, victim, None, utcnow())
    run_until_settled(office, conn)
    assert twilio_standin.messages == [] and _mail_to_participants(smtp_server) == []
    assert {r.status for r in _participant_rows(office, "appointment_confirmed")} == {"cancelled"}
    assert _participant_rows(office, "appointment_cancelled") == []
    assert smtp_server.messages, "the mediator still hears of it"


def test_a_participant_told_on_one_channel_hears_it_is_off_on_each(
        office: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin, smtp_server: SmtpServer) -> None:
    """The text confirmation went, the email one has not yet (the mail server refuses for now): the
    participant knows of the appointment, so the cancellation goes to them, by text and by email."""
    appointment_id, (victim,) = _confirmed(office)
    smtp_server.fail_always()
    first_attempts(office, conn)
    assert [r.channel for r in _participant_rows(office, "appointment_confirmed") if r.status == "sent"] == ["sms"]
    smtp_server.reset()
    with office.db.write_session() as s:
        cancel(s, appointment_id, None, utcnow())
    run_until_settled(office, conn)
    assert sorted((r.channel, r.status) for r in _participant_rows(office, "appointment_cancelled")) == [
        ("email", "sent"), ("sms", "sent")]
    assert "gaat niet door" in twilio_standin.messages[-1].form["Body"]


def test_a_cancellation_during_the_confirmations_send_waits_and_then_tells_the_participant(
        office: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin) -> None:
    """The send job holds the confirmation's row while Twilio answers; the cancellation waits for it, finds
    it sent, and so writes the cancellation notice. Had it come first, neither would have gone."""
    appointment_id, _ = _confirmed(office, email=False)
    (confirmation,) = _participant_rows(office, "appointment_confirmed")
    dispatch(office, conn)
    twilio_standin.delay(1.5)
    worker = ThreadWorker([Queue(QUEUE, connection=conn)], connection=conn)
    thread = threading.Thread(target=worker.work, kwargs={"burst": True, "logging_level": "WARNING"})
    thread.start()
    try:
        wait_until(lambda: row_locked(office.db, confirmation.id), timeout=10, what="the send to start")
        started = time.monotonic()
        with office.db.write_session() as s:
            cancel(s, appointment_id, None, utcnow())
        assert time.monotonic() - started > 0.5  # it waited for the send's commit
    finally:
        thread.join(15)
    twilio_standin.delay(0)
    run_until_settled(office, conn)
    assert [r.status for r in _participant_rows(office, "appointment_cancelled")] == ["sent"]
    bodies = [m.form["Body"] for m in twilio_standin.messages]
    assert len(bodies) == 2 and "bevestigd" in bodies[0] and "gaat niet door" in bodies[1]


def test_a_joint_meeting_cancelled_tells_only_the_party_who_had_heard_of_it(
        office: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin) -> None:
    """One party's confirmation went, the other's number was refused for now: only the first hears it is off."""
    appointment_id, (victim, offender) = _confirmed(office, parties=2, email=False)
    with office.db.session() as s:
        offender_phone = s.get(Participant, offender).phone
    twilio_standin.fail_number(offender_phone[-4:], status=503, code=None)
    first_attempts(office, conn)
    twilio_standin.reset()
    with office.db.write_session() as s:
        cancel(s, appointment_id, None, utcnow())
    run_until_settled(office, conn)
    assert [r.participant_id for r in _participant_rows(office, "appointment_cancelled")] == [victim]
