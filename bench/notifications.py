"""Notification delivery benchmark (issue 5, "Performance"); prints rates, asserts only correctness.

    python bench/notifications.py [--messages 5000] [--jobs 2000] [--workers 2]
                                  [--time-limit 240 | --budget SECONDS]
                                  [--breakdown] [--profile [--profile-dir D]]

Real PostgreSQL, a private redis-server, the Twilio stand-in (the real `twilio`
client talks HTTP to it) and the SMTP server (aiosmtpd), both running in this
process, and `worker.py` subprocesses -- forking `rq.Worker`s, as in
production:

1. Creates `pendel_bench_notify_<pid>` (admin URL from BENCH_DATABASE_URL,
   default the local server's `test` database, used only to CREATE/DROP) and
   migrates it; starts the stand-ins and a redis-server of its own on a free
   port (no persistence, in a temporary directory).
2. The floors, each of 2,000 jobs (enqueued with the send job's timeout and
   TTLs) on a queue of their own, drained by 2
   `python worker.py --burst bench-noop` processes, timed from starting the
   processes until both have exited:
   - THE floor, `touch_database` below: what every Pendel job must do in a
     forked work horse before anything of its own — open its database
     connection and run one statement (and commit);
   - the bare floor, `noop` below: nothing at all, RQ's fork and bookkeeping
     alone. Printed for reference.
   Each floor runs half its jobs before the delivery (3.) and half after it,
   and its rate is that of both halves together: load from other work that
   rises or falls during the run weighs on the floors as on the delivery.
3. The real thing: 5,000 outbox rows written with `add_message` (half SMS to
   Dutch mobile numbers, half email with an HTML part and an invitation; due
   now; not timed), then 2 `python worker.py` processes WITHOUT --burst, as in
   production: each runs the periodic process, whose `dispatch_tick` claims
   due rows (one process wins the advisory lock each tick, 200 rows a batch,
   the next batch at once while there is a backlog) and enqueues one send job
   per row; both work the `default` queue. Timed from starting the processes
   until the database says every row is `sent`, for at most what
   --time-limit leaves after the floor (at least 30 s), or --budget seconds:
   if that runs out, the rate is that of the rows sent so far, marked as
   such. The outbox is counted once a second, and every 0.2 s before the
   first message and once the stand-ins have received them all, so the
   counting itself takes little of the database's CPU. Then checks that the
   stand-ins received exactly one message per sent row (recipient and
   provider id), 2,500 SMS and 2,500 emails when all went, and that no row
   is dead. Work horses that hung until RQ's job timeout are reported from
   the workers' logs.
4. Prints the rates and the ratio against THE floor (target >= 0.5), the bare
   floor's ratio beside it for reference, for each the wall time
   per job and worker next to the time the job function itself took
   (median, from RQ's "Successfully completed ... in" log lines; the
   difference is RQ's bookkeeping, the fork and the horse's exit), and the
   CPU that this process (the stand-ins) and PostgreSQL's backends spent
   per message.

All runs include the workers' start-up (about a second), so they compare
alike. Between the phases the outbox and the private redis-server are
emptied.

`--breakdown` runs the delivery once more with checkpoints in every work
horse (`--timed-worker`, bench/notifications_breakdown.py) and prints the
median wall and CPU time of each stretch of a job's life, fork to reaping.
`--profile` runs it once more with every work horse's `perform_job` under
cProfile (`--profiled-worker`; CPU time with BENCH_PROFILE_CPU=1) and prints
where the horses spend their time. Rates of these extra runs are not the
benchmark's.

The database, the redis-server, the stand-ins and every worker process are
gone at the end, also on failure. Exit status 1 only for wrong results.

The set-up (database, stand-ins, redis-server, workers) is in
notifications_setup.py, the phases, their checks, report lines and the
profiling in notifications_report.py, the checkpoints in
notifications_breakdown.py; this file runs them. It is imported by the work
horses (the floors' jobs are `touch_database` and `noop`, enqueued as
`bench.notifications.touch_database` and `bench.notifications.noop`), so it
imports nothing but the standard library's basics at module level, and its
helpers (and the floor job its SQLAlchemy, already loaded in the worker)
only when it runs.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MIN_BUDGET = 30.0             # seconds a delivery run gets at least, whatever --time-limit says
WORKER_MODES = ("--profiled-worker", "--timed-worker")


def noop() -> None:
    """The bare floor's job: nothing at all (the work horses import this module to find it)."""


