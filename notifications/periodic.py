"""Periodic work: dispatch due messages every few seconds, release expired holds every
minute, enqueue due calendar syncs every minute, purge old message content hourly.

Every `worker.py` process runs `run_periodic_loop` in a background thread (and
the dev server runs one next to its in-process worker). They all compete; a
database lock makes one of them win each tick:

- PostgreSQL: `pg_try_advisory_xact_lock(<constant>)` at the start of the
  tick's transaction. A loser returns at once and tries again next tick; the
  lock goes with the transaction, so a process that dies mid-tick frees it.
  (Even two dispatchers at once would be safe — claims use SKIP LOCKED — the
  lock just keeps N processes from querying N times per interval.)
- SQLite: one process by construction, and the tick's BEGIN IMMEDIATE
  serialises it against the web threads.

The loop uses its own engine and Redis client on PostgreSQL, not the ones the
process's jobs use: a forking RQ `Worker` forks a work horse per job, and a
child must not inherit connections this thread has open (or a pool lock it
holds at the moment of the fork).

Purge (invariant 6): finished rows older than the retention period lose their
addresses and content; the row keeps kind, status, times, attempts and error
for the audit. RQ's failed-job records, which can quote numbers, are not
purged here: every send job is enqueued with a failure TTL of an hour
(dispatcher.JOB_FAILURE_TTL), far inside any retention period, and RQ drops
them itself.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from rq import Queue
from sqlalchemy import and_, delete, or_, text, update
from sqlalchemy.orm import Session

from core.config import Settings
from core.db import Database, utcnow
from core.queue import connect_redis
from core.runtime import Runtime
from notifications import verdicts
from notifications.dispatcher import dispatch_due
from notifications.inbound_models import InboundMessage
from notifications.models import OPEN_STATUSES, OutboxMessage
from scheduler.holds import expire_holds
from telephony.retention import purge_phone_records

DISPATCH_LOCK = 0x50454E44_0001   # "PEND" + 1: an advisory lock key of our own
PURGE_LOCK = 0x50454E44_0002
HOLDS_LOCK = 0x50454E44_0003
CALENDAR_LOCK = 0x50454E44_0004
PURGE_EVERY = timedelta(hours=1)
HOLDS_EVERY = timedelta(minutes=1)
CALENDAR_EVERY = timedelta(minutes=1)
INBOUND_KEEP = timedelta(days=2)
BATCH = 200
log = logging.getLogger(__name__)


def try_tick_lock(session: Session, key: int) -> bool:
    """Take the tick's lock for this transaction; False if another process holds it."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}).scalar())


def dispatch_tick(db: Database, queue: Queue, now: datetime, settings: Settings, batch: int = BATCH) -> int | None:
    """One dispatch round; None if another process had the lock."""
    with db.write_session() as session:
        if not try_tick_lock(session, DISPATCH_LOCK):
            return None
        return dispatch_due(session, queue, now, batch, max_attempts=settings.message_max_attempts,
                            settings=settings)


def purge_expired(session: Session, now: datetime, retention_days: int) -> int:
    """Clear the personal data of finished messages older than the retention period; return how many."""
    m = OutboxMessage
    cutoff = now - timedelta(days=retention_days)
    old = or_(m.finished_at < cutoff, and_(m.finished_at.is_(None), m.created_at < cutoff))
    result = session.execute(
        update(m).where(m.status.not_in(OPEN_STATUSES), m.purged_at.is_(None), old)
        .values(to_address=None, subject=None, body=None, html_body=None, attachment_ics=None, purged_at=now),
        execution_options={"synchronize_session": False})
    # Inbound SMS records serve replay protection and the once-a-day answer: two days is plenty.
    session.execute(delete(InboundMessage).where(InboundMessage.received_at < now - INBOUND_KEEP))
    verdicts.purge(session, now, retention_days)  # numbers found not textable: as long as message content
    purge_phone_records(session, now, retention_days)
    return result.rowcount or 0


def purge_tick(db: Database, now: datetime, retention_days: int) -> int | None:
    with db.write_session() as session:
        if not try_tick_lock(session, PURGE_LOCK):
            return None
        return purge_expired(session, now, retention_days)


