"""Jobs run by real RQ workers: in this process, as `python worker.py`, and in-process on fakeredis.

Real Redis is the shared local server, database 13 only; every test uses its own
queue name and deletes only the keys it made. Never FLUSHDB here.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from typing import Any, Iterator

import pytest
import redis
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from sqlalchemy import select

import core.jobcontext as jobcontext
from core.config import PROJECT_ROOT, Settings
from core.db import Database, utcnow
from core.queue import ThreadWorker, connect_redis, start_thread_worker
from core.runtime import Runtime, build_runtime
from scheduler.booking import book
from scheduler.jobs import expire_holds_job
from scheduler.models import Appointment, Reservation
from scheduler.rules import BookingRequest
from tests import factories
from tests.conftest import REDIS_TEST_URL
from tests.support.clock_offset import with_test_clock
from tests.integration.booking_helpers import POLICY
from tests.support.days import working_day_at



# --- fixtures ----------------------------------------------------------------

@pytest.fixture
def queue_name(real_redis: redis.Redis) -> Iterator[str]:
    """A queue of this test's own; afterwards every key naming it (or its jobs) is removed."""
    name = f"pendel-test-{uuid.uuid4().hex[:12]}"
    yield name
    _clean_up(real_redis, name)


def _clean_up(conn: redis.Redis, name: str) -> None:
    q = Queue(name, connection=conn)
    job_ids: set[str] = set(q.job_ids)
    for registry in (q.finished_job_registry, q.failed_job_registry, q.started_job_registry,
                     q.deferred_job_registry, q.scheduled_job_registry, q.canceled_job_registry):
        job_ids.update(registry.get_job_ids())
    job_ids.update(_TRACKED.pop(name, set()))
    doomed: set[bytes] = set()
    for pattern in [f"*{name}*", *(f"*{job_id}*" for job_id in job_ids)]:
        doomed.update(conn.scan_iter(match=pattern, count=500))
    for key in conn.scan_iter(match="rq:worker:*", count=500):  # our workers' own records
        if conn.type(key) == b"hash" and name.encode() in (conn.hget(key, "queues") or b"").split(b","):
            doomed.add(key)
    for key in doomed:
        for registry in (b"rq:workers", b"rq:queues"):
            conn.srem(registry, key)
    if doomed:
        conn.delete(*doomed)
    conn.srem("rq:queues", f"rq:queue:{name}")
    assert not list(conn.scan_iter(match=f"*{name}*")), "test keys left behind in Redis"


_TRACKED: dict[str, set[str]] = {}


def _enqueue(conn: Any, name: str, func: Any, *args: Any) -> Job:
    job = Queue(name, connection=conn).enqueue(func, *args)
    _TRACKED.setdefault(name, set()).add(job.id)
    return job


@pytest.fixture
def job_runtime(database: Database) -> Iterator[Runtime]:
    """The runtime jobs in this process use: the test database, restored afterwards."""
    runtime = build_runtime(Settings(environment="testing", database_url=database.url, secret_key="x"))
    try:
        with jobcontext.job_runtime_as(runtime):
            yield runtime
    finally:
        runtime.db.dispose()


def _holds(database: Database) -> tuple[int, int]:
    """An appointment whose hold ran out an hour ago, and one whose hold is still running."""
    real_now = utcnow()
    start = working_day_at(10, days_ahead=2)
    with database.write_session() as session:
        gone, still = factories.mediator(session), factories.mediator(session)
        case = factories.case(session, [gone, still])
        expired = book(session, BookingRequest(case_id=case.id, kind="intake", mode="phone", start=start,
                                               end=start + timedelta(hours=1), mediator_ids=(gone.id,),
                                               participant_ids=(case.participants[0].id,)),
                       None, now=real_now - timedelta(hours=1), policy=POLICY, hold_for=timedelta(minutes=15))
        running = book(session, BookingRequest(case_id=case.id, kind="intake", mode="phone", start=start,
                                               end=start + timedelta(hours=1), mediator_ids=(still.id,)),
                       None, now=real_now, policy=POLICY, hold_for=timedelta(minutes=15))
        ids = expired.id, running.id
    with database.session() as session:
        for appointment_id in ids:
            appointment = session.get(Appointment, appointment_id)
            assert appointment is not None and appointment.status == "held"
            assert _live_reservations(session, appointment_id) == 1
        assert session.get(Appointment, ids[0]).hold_expires_at < real_now  # type: ignore[union-attr]
    return ids


