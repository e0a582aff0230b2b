"""The dispatcher and the periodic loop against real PostgreSQL (and SQLite) and real Redis.

Redis is the shared local server, database 13 only: every test has its own
queue name and its rows get ids from a random range, so its job ids
(`outbox-<row>-<attempt>`) cannot meet another run's; afterwards only the keys
it made are deleted. Never FLUSHDB here (test_delivery_reliability.py has a
private server for that).
"""
from __future__ import annotations

import random
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any, Iterator

import pytest
import redis
from rq import Queue
from rq.job import Job
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

import core.jobcontext as jobcontext
from composition import periodic_tasks
from core.config import Settings
from core.db import Database, utcnow
from core.periodic import start_periodic_thread
from core.queue import start_thread_worker
from core.runtime import build_runtime
from notifications.dispatcher import JOB_FAILURE_TTL, LEASE, SEND_JOB, dispatch_due, job_id
from notifications.models import OutboxMessage
from notifications.periodic import DISPATCH_LOCK, dispatch_tick, purge_expired
from scheduler import booking
from tests.conftest import both_databases
from tests.integration.booking_helpers import build_world, future_start, request
from tests.integration.booking_helpers import POLICY



# --- helpers (also used by test_delivery_reliability.py) --------------------------

def id_base() -> int:
    """A random id range per test: job ids in a shared Redis never collide across runs."""
    return random.randrange(10**5, 2 * 10**7) * 100  # ids are 32-bit integers


def make_row(session: Session, row_id: int, now: datetime, **kw: Any) -> OutboxMessage:
    """An outbox row needing no appointment: a callback confirmation to the caller's number by default."""
    values: dict[str, Any] = dict(
        id=row_id, idempotency_key=f"test:{row_id}", kind="callback_confirmation", channel="sms",
        recipient_kind="caller", language="nl", is_reminder=False, to_address="+31612345678",
        body="We bellen u terug.", status="pending", not_before=now, next_attempt_at=now, attempts=0,
        created_at=now)
    values.update(kw)
    row = OutboxMessage(**values)
    session.add(row)
    session.flush()
    return row


def rows(db: Database) -> dict[int, OutboxMessage]:
    with db.session() as session:
        return {r.id: r for r in session.scalars(select(OutboxMessage))}


# --- fixtures -----------------------------------------------------------------------

@pytest.fixture
def base() -> int:
    return id_base()


@pytest.fixture
def queue(real_redis: redis.Redis, base: int) -> Iterator[Queue]:
    """A queue of this test's own; afterwards every key naming it or this test's jobs is removed."""
    q = Queue(f"pendel-test-{uuid.uuid4().hex[:12]}", connection=real_redis)
    yield q
    _clean_up(real_redis, q.name, base)


def _clean_up(conn: redis.Redis, name: str, base: int) -> None:
    doomed = set(conn.scan_iter(match=f"*{name}*", count=1000))
    doomed.update(conn.scan_iter(match=f"*outbox-{base // 100}[0-9][0-9]-*", count=1000))  # our rows' jobs
    if doomed:
        conn.delete(*doomed)
    conn.srem("rq:queues", f"rq:queue:{name}")
    assert not list(conn.scan_iter(match=f"*{name}*")), "test keys left behind in Redis"


def queued_ids(queue: Queue) -> set[str]:
    return set(queue.job_ids)


# --- claiming -----------------------------------------------------------------------

@both_databases
def test_claims_due_rows_then_enqueues_one_job_per_attempt(database: Database, queue: Queue, base: int) -> None:
    now = utcnow()
    with database.write_session() as s:
        make_row(s, base + 1, now, next_attempt_at=now - timedelta(minutes=2))
        make_row(s, base + 2, now)                                               # due exactly now
        make_row(s, base + 3, now, next_attempt_at=now + timedelta(seconds=1))  # not yet
        make_row(s, base + 4, now, status="sent", finished_at=now)
        make_row(s, base + 5, now, status="cancelled", finished_at=now)
    with database.write_session() as s:
        assert dispatch_due(s, queue, now) == 2
    after = rows(database)
    for rid in (base + 1, base + 2):
        assert (after[rid].status, after[rid].attempts) == ("queued", 1)
        assert after[rid].lease_until == now + LEASE
    assert (after[base + 3].status, after[base + 3].attempts) == ("pending", 0)
    assert queued_ids(queue) == {job_id(base + 1, 1), job_id(base + 2, 1)}
    job = Job.fetch(job_id(base + 1, 1), connection=queue.connection)
    assert job.func_name == SEND_JOB and job.args == (base + 1, 1)
    assert job.failure_ttl == JOB_FAILURE_TTL and job.id == f"outbox-{base + 1}-1"
    # Leased rows are not claimed again while the lease runs.
    with database.write_session() as s:
        assert dispatch_due(s, queue, now + LEASE - timedelta(seconds=1)) == 1  # only the row that fell due
    assert queued_ids(queue) == {job_id(base + 1, 1), job_id(base + 2, 1), job_id(base + 3, 1)}