def touch_database() -> None:
    """The floor's job: what any Pendel job does first in a fresh work horse, and nothing more.

    Open the job's database connection (the worker's runtime, whose pool the
    parent emptied before forking: a new connection, as the send job gets) and
    run one statement in a transaction, as `notifications.jobs.send_message`
    does before its own work.
    """
    from sqlalchemy import text

    from core.jobcontext import job_runtime

    with job_runtime().db.engine.begin() as conn:
        conn.execute(text("SELECT 1"))


def parse_args() -> Any:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000, help="outbox rows (half SMS, half email)")
    parser.add_argument("--jobs", type=int, default=2000, help="jobs for each floor (database-touching, no-op)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=240.0,
                        help="seconds the default run should take at most: the delivery gets what the floor left")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds each delivery run may take at most (instead of what --time-limit leaves)")
    parser.add_argument("--breakdown", action="store_true",
                        help="also run the delivery with checkpoints in every work horse; print where a job's "
                             "time goes")
    parser.add_argument("--profile", action="store_true",
                        help="also run the delivery with every work horse under cProfile")
    parser.add_argument("--profile-dir", help="keep the work horses' cProfile stats here (with --profile)")
    parser.add_argument("--worker-database-url", metavar="URL",
                        help="the workers connect here (e.g. a PgBouncer in front of the server; the "
                             "database name is replaced by the benchmark's own), not to BENCH_DATABASE_URL's server")
    return parser.parse_args()