def _live_reservations(session: Any, appointment_id: int) -> int:
    """The hold's live reservations of its mediator (its participants' have their own, alike)."""
    return len(session.scalars(select(Reservation).where(Reservation.appointment_id == appointment_id,
                                                         Reservation.mediator_id.is_not(None),
                                                         Reservation.live)).all())


def _assert_expired_only(database: Database, expired_id: int, running_id: int) -> None:
    with database.session() as session:
        expired = session.get(Appointment, expired_id)
        assert expired is not None
        assert (expired.status, expired.cancel_reason) == ("cancelled", "hold_expired")
        assert _live_reservations(session, expired_id) == 0
        assert session.scalars(select(Reservation).where(Reservation.appointment_id == expired_id)).all()
        running = session.get(Appointment, running_id)
        assert running is not None and running.status == "held" and running.cancel_reason is None
        assert _live_reservations(session, running_id) == 1


# --- a real RQ worker in this process ----------------------------------------

def test_simple_worker_expires_holds(real_redis: redis.Redis, queue_name: str, database: Database,
                                     job_runtime: Runtime) -> None:
    expired_id, running_id = _holds(database)
    job = _enqueue(real_redis, queue_name, expire_holds_job)
    assert job.get_status() == JobStatus.QUEUED
    worker = SimpleWorker([Queue(queue_name, connection=real_redis)], connection=real_redis,
                          name=f"{queue_name}-w")
    assert worker.work(burst=True, logging_level="WARNING") is True
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED, job.latest_result()
    assert job.return_value() == 1
    _assert_expired_only(database, expired_id, running_id)
    # Running it again finds nothing more to do.
    again = _enqueue(real_redis, queue_name, expire_holds_job)
    SimpleWorker([Queue(queue_name, connection=real_redis)], connection=real_redis,
                 name=f"{queue_name}-w2").work(burst=True, logging_level="WARNING")
    again.refresh()
    assert again.return_value() == 0
    _assert_expired_only(database, expired_id, running_id)


def test_the_freed_slot_can_be_booked_after_the_job(real_redis: redis.Redis, queue_name: str, database: Database,
                                                    job_runtime: Runtime) -> None:
    expired_id, _ = _holds(database)
    _enqueue(real_redis, queue_name, expire_holds_job)
    SimpleWorker([Queue(queue_name, connection=real_redis)], connection=real_redis,
                 name=f"{queue_name}-w").work(burst=True, logging_level="WARNING")
    with database.write_session() as session:
        old = session.get(Appointment, expired_id)
        assert old is not None
        new = book(session, BookingRequest(case_id=old.case_id, kind="intake", mode="phone", start=old.start,
                                           end=old.end, mediator_ids=tuple(m.id for m in old.mediators)),
                   None, now=utcnow(), policy=POLICY)
        assert new.status == "confirmed"


# --- `python worker.py` as its own process --------------------------------------

