"""RQ worker entry point: `python worker.py [--burst] [queue ...]`.

Needs REDIS_URL (the embedded default runs its worker as a thread inside the
dev server instead). Except with --burst, each worker also starts a child
process with the packages' periodic work — outbox dispatch, expired holds,
calendar sync, purge (core/periodic.py, the tasks from composition.py): every
worker starts one, a database lock lets one win each tick. It is a process,
not a thread, because the worker forks a work horse per job and a fork must
not copy a lock a thread holds; for the same reason the worker loads
everything before it forks (core/preload.py, each plugin's job modules and
warm-up). The worker is a `PendelWorker` (core/worker_liveness.py):
its death shows in Redis within half a minute and takes its work horse
along, so the dispatcher sends the messages it had claimed again at once.
A periodic child that dies on its own is started again at the worker's next
heartbeat (core.periodic.PeriodicChild).
"""
from __future__ import annotations

import sys
from typing import Any

from core.config import ConfigError, load_settings
from core.periodic import PeriodicChild
from core.preload import preload_for_fork
from core.queue import QUEUE_NAMES, queue


def main(argv: list[str]) -> int:
    burst = "--burst" in argv  # work until the queues are empty, then exit (scripts, tests)
    argv = [a for a in argv if a != "--burst"]
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"pendel worker: configuration error: {exc}", file=sys.stderr)
        return 2
    if not settings.redis_url:
        print("pendel worker: REDIS_URL is not set; without it the dev server runs its own worker", file=sys.stderr)
        return 2
    from composition import PLUGINS, build_process_runtime, periodic_setup
    from core.jobcontext import set_job_runtime
    from core.worker_liveness import PendelWorker

    class Worker(PendelWorker):
        """Keeps its periodic child running: looked at with every heartbeat, in the worker's main thread."""

        def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
            super().heartbeat(timeout, pipeline=pipeline)
            if periodic is not None:
                periodic.keep_running(stopping=self._stop_requested)

    runtime = build_process_runtime(settings)
    set_job_runtime(runtime)
    names = tuple(argv) or QUEUE_NAMES
    periodic = None
    if not burst:  # a burst run only drains the queues (scripts, tests); it dispatches nothing new
        periodic = PeriodicChild(periodic_setup)
    preload_for_fork(runtime, PLUGINS)
    worker = Worker([queue(runtime.redis, n) for n in names], connection=runtime.redis)
    try:
        worker.work(burst=burst, with_scheduler=True)
    finally:
        if periodic is not None:
            periodic.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
