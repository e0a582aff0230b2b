"""Fixtures and helpers for the delivery-reliability tests (test_delivery_*.py).

A PRIVATE redis-server per test module (so flushing and restarting it disturbs
nobody), the runtime that send jobs in this process use, and the moves those
tests make: dispatch as of a given time, work the queue with a real RQ worker,
settle everything by jumping the clock, start worker.py, watch row locks.

Import the fixtures into a test module, with the stand-ins they depend on:

    from tests.integration.delivery_support import conn, delivery, private_redis  # noqa: F401
    from tests.support.fixtures import smtp_server, twilio_standin  # noqa: F401
"""
from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Iterator

import pytest
import redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

import core.jobcontext as jobcontext
from core.config import Settings
from core.db import Database, utcnow
from core.runtime import Runtime, build_runtime
from notifications.dispatcher import dispatch_due
from notifications.models import OPEN_STATUSES, OutboxMessage
from tests.integration.test_dispatch import rows
from tests.support.clock_offset import with_test_clock
from tests.support.fixtures import conn, private_redis  # noqa: F401 - fixtures, re-exported for the tests
from tests.support.private_redis import PrivateRedis
from tests.support.private_redis import children_of as child_pids  # noqa: F401 - re-exported for the tests
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_standin import TwilioStandin

QUEUE = "default"  # the private server is ours alone: the production queue name, as worker.py uses it
NUMBER = "+31612340001"


@pytest.fixture
def delivery(settings: Settings, database: Database, conn: redis.Redis, private_redis: PrivateRedis,
             twilio_standin: TwilioStandin, smtp_server: SmtpServer) -> Iterator[Runtime]:
    """The runtime send jobs in this process use: test database, private Redis, stand-ins."""
    configured = replace(settings, redis_url=private_redis.url, message_max_attempts=4,
                         **twilio_standin.settings_changes(), **smtp_server.settings_changes())
    runtime = build_runtime(configured, redis=conn)
    try:
        with jobcontext.job_runtime_as(runtime):
            yield runtime
    finally:
        runtime.db.dispose()


def dispatch(runtime: Runtime, conn: redis.Redis, now: datetime | None = None) -> int:
    with runtime.db.write_session() as s:
        return dispatch_due(s, Queue(QUEUE, connection=conn), now or utcnow(),
                            max_attempts=runtime.settings.message_max_attempts, settings=runtime.settings)


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


def worker_env(runtime: Runtime, standin: TwilioStandin, smtp: SmtpServer) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    return with_test_clock({
        **keep, "REDIS_URL": runtime.settings.redis_url or "", "DATABASE_URL": runtime.settings.database_url,
        "PENDEL_ENV": "testing", "SECRET_KEY": "x", "PUBLIC_BASE_URL": "https://pendel.test",
        **standin.env(), **smtp.env()})


def wait_until(predicate: Any, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def row_locked(db: Database, row_id: int) -> bool:
    """True while another transaction (a send in progress) holds the row's lock."""
    with db.session() as s:
        found = s.execute(select(OutboxMessage.id).where(OutboxMessage.id == row_id)
                          .with_for_update(skip_locked=True)).first()
        s.rollback()
        return found is None
