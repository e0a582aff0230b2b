"""Whether an RQ worker is still there, and a worker whose death shows within LIVENESS_TTL seconds.

A job that dies with its worker (the machine or the process killed) leaves
its record in Redis saying `started`, with the worker's name on it. Whether
that job may still be running is then a question about the worker: RQ keeps
a key `rq:worker:<name>` alive with heartbeats, lets it expire when they
stop, and marks it `death` on a clean exit. Out of the box that key outlives
a killed worker by 90 s (while a job runs) up to 8 minutes (idle), so a
message whose sender died would wait that long; `PendelWorker` makes it
short:

- it heartbeats at least every HEARTBEAT_SECONDS (the horse monitor's
  interval while a job runs, the blocking dequeue's timeout while idle), and
  each heartbeat keeps its key for LIVENESS_TTL seconds only: a worker that
  stops beating is gone from Redis within LIVENESS_TTL;
- its work horse dies with it (Linux `PR_SET_PDEATHSIG`): RQ puts the horse
  in a process group of its own, so without this a horse could outlive its
  worker and go on sending. "The worker is gone" then also means "its job is
  no longer running".

Three missed heartbeats make a worker gone: a machine so loaded that its
worker cannot reach Redis for half a minute is taken for dead. That costs
nothing by itself — a send in progress holds its outbox row's lock, which
the dispatcher respects (notifications/dispatcher.py) — it only removes the
second of two guards.
"""
from __future__ import annotations

import ctypes
import os
import signal
from typing import Any, Iterable

from rq.worker import Worker

HEARTBEAT_SECONDS = 10
LIVENESS_TTL = 30
WORKER_KEY_PREFIX = Worker.redis_worker_namespace_prefix  # "rq:worker:"
_PR_SET_PDEATHSIG = 1


class PendelWorker(Worker):
    """A forking RQ worker that is seen gone within LIVENESS_TTL seconds of its death, horse included."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("job_monitoring_interval", HEARTBEAT_SECONDS)
        kwargs.setdefault("worker_ttl", HEARTBEAT_SECONDS + 15)  # RQ's idle dequeue waits worker_ttl - 15 s
        super().__init__(*args, **kwargs)

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        """RQ's heartbeat, with the key kept LIVENESS_TTL seconds at most (RQ adds 60 s or more)."""
        super().heartbeat(min(timeout or LIVENESS_TTL, LIVENESS_TTL), pipeline=pipeline)

    def main_work_horse(self, job: Any, queue: Any) -> None:
        die_with_parent(self.pid)
        super().main_work_horse(job, queue)


def _find_prctl() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_prctl = _find_prctl()  # looked up once, in the worker: each horse only calls it


def die_with_parent(parent: int | None) -> None:
    """Linux: this process is killed when its parent dies; if that has already happened, it exits now.

    Elsewhere (no prctl) nothing changes: a horse may then outlive its worker, and only the outbox
    row's lock stands between it and a second send.
    """
    if _prctl is None or _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return
    if parent is not None and os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def workers_alive(connection: Any, names: Iterable[str]) -> set[str]:
    """Which of these workers are alive: their key is there and no clean exit is recorded on it.

    One round trip. A worker that is not a `PendelWorker` counts by RQ's own, longer, key lifetime.
    """
    names = sorted(set(names))
    if not names:
        return set()
    with connection.pipeline(transaction=False) as pipeline:
        for name in names:
            pipeline.exists(WORKER_KEY_PREFIX + name)
            pipeline.hexists(WORKER_KEY_PREFIX + name, "death")
        answers = pipeline.execute()
    return {name for name, exists, dead in zip(names, answers[::2], answers[1::2]) if exists and not dead}
