"""The periodic loop: each package's periodic work, run once across all processes.

The work comes from the plugins (`Plugin.periodic`, core/plugins.py
`PeriodicTask`), handed in by the entry point (composition.py
`periodic_tasks()`): today notifications dispatch due messages every turn of
the loop (two seconds) and purge old message content hourly, scheduler
releases expired holds and calendars enqueue due syncs every minute, telephony
purges its phone records hourly. Core knows none of them.

Every `worker.py` process runs `run_periodic_loop` in a child process (and the
dev server runs one in a thread next to its in-process worker). They all
compete; a database lock makes one of them win each task's tick:

- PostgreSQL: `pg_try_advisory_xact_lock(<the task's key>)` at the start of
  the tick's transaction. A loser returns at once and tries again next turn;
  the lock goes with the transaction, so a process that dies mid-tick frees
  it. (Even two dispatchers at once would be safe — claims use SKIP LOCKED —
  the lock just keeps N processes from querying N times per interval.)
- SQLite: one process by construction, and the tick's BEGIN IMMEDIATE
  serialises it against the web threads.

The loop uses its own engine and Redis client on PostgreSQL, not the ones the
process's jobs use: a forking RQ `Worker` forks a work horse per job, and a
child must not inherit connections the loop has open (or a pool lock it holds
at the moment of the fork). Under worker.py the loop is a spawned process,
not a thread, for the same reason: a fork must not copy a lock a thread holds.

A failing task is logged and tried again at the next turn (after five
seconds); it holds up neither the other tasks nor the loop.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence

from rq import Queue
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.config import Settings
from core.db import Database, utcnow
from core.plugins import PeriodicTask, Plugin
from core.queue import connect_redis
from core.runtime import Runtime

log = logging.getLogger(__name__)
FAILED_WAIT = 5.0  # seconds before the next turn after a task failed (the database or Redis away)


@dataclass
class Tick:
    """What a task's `run` gets: its transaction (holding the task's lock), the time, settings and queue."""

    session: Session
    now: datetime
    settings: Settings
    queue: Queue | None = None
    _after_commit: list[Callable[[], None]] = field(default_factory=list)
    # What the tick did, per kind of record ("message contents": 12): `flask purge` prints it.
    counts: dict[str, int] = field(default_factory=dict)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the tick's transaction committed (e.g. enqueue jobs for what it claimed)."""
        self._after_commit.append(action)

    def count(self, kind: str, n: int) -> int:
        """Report `n` records of `kind` done; returns `n`, so a task can sum what it reports."""
        self.counts[kind] = self.counts.get(kind, 0) + n
        return n


