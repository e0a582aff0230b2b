"""The dispatcher claims a queued row before its lease ends only on word that its job is over.

Real PostgreSQL and a private redis-server; the job records and worker keys
RQ would write are written here directly, so each state is exact (the same
states with real, killed workers: test_delivery_crash_recovery.py).
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from rq import Queue
from rq.job import Job

from core.db import Database, utcnow
from core.worker_liveness import LIVENESS_TTL, WORKER_KEY_PREFIX, PendelWorker, workers_alive
from notifications.dispatcher import LEASE, RECHECK_AFTER, attempt_states, dispatch_due, job_id
from tests.integration.delivery_support import QUEUE, conn, private_redis  # noqa: F401 - fixtures
from tests.integration.test_dispatch import id_base, make_row, rows

LATER = RECHECK_AFTER + timedelta(seconds=1)  # old enough a claim to be asked about


def _claim(database: Database, conn: redis.Redis, row_id: int) -> None:
    now = utcnow()
    with database.write_session() as s:
        make_row(s, row_id, now)
    with database.write_session() as s:
        assert dispatch_due(s, Queue(QUEUE, connection=conn), now) == 1


def _dispatch(database: Database, conn: redis.Redis, when: timedelta) -> int:
    with database.write_session() as s:
        return dispatch_due(s, Queue(QUEUE, connection=conn), utcnow() + when)


def _job(conn: redis.Redis, row_id: int, status: str, worker: str | None = None) -> None:
    """The job's record as RQ leaves it, taken off the queue: its status, and the worker that started it."""
    conn.lrem(Queue(QUEUE, connection=conn).key, 0, job_id(row_id, 1))
    conn.hset(Job.key_for(job_id(row_id, 1)), mapping={"status": status, "worker_name": worker or ""})


def _worker(conn: redis.Redis, name: str, dead: bool = False) -> None:
    conn.hset(WORKER_KEY_PREFIX + name, mapping={"state": "busy", **({"death": "2026-01-01"} if dead else {})})
    conn.expire(WORKER_KEY_PREFIX + name, LIVENESS_TTL)


def test_a_job_running_on_a_worker_that_is_still_there_is_never_claimed_again(
        database: Database, conn: redis.Redis) -> None:
    base = id_base()
    _claim(database, conn, base)
    _job(conn, base, "started", "w-alive")
    _worker(conn, "w-alive")
    assert _dispatch(database, conn, LATER) == 0
    assert _dispatch(database, conn, LEASE - timedelta(seconds=1)) == 0
    # Not even when the lease has run out: the worker says it runs, so the lease is extended.
    assert _dispatch(database, conn, LEASE + timedelta(seconds=1)) == 0
    row = rows(database)[base]
    assert (row.status, row.attempts) == ("queued", 1) and row.lease_until > utcnow() + LEASE
    assert Queue(QUEUE, connection=conn).job_ids == []  # the job was dequeued; no second one came


@pytest.mark.parametrize("worker_key", ["gone", "clean exit"])
def test_a_job_whose_worker_is_gone_is_claimed_again_before_its_lease(
        database: Database, conn: redis.Redis, worker_key: str) -> None:
    base = id_base()
    _claim(database, conn, base)
    _job(conn, base, "started", "w-dead")
    if worker_key == "clean exit":
        _worker(conn, "w-dead", dead=True)
    assert _dispatch(database, conn, timedelta(seconds=5)) == 0  # too young a claim to be looked at
    assert _dispatch(database, conn, LATER) == 1
    row = rows(database)[base]
    assert (row.status, row.attempts) == ("queued", 2)
    assert Queue(QUEUE, connection=conn).job_ids == [job_id(base, 2)]


@pytest.mark.parametrize("status", ["failed", "stopped", "finished"])
def test_an_ended_job_is_claimed_again_before_its_lease(database: Database, conn: redis.Redis, status: str) -> None:
    base = id_base()
    _claim(database, conn, base)
    _job(conn, base, status, "w-alive")
    _worker(conn, "w-alive")
    assert _dispatch(database, conn, LATER) == 1
    assert rows(database)[base].attempts == 2


def test_a_waiting_or_unknown_job_waits_out_its_lease(database: Database, conn: redis.Redis) -> None:
    base = id_base()
    _claim(database, conn, base)          # waiting in the queue
    _claim(database, conn, base + 1)
    Job.fetch(job_id(base + 1, 1), connection=conn).delete()  # no record: never enqueued, or Redis lost it
    assert attempt_states(conn, [(base, 1), (base + 1, 1)]) == {(base, 1): "waiting", (base + 1, 1): "unknown"}
    assert _dispatch(database, conn, LEASE - timedelta(seconds=1)) == 0
    assert _dispatch(database, conn, LEASE + timedelta(seconds=1)) == 1  # the lost one; the waiting one is kept
    assert {r.id: r.attempts for r in rows(database).values()} == {base: 1, base + 1: 2}


def test_a_row_locked_by_its_send_is_skipped_even_when_its_worker_seems_gone(
        database: Database, conn: redis.Redis) -> None:
    """The row lock is the first guard: a send in progress is never claimed twice."""
    from sqlalchemy import select

    from notifications.models import OutboxMessage

    base = id_base()
    _claim(database, conn, base)
    _job(conn, base, "started", "w-dead")
    holder = database.sessions()
    try:
        holder.execute(select(OutboxMessage.id).where(OutboxMessage.id == base).with_for_update())
        assert _dispatch(database, conn, LATER) == 0
    finally:
        holder.rollback()
        holder.close()
    assert rows(database)[base].attempts == 1


def test_a_pendel_worker_keeps_its_key_for_the_liveness_ttl_only(conn: redis.Redis) -> None:
    worker = PendelWorker([Queue(QUEUE, connection=conn)], connection=conn)
    worker.register_birth()
    try:
        worker.heartbeat()                      # idle: RQ would keep it worker_ttl + 60 s
        assert 0 < conn.ttl(worker.key) <= LIVENESS_TTL
        worker.heartbeat(worker.job_monitoring_interval + 60)  # while a job runs: RQ's 60 s more
        assert 0 < conn.ttl(worker.key) <= LIVENESS_TTL
        # It beats well inside that: every job_monitoring_interval while a job runs, every dequeue timeout idle.
        assert max(worker.job_monitoring_interval, worker.dequeue_timeout) * 3 <= LIVENESS_TTL
        assert workers_alive(conn, [worker.name, "nobody"]) == {worker.name}
    finally:
        worker.register_death()
    assert workers_alive(conn, [worker.name]) == set()  # a clean exit counts as gone at once