def _worker_env(database: Database, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    return with_test_clock({**keep, "REDIS_URL": REDIS_TEST_URL, "DATABASE_URL": database.url,
                            "PENDEL_ENV": "testing", "SECRET_KEY": "x", **extra})


def test_worker_process_runs_a_job_in_burst_mode(real_redis: redis.Redis, queue_name: str,
                                                 database: Database) -> None:
    expired_id, running_id = _holds(database)
    job = _enqueue(real_redis, queue_name, expire_holds_job)
    result = subprocess.run([sys.executable, "worker.py", "--burst", queue_name], cwd=PROJECT_ROOT,
                            env=_worker_env(database), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED, (job.latest_result(), result.stderr[-3000:])
    assert job.return_value() == 1
    _assert_expired_only(database, expired_id, running_id)
    # Burst mode means it stopped by itself, leaving the queue empty.
    assert Queue(queue_name, connection=real_redis).count == 0


def test_worker_process_without_redis_url_refuses_in_one_line(database: Database) -> None:
    env = _worker_env(database)
    del env["REDIS_URL"]
    result = subprocess.run([sys.executable, "worker.py", "--burst"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0
    assert "Traceback" not in output and len(output.splitlines()) == 1
    assert "REDIS_URL" in output


# --- the embedded default: fakeredis and a worker thread ---------------------

def _poll(job: Job, timeout: float = 10.0) -> JobStatus | None:
    deadline = time.monotonic() + timeout
    status = job.get_status(refresh=True)
    while status not in (JobStatus.FINISHED, JobStatus.FAILED) and time.monotonic() < deadline:
        time.sleep(0.05)
        status = job.get_status(refresh=True)
    return status


def test_connect_redis_without_url_gives_a_private_fakeredis() -> None:
    import fakeredis

    settings = Settings(environment="testing", secret_key="x")
    first, second = connect_redis(settings), connect_redis(settings)
    assert isinstance(first, fakeredis.FakeRedis)
    assert first.ping() is True
    first.set("pendel-probe", "1")
    assert second.get("pendel-probe") is None  # each process (app) gets its own server


def test_connect_redis_with_url_gives_real_redis(real_redis: redis.Redis) -> None:
    conn = connect_redis(Settings(environment="testing", secret_key="x", redis_url=REDIS_TEST_URL))
    try:
        assert type(conn) is redis.Redis
        assert conn.connection_pool.connection_kwargs["db"] == int(REDIS_TEST_URL.rsplit("/", 1)[1])
        assert conn.ping() is True
    finally:
        conn.close()


def test_connect_redis_names_the_library_with_one_value_resolved_once(real_redis: redis.Redis) -> None:
    settings = Settings(environment="testing", secret_key="x", redis_url=REDIS_TEST_URL)
    first, second = connect_redis(settings), connect_redis(settings)
    try:
        assert first.ping() is True and second.ping() is True
        # What each new connection tells the server (CLIENT SETINFO, Redis 7.2 and later), resolved
        # once: not looked up again in the package metadata for every work horse's new connection.
        info = first.connection_pool.connection_kwargs["driver_info"]
        assert info.formatted_name == "redis-py" and info.lib_version == redis.__version__
        assert second.connection_pool.connection_kwargs["driver_info"] is info
    finally:
        first.close()
        second.close()


def test_thread_worker_runs_an_enqueued_job(database: Database, job_runtime: Runtime) -> None:
    conn = connect_redis(Settings(environment="testing", secret_key="x"))
    name = f"pendel-test-{uuid.uuid4().hex[:12]}"
    expired_id, running_id = _holds(database)
    thread = start_thread_worker(conn, names=(name,))
    assert thread.daemon and thread.is_alive()
    job = Queue(name, connection=conn).enqueue(expire_holds_job)
    assert _poll(job) == JobStatus.FINISHED, job.latest_result()
    assert job.return_value() == 1
    _assert_expired_only(database, expired_id, running_id)
    assert thread.is_alive()  # keeps serving the dev server after a job
    # A second job goes through the same long-lived worker.
    second = Queue(name, connection=conn).enqueue(expire_holds_job)
    assert _poll(second) == JobStatus.FINISHED
    assert second.return_value() == 0


def test_thread_worker_installs_no_signal_handlers() -> None:
    # The reason it can live in a thread at all (core/queue.py, ThreadWorker): no signals, timer-based timeouts.
    from rq.timeouts import TimerDeathPenalty

    assert issubclass(ThreadWorker, SimpleWorker)
    assert ThreadWorker.death_penalty_class is TimerDeathPenalty
    conn = connect_redis(Settings(environment="testing", secret_key="x"))
    import threading

    errors: list[BaseException] = []

    def install() -> None:
        try:
            ThreadWorker([Queue("x", connection=conn)], connection=conn)._install_signal_handlers()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t = threading.Thread(target=install)
    t.start()
    t.join(5)
    assert errors == []
