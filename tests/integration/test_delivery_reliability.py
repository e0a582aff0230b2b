"""Nothing is lost, nothing is sent that should not be (invariant 3), under real failures.

Real PostgreSQL, a PRIVATE redis-server started here (so flushing and
restarting it disturbs nobody), the Twilio stand-in (the real `twilio` client)
and a real SMTP server (aiosmtpd). Time is not waited out: where a backoff or
a lease has to pass, the dispatcher is simply asked "what is due at <later>?".
Every due message must end sent or dead; duplicates only where the provider
had accepted before the kill.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import pytest
import redis
from rq import Queue, SimpleWorker
from rq.job import Job
from sqlalchemy import select

import core.jobcontext as jobcontext
from core.config import PROJECT_ROOT, Settings
from core.db import Database, utcnow
from core.queue import ThreadWorker
from core.runtime import Runtime, build_runtime
from notifications.dispatcher import LEASE, dispatch_due, enqueue_attempts, job_id
from notifications.models import OPEN_STATUSES, OutboxMessage
from notifications.outbox import cancel_pending
from scheduler.booking import book, cancel
from scheduler.models import Participant
from scheduler.rules import BookingRequest
from tests import factories
from tests.conftest import service_unavailable
from tests.integration.test_dispatch import id_base, make_row, rows
from tests.support.fixtures import smtp_server, twilio_standin  # noqa: F401 - the fixtures
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_standin import TwilioStandin

REDIS_SERVER = "/usr/bin/redis-server"
QUEUE = "default"  # the private server is ours alone: the production queue name, as worker.py uses it
NUMBER = "+31612340001"


class PrivateRedis:
    """A redis-server of this module's own, on a free port, without persistence: restart = empty."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.directory], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conn = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                conn.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        conn.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture(scope="module")
