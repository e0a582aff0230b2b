"""The job queue: RQ on Redis, or on an in-process stand-in for the embedded default.

With no REDIS_URL the app runs RQ against a `fakeredis` server shared by the
web threads and one worker thread, so the same code path runs on a laptop
with nothing installed. Jobs are module-level functions that take ids.
"""
from __future__ import annotations

import logging
import threading
from functools import cache
from typing import Any

import redis
from redis.driver_info import DriverInfo
from rq import Queue
from rq.timeouts import TimerDeathPenalty
from rq.worker import SimpleWorker

from core.config import Settings

QUEUE_NAMES = ("calls", "default")  # a click-to-call never waits behind a batch of messages
log = logging.getLogger(__name__)


def connect_redis(settings: Settings) -> Any:
    """A Redis client: the real one when REDIS_URL is set, else an in-process server."""
    if settings.redis_url:
        return redis.Redis.from_url(settings.redis_url, driver_info=driver_info())
    import fakeredis  # imported only for the embedded default

    return fakeredis.FakeRedis(server=fakeredis.FakeServer())


@cache
def driver_info() -> DriverInfo:
    """What each new connection tells the server with CLIENT SETINFO (redis-py's name and version).

    Left to redis-py, every new connection looks its version up again in the installed packages'
    metadata (`importlib.metadata`, ~2 ms); a forking worker's work horse makes a new connection
    for every job. One shared, read-only value, resolved once per process.
    """
    return DriverInfo()


def queue(connection: Any, name: str = "default") -> Queue:
    return Queue(name, connection=connection)


class ThreadWorker(SimpleWorker):
    """An RQ worker that can live in a thread: no signal handlers, timer-based timeouts."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:  # signals only work in the main thread
        pass


def start_thread_worker(connection: Any, names: tuple[str, ...] = QUEUE_NAMES) -> threading.Thread:
    """Run a worker in a daemon thread of this process (embedded default only)."""
    worker = ThreadWorker([queue(connection, n) for n in names], connection=connection)

    def run() -> None:
        try:
            worker.work(with_scheduler=False, logging_level="WARNING")
        except Exception:  # noqa: BLE001 - a dead worker thread must say so
            log.exception("in-process worker stopped")

    thread = threading.Thread(target=run, name="pendel-worker", daemon=True)
    thread.start()
    return thread