@both_databases
def test_oldest_first_and_at_most_a_batch(database: Database, queue: Queue, base: int) -> None:
    now = utcnow()
    with database.write_session() as s:
        for i in range(5):
            make_row(s, base + i, now, next_attempt_at=now - timedelta(minutes=i))
    with database.write_session() as s:
        assert dispatch_due(s, queue, now, batch=2) == 2
    assert queued_ids(queue) == {job_id(base + 4, 1), job_id(base + 3, 1)}


@both_databases
def test_a_lost_job_is_claimed_again_after_its_lease_with_the_next_attempt(database: Database, queue: Queue,
                                                                           base: int) -> None:
    now = utcnow()
    with database.write_session() as s:
        make_row(s, base, now)
    with database.write_session() as s:
        dispatch_due(s, queue, now)
    Job.fetch(job_id(base, 1), connection=queue.connection).delete()  # Redis lost it (flush, restart)
    with database.write_session() as s:
        assert dispatch_due(s, queue, now + LEASE - timedelta(seconds=1)) == 0  # lease still running
    with database.write_session() as s:
        assert dispatch_due(s, queue, now + LEASE + timedelta(seconds=1)) == 1
    row = rows(database)[base]
    assert (row.status, row.attempts) == ("queued", 2)
    assert queued_ids(queue) == {job_id(base, 2)}  # a new id: ids are never reused


def test_a_job_still_waiting_in_the_queue_gets_a_longer_lease_not_a_second_job(database: Database, queue: Queue,
                                                                               base: int) -> None:
    # A backlog is not a loss: re-claiming would burn an attempt and enqueue a duplicate job.
    now = utcnow()
    with database.write_session() as s:
        make_row(s, base, now)
    with database.write_session() as s:
        dispatch_due(s, queue, now)
    later = now + LEASE + timedelta(seconds=1)
    with database.write_session() as s:
        assert dispatch_due(s, queue, later) == 0
    row = rows(database)[base]
    assert (row.status, row.attempts, row.lease_until) == ("queued", 1, later + LEASE)
    assert queued_ids(queue) == {job_id(base, 1)}


def test_crash_between_commit_and_enqueue_only_delays_the_message(database: Database, queue: Queue,
                                                                  base: int) -> None:
    now = utcnow()
    with database.write_session() as s:
        make_row(s, base, now)
    dead_redis = Queue(queue.name, connection=redis.Redis(port=1, socket_connect_timeout=0.5))
    with database.write_session() as s, pytest.raises(redis.exceptions.ConnectionError):
        dispatch_due(s, dead_redis, now)  # the claim commits; the enqueue never happens
    row = rows(database)[base]
    assert (row.status, row.attempts) == ("queued", 1)
    with database.write_session() as s:
        assert dispatch_due(s, queue, now + LEASE + timedelta(seconds=1)) == 1
    assert queued_ids(queue) == {job_id(base, 2)}


@both_databases
def test_the_attempt_limit_makes_a_row_dead_not_queued(database: Database, queue: Queue, base: int) -> None:
    now, past = utcnow(), utcnow() - timedelta(minutes=1)
    with database.write_session() as s:
        make_row(s, base + 1, now, status="queued", attempts=8, lease_until=past, last_error="transient: x")
        make_row(s, base + 2, now, status="pending", attempts=8, last_error="transient: SMTP 451 at RCPT")
        make_row(s, base + 3, now, status="queued", attempts=7, lease_until=past)
    with database.write_session() as s:
        assert dispatch_due(s, queue, now, max_attempts=8) == 1
    after = rows(database)
    assert (after[base + 1].status, after[base + 1].finished_at) == ("dead", now)
    assert after[base + 1].last_error == "no outcome from the last attempt (job lost)"
    assert after[base + 2].status == "dead" and after[base + 2].last_error == "transient: SMTP 451 at RCPT"
    assert (after[base + 3].status, after[base + 3].attempts) == ("queued", 8)
    assert queued_ids(queue) == {job_id(base + 3, 8)}
    Job.fetch(job_id(base + 3, 8), connection=queue.connection).delete()  # the last attempt is lost too
    with database.write_session() as s:
        assert dispatch_due(s, queue, now + timedelta(days=1), max_attempts=8) == 0
    assert rows(database)[base + 3].status == "dead"