def holds_tick(db: Database, now: datetime) -> int | None:
    """Cancel holds that ran out, so they stop showing as held (bookings clear them on their own resources)."""
    with db.write_session() as session:
        if not try_tick_lock(session, HOLDS_LOCK):
            return None
        return len(expire_holds(session, now))


def calendar_tick(db: Database, queue: Queue, now: datetime, settings: Settings) -> int | None:
    """Claim the calendar sources due for a sync and enqueue one RQ job each (calendars.jobs).

    The fetches run in workers, not here: a slow calendar server must not hold up message dispatch.
    """
    from calendars.jobs import enqueue_syncs
    from calendars.sync import claim_due

    with db.write_session() as session:
        if not try_tick_lock(session, CALENDAR_LOCK):
            return None
        ids = claim_due(session, now, settings)
    enqueue_syncs(queue, ids)  # after the commit; a lost enqueue is retried when the interval has passed
    return len(ids)


def _own_connections(runtime: Runtime) -> tuple[Database, Any, bool]:
    """(database, redis, owned): private ones where the process may fork, the runtime's otherwise."""
    settings = runtime.settings
    if runtime.db.is_sqlite:
        db, owned = runtime.db, False
    else:
        db, owned = Database(settings.database_url, pool_size=1, max_overflow=1), True
    if settings.redis_url:
        conn: Any = connect_redis(settings)
    else:
        conn = runtime.redis  # the in-process stand-in: must be the server the worker thread reads
    return db, conn, owned


def run_periodic_loop(runtime: Runtime, stop_event: threading.Event, interval: float = 2.0,
                      queue_name: str = "default") -> None:
    """Tick until `stop_event` is set. A failing tick is logged and retried; the loop never dies of it."""
    db, conn, owned = _own_connections(runtime)
    settings = runtime.settings
    queue = Queue(queue_name, connection=conn)
    next_purge = next_holds = next_calendars = utcnow()
    try:
        while not stop_event.is_set():
            wait = interval
            try:
                now = utcnow()
                claimed = dispatch_tick(db, queue, now, settings)
                if claimed == BATCH:
                    wait = 0.0  # a backlog: take the next batch at once
                if now >= next_holds:
                    holds_tick(db, now)
                    next_holds = now + HOLDS_EVERY
                if now >= next_calendars:
                    next_calendars = now + CALENDAR_EVERY
                    calendar_tick(db, queue, now, settings)
                if now >= next_purge:
                    purged = purge_tick(db, now, settings.retention_days)
                    next_purge = now + PURGE_EVERY
                    if purged:
                        log.info("purged the content of %d old outbox messages", purged)
            except Exception:  # noqa: BLE001 - the database or Redis is away: say so, try again later
                log.exception("periodic delivery tick failed")
                wait = max(interval, 5.0)
            stop_event.wait(wait)
    finally:
        if owned:
            db.dispose()
        if conn is not runtime.redis:
            conn.close()


def start_periodic_thread(runtime: Runtime, interval: float = 2.0,
                          queue_name: str = "default") -> tuple[threading.Thread, threading.Event]:
    """Run the loop in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=run_periodic_loop, args=(runtime, stop, interval, queue_name),
                              name="pendel-periodic", daemon=True)
    thread.start()
    return thread, stop


def _periodic_process_main(parent: int) -> None:
    """Entry of the periodic child process: its own runtime, stops with SIGTERM or when its parent dies.

    `parent` comes from the parent itself: read here, after slow imports, it could already be
    the pid of whatever adopted an orphan.
    """
    import os
    import signal

    if os.getppid() != parent:
        return
    from app import build_process_runtime

    runtime = build_process_runtime()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def watch_parent() -> None:  # a SIGKILLed worker must not leave a dispatcher running on its own
        while not stop.wait(1.0):
            if os.getppid() != parent:
                stop.set()

    threading.Thread(target=watch_parent, name="pendel-parent-watch", daemon=True).start()
    run_periodic_loop(runtime, stop)


def start_periodic_process() -> Any:
    """Run the periodic loop in a fresh (spawned) process; returns the multiprocessing.Process."""
    import multiprocessing

    import os

    process = multiprocessing.get_context("spawn").Process(target=_periodic_process_main, args=(os.getpid(),),
                                                            name="pendel-periodic", daemon=True)
    process.start()
    return process