def private_redis() -> Iterator[PrivateRedis]:
    if not os.path.exists(REDIS_SERVER):
        service_unavailable(REDIS_SERVER)
    directory = tempfile.mkdtemp(prefix="pendel-redis-")
    server = PrivateRedis(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def conn(private_redis: PrivateRedis) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(private_redis.url)
    c.flushall()  # our own server: a clean slate per test
    yield c
    c.close()


@pytest.fixture
def delivery(settings: Settings, database: Database, conn: redis.Redis, private_redis: PrivateRedis,
             twilio_standin: TwilioStandin, smtp_server: SmtpServer) -> Iterator[Runtime]:
    """The runtime send jobs in this process use: test database, private Redis, stand-ins."""
    configured = replace(settings, redis_url=private_redis.url, message_max_attempts=4,
                         **twilio_standin.settings_changes(), **smtp_server.settings_changes())
    runtime = build_runtime(configured, redis=conn)
    previous = jobcontext._runtime
    jobcontext.set_job_runtime(runtime)
    try:
        yield runtime
    finally:
        jobcontext.set_job_runtime(previous)
        runtime.db.dispose()


def dispatch(runtime: Runtime, conn: redis.Redis, now: datetime | None = None) -> int:
    with runtime.db.write_session() as s:
        return dispatch_due(s, Queue(QUEUE, connection=conn), now or utcnow(),
                            max_attempts=runtime.settings.message_max_attempts)


def work(conn: redis.Redis) -> None:
    """A real RQ worker in this process, until the queue is empty."""
    SimpleWorker([Queue(QUEUE, connection=conn)], connection=conn).work(burst=True, logging_level="WARNING")


def run_until_settled(runtime: Runtime, conn: redis.Redis, rounds: int = 12) -> None:
    """Dispatch and work, jumping the clock to the next due time, until no message is open."""
    for _ in range(rounds):
        open_rows = [r for r in rows(runtime.db).values() if r.status in OPEN_STATUSES]
        if not open_rows:
            return
        due = [r.next_attempt_at for r in open_rows if r.status == "pending"]
        due += [r.lease_until + timedelta(seconds=1) for r in open_rows if r.status == "queued" and r.lease_until]
        dispatch(runtime, conn, max([utcnow(), *[d for d in due if d is not None]]) if due else utcnow())
        work(conn)
    raise AssertionError("messages still open after all rounds")


def assert_all_final(db: Database) -> None:
    assert {r.status for r in rows(db).values()} <= {"sent", "dead", "cancelled", "skipped"}


def worker_env(runtime: Runtime, standin: TwilioStandin, smtp: SmtpServer) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    return {**keep, "REDIS_URL": runtime.settings.redis_url or "", "DATABASE_URL": runtime.settings.database_url,
            "PENDEL_ENV": "testing", "SECRET_KEY": "x", "PUBLIC_BASE_URL": "https://pendel.test",
            **standin.env(), **smtp.env()}


def wait_until(predicate: Any, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# --- (a) transient failures, then success ---------------------------------------------

def test_transient_failures_are_retried_with_backoff_until_sent(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin, smtp_server: SmtpServer) -> None:
    base, now = id_base(), utcnow()
    twilio_standin.fail_next(1, status=503)
    twilio_standin.fail_next(1, status=429)
    smtp_server.fail_next(2, "451 4.3.0 try later")
    with delivery.db.write_session() as s:
        make_row(s, base, now, to_address=NUMBER)
        make_row(s, base + 1, now, channel="email", kind="mediator_notice", recipient_kind="mediator",
                 to_address="bemiddelaar@example.org", subject="Nieuwe afspraak", body="Zie de agenda.")
    assert dispatch(delivery, conn, now) == 2
    work(conn)
    first = rows(delivery.db)
    for r in first.values():
        assert (r.status, r.attempts) == ("pending", 1)
        assert now + timedelta(seconds=1) <= r.next_attempt_at <= utcnow() + timedelta(seconds=30)
        assert NUMBER not in (r.last_error or "") and "bemiddelaar" not in (r.last_error or "")
    assert first[base].last_error.startswith("transient: Twilio HTTP 503")
    assert first[base + 1].last_error.startswith("transient: SMTP 451 4.3.0 at DATA")
    assert dispatch(delivery, conn, now) == 0  # not before its backoff

    run_until_settled(delivery, conn)
    final = rows(delivery.db)
    assert [(r.status, r.attempts, r.last_error) for r in final.values()] == [("sent", 3, None)] * 2
    assert [r.status for r in twilio_standin.requests] == [503, 429, 201]
    assert final[base].provider_id == twilio_standin.messages[0].sid
    form = twilio_standin.messages[0].form
    assert form["To"] == NUMBER and form["StatusCallback"] == "https://pendel.test/telephony/sms/status"
    assert [m.rcpt_tos for m in smtp_server.messages] == [("bemiddelaar@example.org",)]
    assert final[base + 1].provider_id == smtp_server.messages[0].message["Message-ID"]


# --- (b) permanent failures, and transient ones that never end ----------------------------

def test_permanent_failure_is_dead_at_once_and_never_tried_again(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin, smtp_server: SmtpServer) -> None:
    base, now = id_base(), utcnow()
    twilio_standin.fail_number(NUMBER[-4:], status=400, code=21610)  # unsubscribed
    smtp_server.reject_recipient("weg@example.org")
    with delivery.db.write_session() as s:
        make_row(s, base, now, to_address=NUMBER)
        make_row(s, base + 1, now, channel="email", recipient_kind="mediator", kind="mediator_notice",
                 to_address="weg@example.org", subject="Afspraak")
    dispatch(delivery, conn, now)
    work(conn)
    final = rows(delivery.db)
    assert [(r.status, r.attempts) for r in final.values()] == [("dead", 1)] * 2
    assert final[base].last_error == "permanent: Twilio HTTP 400, error 21610"
    assert final[base + 1].last_error == "permanent: SMTP 550 5.1.1 at RCPT"
    assert dispatch(delivery, conn, now + timedelta(days=2)) == 0
    work(conn)
    assert len(twilio_standin.requests) == 1 and len(smtp_server.rejections) == 1
    assert [(r.status, r.attempts) for r in rows(delivery.db).values()] == [("dead", 1)] * 2


def test_a_transient_failure_that_never_ends_is_dead_after_the_attempt_limit(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin) -> None:
    base = id_base()
    twilio_standin.fail_always(status=503)
    with delivery.db.write_session() as s:
        make_row(s, base, utcnow(), to_address=NUMBER)
    run_until_settled(delivery, conn)
    row = rows(delivery.db)[base]
    assert (row.status, row.attempts) == ("dead", 4)
    assert row.last_error.startswith("transient: Twilio HTTP 503") and row.last_error.endswith("(after 4 attempts)")
    assert len(twilio_standin.requests) == 4


# --- (c) a forking worker killed mid-send -------------------------------------------------

def test_worker_killed_while_the_provider_answers_leads_to_a_resend_at_most_once(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin, smtp_server: SmtpServer) -> None:
    base, now = id_base(), utcnow()
    with delivery.db.write_session() as s:
        make_row(s, base, now, to_address=NUMBER)
    dispatch(delivery, conn, now)
    twilio_standin.delay(3.0)  # Twilio takes the message, but answers late: the kill falls in between
    env = worker_env(delivery, twilio_standin, smtp_server)
    proc = subprocess.Popen([sys.executable, "worker.py", "--burst", QUEUE], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        # The send holds the row lock from the check to the commit: a locked row means "sending now".
        wait_until(lambda: _row_locked(delivery.db, base), timeout=30, what="the worker to start sending")
        time.sleep(0.5)  # the request reaches the stand-in
        horses = _children(proc.pid)  # RQ puts its work horse in a process group of its own
        assert horses, "the forking worker should be running its job in a work horse"
        for pid in horses:
            os.kill(pid, signal.SIGKILL)  # the horse and the worker, like a machine dying
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    twilio_standin.wait_for(1, timeout=10)  # Twilio did accept that one
    twilio_standin.reset()
    wait_until(lambda: not _row_locked(delivery.db, base), timeout=10, what="the killed transaction to end")
    row = rows(delivery.db)[base]
    assert (row.status, row.attempts, row.provider_id) == ("queued", 1, None)  # nothing was committed

    assert dispatch(delivery, conn, now + LEASE - timedelta(seconds=5)) == 0  # lease still running
    assert dispatch(delivery, conn, utcnow() + LEASE + timedelta(seconds=1)) == 1
    result = subprocess.run([sys.executable, "worker.py", "--burst", QUEUE], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    row = rows(delivery.db)[base]
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(twilio_standin.messages) == 2  # the one allowed duplicate: accepted, then killed before commit
    assert row.provider_id == twilio_standin.messages[1].sid
    assert NUMBER not in result.stderr


def _children(pid: int) -> list[int]:
    """Pids of the direct children of `pid` (our own subprocess), read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _row_locked(db: Database, row_id: int) -> bool:
    """True while another transaction (a send in progress) holds the row's lock."""
    with db.session() as s:
        found = s.execute(select(OutboxMessage.id).where(OutboxMessage.id == row_id)
                          .with_for_update(skip_locked=True)).first()
        s.rollback()
        return found is None


# --- (d) Redis flushed, Redis restarted ------------------------------------------------------

def test_flushed_redis_loses_no_message(delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin) -> None:
    base, now = id_base(), utcnow()
    with delivery.db.write_session() as s:
        make_row(s, base, now, to_address=NUMBER)
    dispatch(delivery, conn, now)
    conn.flushall()
    work(conn)  # nothing left to run
    assert rows(delivery.db)[base].status == "queued" and not twilio_standin.requests
    assert dispatch(delivery, conn, now + LEASE + timedelta(seconds=1)) == 1
    enqueue_attempts(Queue(QUEUE, connection=conn), [(base, 1)])  # the lost job turns up after all
    work(conn)
    row = rows(delivery.db)[base]
    assert (row.status, row.attempts) == ("sent", 2) and len(twilio_standin.messages) == 1
    assert Job.fetch(job_id(base, 1), connection=conn).return_value() == "stale"  # not its attempt any more


def test_restarted_redis_loses_no_message(delivery: Runtime, conn: redis.Redis, private_redis: PrivateRedis,
                                          twilio_standin: TwilioStandin) -> None:
    base, now = id_base(), utcnow()
    with delivery.db.write_session() as s:
        make_row(s, base, now, to_address=NUMBER)
        make_row(s, base + 1, now, to_address=NUMBER, body="Tweede bericht.")
    dispatch(delivery, conn, now)
    private_redis.stop()
    private_redis.start()  # no persistence: the queue is gone
    assert Queue(QUEUE, connection=conn).count == 0
    run_until_settled(delivery, conn)
    assert [(r.status, r.attempts) for r in rows(delivery.db).values()] == [("sent", 2)] * 2
    assert sorted(m.form["Body"] for m in twilio_standin.messages) == ["Tweede bericht.", "We bellen u terug."]


# --- (e) committed, never enqueued: worker.py's own dispatcher finds it -----------------------

def test_a_row_never_enqueued_is_dispatched_by_a_running_worker_process(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin, smtp_server: SmtpServer) -> None:
    base = id_base()
    with delivery.db.write_session() as s:  # as if the process died right after the booking's commit
        make_row(s, base, utcnow(), to_address=NUMBER)
        make_row(s, base + 1, utcnow(), channel="email", recipient_kind="mediator", kind="mediator_notice",
                 to_address="bemiddelaar@example.org", subject="Afspraak")
    proc = subprocess.Popen([sys.executable, "worker.py"], cwd=PROJECT_ROOT,
                            env=worker_env(delivery, twilio_standin, smtp_server),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: {r.status for r in rows(delivery.db).values()} == {"sent"}, timeout=30,
                   what="worker.py to dispatch and send")
    finally:
        proc.send_signal(signal.SIGTERM)  # RQ's warm shutdown
        try:
            _, stderr = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
    assert len(twilio_standin.messages) == 1 and len(smtp_server.messages) == 1
    assert NUMBER not in stderr and "bemiddelaar@" not in stderr


# --- (f) cancelled after it was queued -------------------------------------------------------

def _appointments(db: Database, count: int) -> tuple[list[int], list[int]]:
    """`count` confirmed phone intakes next week, each with its own participant."""
    tz = ZoneInfo("Europe/Amsterdam")
    day = (utcnow().astimezone(tz) + timedelta(days=7)).date()
    while day.weekday() != 1:  # a Tuesday
        day += timedelta(days=1)
    with db.write_session() as s:
        mediator = factories.mediator(s)
        case = factories.case(s, [mediator], roles=("victim",) * count)
        ids = []
        for i, participant in enumerate(case.participants):
            start = datetime.combine(day, datetime.min.time().replace(hour=10 + 2 * i), tz)
            appointment = book(s, BookingRequest(case_id=case.id, kind="intake", mode="phone", start=start,
                                                 end=start + timedelta(hours=1), mediator_ids=(mediator.id,),
                                                 participant_ids=(participant.id,)), None, now=utcnow())
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
        make_row(s, base, now, kind="appointment_confirmed", recipient_kind="participant", appointment_id=appointment_id,
                 participant_id=participant_id, appointment_version=1, to_address=NUMBER)
    dispatch(delivery, conn, now)
    twilio_standin.delay(1.5)
    worker = ThreadWorker([Queue(QUEUE, connection=conn)], connection=conn)
    thread = threading.Thread(target=worker.work, kwargs={"burst": True, "logging_level": "WARNING"})
    thread.start()
    wait_until(lambda: _row_locked(delivery.db, base), timeout=10, what="the send to start")
    started = time.monotonic()
    with delivery.db.write_session() as s:
        cancel(s, appointment_id, None, utcnow())
        assert cancel_pending(s, utcnow(), appointment_id=appointment_id) == 0  # it was sent meanwhile
    assert time.monotonic() - started > 0.5  # the cancellation waited for the send's commit
    thread.join(15)
    row = rows(delivery.db)[base]
    assert (row.status, row.attempts) == ("sent", 1) and len(twilio_standin.messages) == 1