def try_tick_lock(session: Session, key: int) -> bool:
    """Take the tick's lock for this transaction; False if another process holds it."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}).scalar())


def run_task(task: PeriodicTask, db: Database, now: datetime, settings: Settings,
             queue: Queue | None = None) -> int | None:
    """One tick of `task` in its own transaction; None if another process had its lock."""
    with db.write_session() as session:
        if not try_tick_lock(session, task.lock_key):
            return None
        tick = Tick(session, now, settings, queue)
        result = task.run(tick)
    for action in tick._after_commit:
        action()
    return result


def run_once(task: PeriodicTask, db: Database, now: datetime, settings: Settings,
             dry_run: bool = False) -> dict[str, int] | None:
    """One run of `task` for a command, reporting what it did per kind; None if another process had its lock.

    With `dry_run` the task runs in full and its transaction is rolled back: the counts say what it would do.
    """
    with db.write_session() as session:
        if not try_tick_lock(session, task.lock_key):
            return None
        tick = Tick(session, now, settings)
        task.run(tick)
        if dry_run:
            session.rollback()
    if not dry_run:
        for action in tick._after_commit:
            action()
    return tick.counts


def collect_tasks(plugins: Iterable[Plugin]) -> tuple[PeriodicTask, ...]:
    """Every plugin's periodic tasks, the most frequent first; two with one name or lock key are refused."""
    tasks = [task for plugin in plugins for task in plugin.periodic]
    for what, values in (("name", [t.name for t in tasks]), ("lock key", [t.lock_key for t in tasks])):
        repeated = sorted({str(v) for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"periodic tasks share a {what}: {', '.join(repeated)}")
    return tuple(sorted(tasks, key=lambda t: t.every))


def _own_connections(runtime: Runtime) -> tuple[Database, Any, bool]:
    """(database, redis, owned): private ones where the process may fork, the runtime's otherwise."""
    settings = runtime.settings
    if runtime.db.is_sqlite:
        db, owned = runtime.db, False
    else:
        # With the runtime's bus: a task's work publishes domain events as a request's does (an erasure).
        db, owned = Database(settings.database_url, event_bus=runtime.bus, pool_size=1, max_overflow=1), True
    if settings.redis_url:
        conn: Any = connect_redis(settings)
    else:
        conn = runtime.redis  # the in-process stand-in: must be the server the worker thread reads
    return db, conn, owned


def run_periodic_loop(runtime: Runtime, tasks: Sequence[PeriodicTask], stop_event: threading.Event,
                      interval: float = 2.0, queue_name: str = "default") -> None:
    """Turn every `interval` seconds until `stop_event` is set, running each task that is due.

    Every task runs at the first turn. A failing task is logged and retried at the next turn;
    the loop never dies of it.
    """
    db, conn, owned = _own_connections(runtime)
    settings = runtime.settings
    queue = Queue(queue_name, connection=conn)
    due = {task.name: utcnow() for task in tasks}
    try:
        while not stop_event.is_set():
            failed = backlog = False
            now = utcnow()
            for task in tasks:
                if now < due[task.name]:
                    continue
                try:
                    done = run_task(task, db, now, settings, queue)
                except Exception:  # noqa: BLE001 - the database or Redis is away: say so, try again later
                    log.exception("periodic task %s failed", task.name)
                    failed = True
                    continue
                due[task.name] = now + task.every
                if task.backlog is not None and done is not None and done >= task.backlog:
                    backlog = True  # e.g. a full batch of due messages: take the next one at once
            stop_event.wait(max(interval, FAILED_WAIT) if failed else 0.0 if backlog else interval)
    finally:
        if owned:
            db.dispose()
        if conn is not runtime.redis:
            conn.close()


def start_periodic_thread(runtime: Runtime, tasks: Sequence[PeriodicTask], interval: float = 2.0,
                          queue_name: str = "default") -> tuple[threading.Thread, threading.Event]:
    """Run the loop in a daemon thread (the dev server's); set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=run_periodic_loop, args=(runtime, tasks, stop, interval, queue_name),
                              name="pendel-periodic", daemon=True)
    thread.start()
    return thread, stop


PeriodicSetup = Callable[[], "tuple[Runtime, Sequence[PeriodicTask]]"]


def _periodic_process_main(parent: int, setup: PeriodicSetup) -> None:
    """Entry of the periodic child process: its own runtime, stops with SIGTERM or when its parent dies.

    `parent` comes from the parent itself: read here, after slow imports, it could already be
    the pid of whatever adopted an orphan.
    """
    import os
    import signal

    if os.getppid() != parent:
        return
    runtime, tasks = setup()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def watch_parent() -> None:  # a SIGKILLed worker must not leave a dispatcher running on its own
        while not stop.wait(1.0):
            if os.getppid() != parent:
                stop.set()

    threading.Thread(target=watch_parent, name="pendel-parent-watch", daemon=True).start()
    run_periodic_loop(runtime, tasks, stop)


def start_periodic_process(setup: PeriodicSetup) -> Any:
    """Run the periodic loop in a fresh (spawned) process; returns the multiprocessing.Process.

    `setup` builds the child's runtime and names its tasks (composition.periodic_setup): a
    module-level function, since a spawned process gets it by name.
    """
    import multiprocessing
    import os

    process = multiprocessing.get_context("spawn").Process(target=_periodic_process_main,
                                                            args=(os.getpid(), setup),
                                                            name="pendel-periodic", daemon=True)
    process.start()
    return process


class PeriodicChild:
    """worker.py's periodic process, started again when it dies on its own (a SIGKILL, the OOM killer).

    Without this a worker.py whose child died ran on without periodic work,
    and once every worker's child was gone nothing was dispatched, no hold
    expired and nothing was purged until a worker.py was restarted (found by
    the chaos run, tests/chaos/). `keep_running()` is called from the worker's
    main thread at each heartbeat (at most ten seconds apart, idle or busy),
    never from a thread of its own: the worker forks, and a fork must not copy
    a lock a thread holds. In a work horse (a fork of the worker, which also
    heartbeats) and while the worker stops it does nothing.
    """

    def __init__(self, setup: PeriodicSetup) -> None:
        import os

        self.setup, self.owner, self.restarts = setup, os.getpid(), 0
        self.process = start_periodic_process(setup)

    def keep_running(self, stopping: bool = False) -> bool:
        """Start the child again if it is gone; True if it was. Cheap: one `waitpid` that does not wait."""
        import os

        if stopping or os.getpid() != self.owner or self.process.is_alive():
            return False
        log.warning("the periodic process ended (exit code %s); starting it again", self.process.exitcode)
        self.process = start_periodic_process(self.setup)
        self.restarts += 1
        return True

    def stop(self, timeout: float = 10.0) -> None:
        self.process.terminate()
        self.process.join(timeout)
