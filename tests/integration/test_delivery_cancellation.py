"""Invariant 3 and cancellations: nothing is sent for what was cancelled after it was queued.

Real PostgreSQL, a private redis-server and the Twilio stand-in (see
test_delivery_reliability.py); appointments booked and cancelled the way the
app does it.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import redis
from rq import Queue

from core.db import Database, utcnow
from core.queue import ThreadWorker
from core.runtime import Runtime
from notifications.outbox import cancel_pending
from scheduler.booking import book, cancel
from scheduler.models import Participant
from scheduler.rules import BookingRequest
from tests import factories
from tests.integration.delivery_support import (NUMBER, QUEUE, conn, delivery, dispatch,  # noqa: F401 - fixtures
                                                private_redis, row_locked, run_until_settled, wait_until, work)
from tests.integration.test_dispatch import id_base, make_row, rows
from tests.support.days import local, working_day
from tests.support.fixtures import smtp_server, twilio_standin  # noqa: F401 - the fixtures
from tests.support.twilio_standin import TwilioStandin
from tests.integration.booking_helpers import POLICY


def assert_all_final(db: Database) -> None:
    assert {r.status for r in rows(db).values()} <= {"sent", "dead", "cancelled", "skipped"}


# --- (f) cancelled after it was queued -------------------------------------------------------

def _appointments(db: Database, count: int) -> tuple[list[int], list[int]]:
    """`count` confirmed phone intakes on a working day next week, each with its own participant."""
    day = working_day(7)  # booking refuses a closed day: a plain "Tuesday" may be King's Day or Christmas
    with db.write_session() as s:
        mediator = factories.mediator(s)
        case = factories.case(s, [mediator], roles=("victim",) * count)
        ids = []
        for i, participant in enumerate(case.participants):
            start = local(day, 10 + 2 * i)
            appointment = book(s, BookingRequest(case_id=case.id, kind="intake", mode="phone", start=start,
                                                 end=start + timedelta(hours=1), mediator_ids=(mediator.id,),
                                                 participant_ids=(participant.id,)), None, now=utcnow(), policy=POLICY)
            ids.append(appointment.id)
        return ids, [p.id for p in case.participants]


def test_nothing_is_sent_for_an_appointment_cancelled_after_queueing(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin) -> None:
    appointment_ids, participant_ids = _appointments(delivery.db, 3)
    base, now = id_base(), utcnow()
    with delivery.db.write_session() as s:
        for i, (aid, pid) in enumerate(zip(appointment_ids, participant_ids)):
            make_row(s, base + i, now, kind="appointment_confirmed", recipient_kind="participant",
                     participant_id=pid, appointment_id=aid, appointment_version=1, to_address=NUMBER)
    assert dispatch(delivery, conn, now) == 3  # all three jobs wait in Redis
    with delivery.db.write_session() as s:
        # 1: cancelled the way the app does it: the appointment and its pending messages, in one transaction.
        cancel(s, appointment_ids[0], None, utcnow())
        cancel_pending(s, utcnow(), appointment_id=appointment_ids[0])
        # 2: the appointment cancelled, its message left queued: the send-time check must catch it.
        cancel(s, appointment_ids[1], None, utcnow())
        # 3: the participant stopped.
        participant = s.get(Participant, participant_ids[2])
        assert participant is not None
        participant.withdrawn_at = utcnow()
    work(conn)
    final = rows(delivery.db)
    assert [(final[base + i].status, final[base + i].last_error) for i in range(3)] == [
        ("cancelled", None), ("skipped", "appointment_not_live"), ("cancelled", "participant_withdrew")]
    assert twilio_standin.requests == []
    run_until_settled(delivery, conn)  # and nothing comes back later
    assert twilio_standin.requests == []
    assert_all_final(delivery.db)


def test_a_cancellation_during_the_send_waits_for_it_and_never_rewrites_history(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin) -> None:
    # The send job holds the row lock through the provider call: a cancellation arriving meanwhile
    # waits, then finds the message sent and leaves it so. Had it come first, nothing would have gone.
    (appointment_id,), (participant_id,) = _appointments(delivery.db, 1)
    base, now = id_base(), utcnow()
    with delivery.db.write_session() as s:
        phone = s.get(Participant, participant_id).phone  # the send job skips a message to a stale address
        make_row(s, base, now, kind="appointment_confirmed", recipient_kind="participant", appointment_id=appointment_id,
                 participant_id=participant_id, appointment_version=1, to_address=phone)
    dispatch(delivery, conn, now)
    twilio_standin.delay(1.5)
    worker = ThreadWorker([Queue(QUEUE, connection=conn)], connection=conn)
    thread = threading.Thread(target=worker.work, kwargs={"burst": True, "logging_level": "WARNING"})
    thread.start()
    wait_until(lambda: row_locked(delivery.db, base), timeout=10, what="the send to start")
    started = time.monotonic()
    with delivery.db.write_session() as s:
        cancel(s, appointment_id, None, utcnow())
        assert cancel_pending(s, utcnow(), appointment_id=appointment_id) == 0  # it was sent meanwhile
    assert time.monotonic() - started > 0.5  # the cancellation waited for the send's commit
    thread.join(15)
    row = rows(delivery.db)[base]
    assert (row.status, row.attempts) == ("sent", 1) and len(twilio_standin.messages) == 1
