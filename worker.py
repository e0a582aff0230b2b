"""RQ worker entry point: `python worker.py [--burst] [queue ...]`.

Needs REDIS_URL (the embedded default runs its worker as a thread inside the
dev server instead). Except with --burst, each process also runs a thread with
the periodic work — outbox dispatch, expired holds, purge —
(notifications/periodic.py): every process runs it, a database lock lets one
win each tick.
"""
from __future__ import annotations

import sys

from core.config import ConfigError, load_settings
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
    from rq import Worker

    from app import build_process_runtime
    from core.jobcontext import set_job_runtime

    runtime = build_process_runtime(settings)
    set_job_runtime(runtime)
    names = tuple(argv) or QUEUE_NAMES
    worker = Worker([queue(runtime.redis, n) for n in names], connection=runtime.redis)
    stop = None
    if not burst:  # a burst run only drains the queues (scripts, tests); it dispatches nothing new
        from notifications.periodic import start_periodic_thread

        _, stop = start_periodic_thread(runtime)
    try:
        worker.work(burst=burst, with_scheduler=True)
    finally:
        if stop is not None:
            stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