def main() -> int:
    import shutil
    import tempfile
    import time
    from contextlib import ExitStack

    begun = time.perf_counter()
    from sqlalchemy import create_engine, text

    from bench.availability_db import ADMIN_URL
    from bench.notifications_report import delivery_phase, describe
    from bench.notifications_setup import open_environment

    args = parse_args()
    name = f"pendel_bench_notify_{os.getpid()}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    tmp = tempfile.mkdtemp(prefix="pendel-bench-notify-")
    try:
        with ExitStack() as stack:
            db, conn, twilio, smtp, env, workers = open_environment(stack, admin, name, tmp, args.worker_database_url)
            problems: list[str] = []
            label = f"outbox → dispatcher → {args.workers} workers → Twilio/SMTP stand-ins"

            # Each floor runs half its jobs before the delivery and half after: load from other work that
            # rises or falls during the run then weighs on the floors as on the delivery.
            floor_seconds: dict[str, float] = {}
            before = time.perf_counter()
            problems += run_floors(conn, workers, args.jobs // 2, args.workers, "1", floor_seconds)
            second_half = time.perf_counter() - before
            # What is left of --time-limit, less the floors' second halves, the writing of the rows and the checks.
            budget = args.budget or max(MIN_BUDGET, args.time_limit - (time.perf_counter() - begun)
                                        - second_half - 25.0)

            real = delivery_phase(db, conn, workers, args.workers, args.messages, twilio, smtp, "deliver",
                                  ["worker.py"], budget)
            problems += real.problems
            print(describe(real, args.messages, args.workers, label), flush=True)
            problems += run_floors(conn, workers, args.jobs - args.jobs // 2, args.workers, "2", floor_seconds)
            rates = {tag: args.jobs / seconds for tag, seconds in floor_seconds.items()}
            for tag, what, _ in FLOORS:
                print(f"{what}: {args.jobs} jobs in {floor_seconds[tag]:.1f} s → {rates[tag]:.0f} jobs/s")
            print(f"ratio: {real.rate / rates['floor']:.2f} (target >= 0.5); against the bare no-op floor "
                  f"{real.rate / rates['bare-floor']:.2f} (for reference)"
                  + ("" if real.elapsed is not None else " -- on the incomplete run's rate"), flush=True)

            run = (db, conn, workers, env, args, twilio, smtp, budget, label)
            if args.breakdown:
                problems += instrumented_run(*run, os.path.join(tmp, "breakdown"), "--timed-worker")
            if args.profile:
                directory = os.path.abspath(args.profile_dir) if args.profile_dir else os.path.join(tmp, "profile")
                problems += instrumented_run(*run, directory, "--profiled-worker")

            if problems:
                print("\nPROBLEMS:\n  " + "\n  ".join(problems))
                print(workers.tail())
                return 1
            return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# (tag, what it is, the job): THE floor first; the bare one is printed for reference.
FLOORS = (("floor", "floor (open a database connection, run one statement)", "bench.notifications.touch_database"),
          ("bare-floor", "bare floor (no-op jobs, for reference)", "bench.notifications.noop"))


def run_floors(conn: Any, workers: Any, n_jobs: int, n_workers: int, part: str,
               seconds: dict[str, float]) -> list[str]:
    """Both floors once with n_jobs each; adds their times to `seconds`, prints each; returns problems."""
    from bench.notifications_report import floor_phase

    problems = []
    for tag, what, job in FLOORS:
        conn.flushall()  # our own, empty server
        elapsed, per_job, problem = floor_phase(conn, workers, n_jobs, n_workers, 300.0, job=job,
                                                tag=f"{tag}-{part}")
        problems += [problem] if problem else []
        seconds[tag] = seconds.get(tag, 0.0) + elapsed
        print(f"{what}, part {part}: {n_jobs} jobs on {n_workers} forking workers: {elapsed:.1f} s "
              f"→ {n_jobs / elapsed:.0f} jobs/s\n  ({per_job})", flush=True)
    return problems


def instrumented_run(db: Any, conn: Any, workers: Any, env: dict[str, str], args: Any, twilio: Any, smtp: Any,
                     budget: float, label: str, directory: str, mode: str) -> list[str]:
    """The delivery once more with instrumented work horses (`mode`); prints what they recorded."""
    from bench.notifications_breakdown import print_breakdown
    from bench.notifications_report import delivery_phase, describe, print_profile

    os.makedirs(directory, exist_ok=True)
    workers.env = {**env, "BENCH_DIR": directory, "BENCH_PROFILE_CPU": os.environ.get("BENCH_PROFILE_CPU", "")}
    try:
        d = delivery_phase(db, conn, workers, args.workers, args.messages, twilio, smtp, mode.strip("-"),
                           [str(Path(__file__).resolve()), mode], budget)
    finally:
        workers.env = env
    if mode == "--timed-worker":
        print("\nwith checkpoints in every work horse (rates not the benchmark's):")
        print(describe(d, args.messages, args.workers, label))
        print_breakdown(directory)
    else:
        print("\nprofiled (horses under cProfile; rates not comparable):")
        print(describe(d, args.messages, args.workers, label))
        print_profile(directory)
    return [f"{mode.strip('-')} run: {p}" for p in d.problems]


def worker_entry(argv: list[str]) -> int:
    """`--profiled-worker` or `--timed-worker`, then worker.py's own arguments."""
    mode, argv = argv[0], argv[1:]
    if mode == "--profiled-worker":
        from bench.notifications_report import profile_work_horses

        profile_work_horses(os.environ["BENCH_DIR"])
    else:
        from bench.notifications_breakdown import instrument_work_horses

        instrument_work_horses(os.environ["BENCH_DIR"])
    import worker

    return worker.main(argv)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in WORKER_MODES:
        sys.exit(worker_entry(sys.argv[1:]))
    sys.exit(main())