@both_databases
def test_a_row_only_postponed_at_the_limit_is_claimed_again(database: Database, queue: Queue, base: int) -> None:
    """A reminder postponed for quiet hours on its last attempt has no error: it is not dead, it goes on."""
    now = utcnow()
    with database.write_session() as s:
        make_row(s, base + 1, now, status="pending", attempts=8, last_error=None, kind="appointment_reminder")
    with database.write_session() as s:
        assert dispatch_due(s, queue, now, max_attempts=8) == 1
    after = rows(database)[base + 1]
    assert (after.status, after.attempts) == ("queued", 9)
    assert queued_ids(queue) == {job_id(base + 1, 9)}


def test_a_postponed_reminder_keeps_no_error(runtime: Any) -> None:
    """The send job postpones a reminder that falls in quiet hours and clears the last attempt's error."""
    from notifications.jobs import attempt_send

    db = runtime.db
    w = build_world(db)
    start = future_start()
    with db.write_session() as s:
        booking.book(s, request(w, start=start), None, utcnow(), policy=POLICY)
    with db.session() as s:
        reminder = s.scalars(select(OutboxMessage).where(OutboxMessage.is_reminder.is_(True),
                                                         OutboxMessage.channel == "sms")
                             .order_by(OutboxMessage.not_before)).first()
    with db.write_session() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == reminder.id).values(
            status="queued", attempts=8, last_error="transient: SMTP 451 at DATA"))
    night = (start - timedelta(days=3)).astimezone(runtime.settings.tz).replace(hour=23, minute=0)
    with db.engine.begin() as conn:
        assert attempt_send(conn, runtime.settings, reminder.id, 8, night) == "postponed"
    after = rows(db)[reminder.id]
    assert (after.status, after.attempts, after.last_error) == ("pending", 8, None)
    assert after.next_attempt_at.astimezone(runtime.settings.tz).hour == 8

def test_a_participant_message_that_dies_here_tells_the_mediators(runtime: Any, queue: Queue) -> None:
    """The last attempt's job was lost (worker killed): the dispatcher marks the row dead, and the
    mediators hear of it in that transaction, as when the send job gives up."""
    db, settings = runtime.db, runtime.settings
    w = build_world(db)
    with db.write_session() as s:
        booking.book(s, request(w, start=future_start()), None, utcnow(), policy=POLICY)
    with db.session() as s:
        confirmation = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "appointment_confirmed",
                                                             OutboxMessage.channel == "sms")).one()
    now = utcnow()
    with db.write_session() as s:  # only this row is due: no job goes to the shared Redis
        s.execute(update(OutboxMessage).values(next_attempt_at=now + timedelta(days=1)))
        s.execute(update(OutboxMessage).where(OutboxMessage.id == confirmation.id).values(
            status="queued", attempts=settings.message_max_attempts, lease_until=now - timedelta(minutes=1)))
    assert dispatch_tick(db, queue, now, settings) == 0
    after = rows(db)
    assert after[confirmation.id].status == "dead"
    notices = [r for r in after.values() if r.idempotency_key.startswith(f"dead:{confirmation.id}:")]
    assert sorted(r.mediator_id for r in notices) == w.mediator_ids   # the case's two mediators
    assert {(r.kind, r.channel, r.status) for r in notices} == {("mediator_notice", "email", "pending")}
    assert queued_ids(queue) == set()


# --- several dispatchers (PostgreSQL) ------------------------------------------------

def test_locked_rows_are_skipped_not_waited_for(database: Database, queue: Queue, base: int) -> None:
    now = utcnow()
    with database.write_session() as s:
        for i in range(6):
            make_row(s, base + i, now)
        # A send in progress holds its row even after its lease ran out: not to be claimed twice.
        make_row(s, base + 6, now, status="queued", attempts=1, lease_until=now - timedelta(minutes=1))
    holder = database.sessions()
    try:
        holder.execute(select(OutboxMessage.id).where(OutboxMessage.id.in_([base, base + 1, base + 6]))
                       .with_for_update())
        started = time.monotonic()
        with database.write_session() as s:
            s.execute(text("SET LOCAL lock_timeout = '3s'"))  # waiting instead of skipping fails the test
            assert dispatch_due(s, queue, now) == 4
        assert time.monotonic() - started < 2.0
    finally:
        holder.rollback()
        holder.close()
    assert queued_ids(queue) == {job_id(base + i, 1) for i in range(2, 6)}
    assert rows(database)[base + 6].attempts == 1


