"""Invariant 3 under crashes: a worker killed mid-send, Redis flushed or restarted, a row never enqueued.

Real PostgreSQL, a private redis-server, the Twilio and SMTP stand-ins and
real `worker.py` processes (see test_delivery_reliability.py). Every due
message must end sent; the one duplicate allowed is a message the provider
had accepted before the kill. A killed worker's messages go again once it is
seen gone (core/worker_liveness.py), not after their lease; "within a
minute" is shown by the mechanism (the worker key's lifetime), not timed.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import redis
from rq import Queue
from rq.job import Job

from core.config import PROJECT_ROOT
from core.db import utcnow
from core.runtime import Runtime
from core.worker_liveness import LIVENESS_TTL, WORKER_KEY_PREFIX, workers_alive
from notifications.dispatcher import LEASE, RECHECK_AFTER, enqueue_attempts, job_id
from tests.integration.delivery_support import (NUMBER, QUEUE, PrivateRedis, child_pids, conn,  # noqa: F401 - fixtures
                                                delivery, dispatch, private_redis, row_locked, run_until_settled,
                                                wait_until, work, worker_env)
from tests.integration.test_dispatch import id_base, make_row, rows
from tests.support.fixtures import smtp_server, twilio_standin  # noqa: F401 - the fixtures
from tests.support.private_redis import is_running
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_standin import TwilioStandin


# --- (c) a forking worker killed mid-send -------------------------------------------------

def _start_sending(delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin,
                   smtp_server: SmtpServer) -> tuple[int, subprocess.Popen[bytes], list[int]]:
    """A message claimed now, and a `worker.py --burst` whose work horse is inside its Twilio call (Twilio
    answers late): (row id, the worker process, its horses)."""
    row_id = id_base()
    with delivery.db.write_session() as s:
        make_row(s, row_id, utcnow(), to_address=NUMBER)
    dispatch(delivery, conn)
    twilio_standin.delay(3.0)  # Twilio takes the message, but answers late: a kill falls in between
    proc = subprocess.Popen([sys.executable, "worker.py", "--burst", QUEUE], cwd=PROJECT_ROOT,
                            env=worker_env(delivery, twilio_standin, smtp_server),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    # The send holds the row lock from the check to the commit: a locked row means "sending now".
    wait_until(lambda: row_locked(delivery.db, row_id), timeout=30, what="the worker to start sending")
    time.sleep(0.5)  # the request reaches the stand-in
    horses = child_pids(proc.pid)  # RQ puts its work horse in a process group of its own
    assert horses, "the forking worker should be running its job in a work horse"
    return row_id, proc, horses


def _reap(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def _worker_of(conn: redis.Redis, row_id: int, attempt: int) -> str:
    return conn.hget(Job.key_for(job_id(row_id, attempt)), "worker_name").decode()


def test_worker_killed_while_the_provider_answers_is_sent_again_once_its_worker_is_gone(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin, smtp_server: SmtpServer) -> None:
    base, proc, horses = _start_sending(delivery, conn, twilio_standin, smtp_server)
    lease_until = rows(delivery.db)[base].lease_until
    worker = _worker_of(conn, base, 1)
    try:
        for pid in horses:
            os.kill(pid, signal.SIGKILL)  # the horse and the worker, like a machine dying
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        _reap(proc)
    twilio_standin.wait_for(1, timeout=10)  # Twilio did accept that one
    twilio_standin.reset()
    wait_until(lambda: not row_locked(delivery.db, base), timeout=10, what="the killed transaction to end")
    row = rows(delivery.db)[base]
    assert (row.status, row.attempts, row.provider_id) == ("queued", 1, None)  # nothing was committed

    # The dead worker's key outlives it by LIVENESS_TTL at most (RQ's own would be 90 s to 8 min):
    # that, plus a dispatch tick, is how long its message waits.
    assert conn.ttl(WORKER_KEY_PREFIX + worker) <= LIVENESS_TTL
    wait_until(lambda: not workers_alive(conn, [worker]), timeout=LIVENESS_TTL + 30,
               what="the killed worker's key to expire")
    assert utcnow() < lease_until  # the message is sent again long before its lease would have allowed
    assert dispatch(delivery, conn) == 1
    result = subprocess.run([sys.executable, "worker.py", "--burst", QUEUE], cwd=PROJECT_ROOT,
                            env=worker_env(delivery, twilio_standin, smtp_server),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    row = rows(delivery.db)[base]
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(twilio_standin.messages) == 2  # the one allowed duplicate: accepted, then killed before commit
    assert row.provider_id == twilio_standin.messages[1].sid
    assert NUMBER not in result.stderr


def test_a_killed_worker_takes_its_work_horse_along_and_nothing_is_claimed_while_it_seems_alive(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin, smtp_server: SmtpServer) -> None:
    """Only the worker is killed: its horse (a process group of its own) must not go on sending unseen."""
    base, proc, horses = _start_sending(delivery, conn, twilio_standin, smtp_server)
    worker = _worker_of(conn, base, 1)
    try:
        os.kill(proc.pid, signal.SIGKILL)  # the worker alone
        proc.wait(10)
        wait_until(lambda: not any(is_running(pid) for pid in horses), timeout=5, what="the horse to die with it")
    finally:
        for pid in horses:
            if is_running(pid):
                os.kill(pid, signal.SIGKILL)
        _reap(proc)
    wait_until(lambda: not row_locked(delivery.db, base), timeout=10, what="the killed transaction to end")
    assert (rows(delivery.db)[base].status, rows(delivery.db)[base].attempts) == ("queued", 1)
    # Its key is still there: as far as anyone can tell the job may still run, so it is not claimed.
    alive_before = bool(workers_alive(conn, [worker]))
    claimed = dispatch(delivery, conn, utcnow() + RECHECK_AFTER + timedelta(seconds=1))
    if alive_before and workers_alive(conn, [worker]):
        assert claimed == 0
        assert (rows(delivery.db)[base].status, rows(delivery.db)[base].attempts) == ("queued", 1)


def test_a_killed_work_horse_whose_worker_lives_on_is_sent_again_at_once(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin, smtp_server: SmtpServer) -> None:
    """The worker sees its horse die and fails the job: the attempt is over, no lease to wait out."""
    base, proc, horses = _start_sending(delivery, conn, twilio_standin, smtp_server)
    try:
        for pid in horses:
            os.kill(pid, signal.SIGKILL)
        assert proc.wait(30) == 0  # the worker lives on, fails the job and (burst) ends normally
    finally:
        _reap(proc)
    twilio_standin.reset()
    assert Job.fetch(job_id(base, 1), connection=conn).get_status() == "failed"
    row = rows(delivery.db)[base]
    assert (row.status, row.attempts) == ("queued", 1)
    claimed_at = row.lease_until - LEASE
    assert dispatch(delivery, conn, claimed_at + timedelta(seconds=5)) == 0  # a claim that young is not looked at
    later = claimed_at + RECHECK_AFTER + timedelta(seconds=1)
    assert later < row.lease_until and dispatch(delivery, conn, later) == 1
    work(conn)
    row = rows(delivery.db)[base]
    assert (row.status, row.attempts) == ("sent", 2)


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