def test_two_concurrent_dispatchers_claim_disjoint_rows(database: Database, real_redis: redis.Redis,
                                                        queue: Queue, base: int) -> None:
    now = utcnow()
    with database.write_session() as s:
        for i in range(80):
            make_row(s, base + i, now, next_attempt_at=now - timedelta(seconds=i))
    other = Queue(f"{queue.name}-b", connection=real_redis)  # named after ours: cleaned up with it
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(q: Queue) -> None:
        try:
            barrier.wait(5)
            while True:
                with database.write_session() as s:
                    if dispatch_due(s, q, now, batch=7) == 0:
                        return
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(q,)) for q in (queue, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    mine, theirs = queued_ids(queue), queued_ids(other)
    assert mine and theirs, "both dispatchers should have found work"
    assert not mine & theirs
    assert mine | theirs == {job_id(base + i, 1) for i in range(80)}
    assert {r.attempts for r in rows(database).values()} == {1}


def test_the_tick_lock_lets_one_process_win(database: Database, settings: Settings, queue: Queue,
                                            base: int) -> None:
    now = utcnow()
    with database.write_session() as s:
        make_row(s, base, now)
    other = database.sessions()
    try:
        assert other.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": DISPATCH_LOCK}).scalar() is True
        assert dispatch_tick(database, queue, now, settings) is None  # another process has this tick
    finally:
        other.rollback()
        other.close()
    assert dispatch_tick(database, queue, now, settings) == 1


# --- purge ---------------------------------------------------------------------------

@both_databases
def test_purge_clears_old_finished_messages_only(database: Database, base: int) -> None:
    now = utcnow()
    old, recent = now - timedelta(days=181), now - timedelta(days=179)
    ics = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    with database.write_session() as s:
        make_row(s, base + 1, old, status="sent", finished_at=old, subject="Afspraak", html_body="<p>x</p>",
                 attachment_ics=ics, provider_id="SM1")
        make_row(s, base + 2, old, status="dead", finished_at=old, last_error="permanent: Twilio HTTP 400, error 21610")
        make_row(s, base + 3, old, status="sent", finished_at=recent)
        make_row(s, base + 4, old, status="pending")  # open: still needs its content
    with database.write_session() as s:
        assert purge_expired(s, now, 180) == 2
    after = rows(database)
    for rid in (base + 1, base + 2):
        r = after[rid]
        assert (r.to_address, r.subject, r.body, r.html_body, r.attachment_ics) == (None,) * 5
        assert r.purged_at == now
    assert after[base + 1].provider_id == "SM1" and after[base + 1].status == "sent"  # what the audit needs stays
    assert after[base + 2].last_error.startswith("permanent")
    assert after[base + 3].body and after[base + 4].body
    with database.write_session() as s:
        assert purge_expired(s, now, 180) == 0


# --- the embedded default: SQLite, fakeredis, worker and periodic threads ------------

@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_embedded_default_dispatches_and_sends_through_the_console(database: Database, base: int) -> None:
    runtime = build_runtime(Settings(environment="testing", database_url=database.url, secret_key="x"),
                            redis=None)
    from core.queue import connect_redis

    runtime.redis = connect_redis(runtime.settings)
    previous = jobcontext._runtime
    jobcontext.set_job_runtime(runtime)
    name = f"pendel-test-{uuid.uuid4().hex[:12]}"
    start_thread_worker(runtime.redis, names=(name,))
    thread, stop = start_periodic_thread(runtime, periodic_tasks(), interval=0.1, queue_name=name)
    try:
        with database.write_session() as s:
            make_row(s, base, utcnow())
            make_row(s, base + 1, utcnow(), channel="email", recipient_kind="mediator", kind="mediator_notice",
                     to_address="m@example.org", subject="Afspraak")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and {r.status for r in rows(database).values()} != {"sent"}:
            time.sleep(0.05)
        after = rows(database)
        assert {r.status for r in after.values()} == {"sent"}
        assert after[base].provider_id == f"console-{base}" and after[base].attempts == 1
        assert after[base + 1].provider_id == f"console-{base + 1}"
    finally:
        stop.set()
        thread.join(5)
        jobcontext.set_job_runtime(previous)
        runtime.db.dispose()
    assert not thread.is_alive()
