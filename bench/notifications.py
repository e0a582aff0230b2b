"""Notification delivery benchmark (issue 5, "Performance"); prints rates, asserts only correctness.

    python bench/notifications.py [--messages 5000] [--jobs 5000] [--workers 2]
                                  [--time-limit 180 | --budget SECONDS] [--what-if] [--profile [--profile-dir D]]

Real PostgreSQL, a private redis-server, the Twilio stand-in (the real `twilio`
client talks HTTP to it) and the SMTP server (aiosmtpd), both running in this
process, and `worker.py` subprocesses -- forking `rq.Worker`s, as in
production:

1. Creates `pendel_bench_notify_<pid>` (admin URL from BENCH_DATABASE_URL,
   default the local server's `test` database, used only to CREATE/DROP) and
   migrates it; starts the stand-ins and a redis-server of its own on a free
   port (no persistence, in a temporary directory).
2. The floor: 5,000 no-op jobs (`noop` below, enqueued with the send job's
   timeout and TTLs) on a queue of their own, drained by 2
   `python worker.py --burst bench-noop` processes. Timed from starting the
   processes until both have exited.
3. The real thing: 5,000 outbox rows written with `add_message` (half SMS to
   Dutch mobile numbers, half email with an HTML part and an invitation; due
   now; not timed), then 2 `python worker.py` processes WITHOUT --burst, as in
   production: each runs the periodic thread, whose `dispatch_tick` claims
   due rows (one process wins the advisory lock each tick, 200 rows a batch,
   the next batch at once while there is a backlog) and enqueues one send job
   per row; both work the `default` queue. Timed from starting the processes
   until the database says every row is `sent` (polled every 0.2 s, for at
   most what --time-limit leaves after the floor, at least 30 s, or
   --budget seconds: if that runs out, the rate is that of the rows sent so
   far, marked as such). Then checks that the stand-ins received
   exactly one message per sent row (recipient and provider id), 2,500 SMS
   and 2,500 emails when all went, and that no row is dead. Work horses that
   hung until RQ's job timeout are reported from the workers' logs.
4. Prints both rates and their ratio (target >= 0.5), and for each the
   wall time per job and worker next to the time the job function itself
   took (median, from RQ's "Successfully completed ... in" log lines): the
   difference is RQ's bookkeeping, the fork and the horse's exit.

Both runs include the workers' start-up (about a second), so they compare
alike. Between the phases the outbox and the private redis-server are
emptied.

`--what-if` runs the delivery once more with each `worker.py` process
preparing, before it starts its periodic thread and forks its first horse,
what every horse otherwise does for itself: import the send job's modules
(twilio, requests, the channels), configure SQLAlchemy's mappers, compile
the send job's SQL, `gc.freeze()` (see `preload_worker_process`;
`--preloaded-worker` is that entry point; worker.py itself is untouched).
`--profile` runs it once more with every work horse's `perform_job` under
cProfile (`--profiled-worker`; with --what-if, on the preloading workers) and
prints where the horses spend their time. Profiled rates are not comparable.

The database, the redis-server, the stand-ins and every worker process are
gone at the end, also on failure. Exit status 1 only for wrong results.

The set-up (database, stand-ins, redis-server, workers) is in
notifications_setup.py, the phases, their checks and report lines, the
what-if and the profiling in notifications_report.py; this file runs them.
It is imported by the work horses (the floor's job is `noop`, enqueued as
`bench.notifications.noop`), so it imports nothing but the standard library's
basics at module level, and its helpers only when it runs.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MIN_BUDGET = 30.0             # seconds a delivery run gets at least, whatever --time-limit says
WORKER_MODES = ("--preloaded-worker", "--profiled-worker")


def noop() -> None:
    """The floor's job: nothing at all (the work horses import this module to find it)."""


def main() -> int:
    import argparse
    import shutil
    import tempfile
    import time
    from contextlib import ExitStack

    begun = time.perf_counter()
    from sqlalchemy import create_engine, text

    from bench.availability_db import ADMIN_URL
    from bench.notifications_report import delivery_phase, describe, floor_phase, print_profile
    from bench.notifications_setup import open_environment

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000, help="outbox rows (half SMS, half email)")
    parser.add_argument("--jobs", type=int, default=5000, help="no-op jobs for the floor")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=180.0,
                        help="seconds the default run should take at most: the delivery gets what the floor left")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds each delivery run may take at most (instead of what --time-limit leaves)")
    parser.add_argument("--what-if", action="store_true",
                        help="also run the delivery with worker processes that preload what each horse needs")
    parser.add_argument("--profile", action="store_true",
                        help="also run the delivery with every work horse under cProfile")
    parser.add_argument("--profile-dir", help="keep the work horses' cProfile stats here (with --profile)")
    args = parser.parse_args()

    name = f"pendel_bench_notify_{os.getpid()}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    tmp = tempfile.mkdtemp(prefix="pendel-bench-notify-")
    try:
        with ExitStack() as stack:
            db, conn, twilio, smtp, env, workers = open_environment(stack, admin, name, tmp)
            problems: list[str] = []
            label = f"outbox → dispatcher → {args.workers} workers → Twilio/SMTP stand-ins"

            conn.flushall()  # our own, empty server
            floor, floor_per_job, problem = floor_phase(conn, workers, args.jobs, args.workers, 600.0)
            problems += [problem] if problem else []
            floor_rate = args.jobs / floor
            print(f"floor: {args.jobs} no-op jobs on {args.workers} forking workers: {floor:.1f} s "
                  f"→ {floor_rate:.0f} jobs/s\n  ({floor_per_job})", flush=True)
            # What is left of --time-limit, less the writing of the rows and the checks afterwards.
            budget = args.budget or max(MIN_BUDGET, args.time_limit - (time.perf_counter() - begun) - 25.0)

            real = delivery_phase(db, conn, workers, args.workers, args.messages, twilio, smtp, "deliver",
                                  ["worker.py"], budget)
            problems += real.problems
            print(describe(real, args.messages, args.workers, label))
            print(f"ratio: {real.rate / floor_rate:.2f} (target >= 0.5)"
                  + ("" if real.elapsed is not None else " -- on the incomplete run's rate"), flush=True)

            script = str(Path(__file__).resolve())
            if args.what_if:
                d = delivery_phase(db, conn, workers, args.workers, args.messages, twilio, smtp, "whatif",
                                   [script, "--preloaded-worker"], budget)
                problems += [f"what-if: {p}" for p in d.problems]
                print("\nwhat-if, worker processes that prepare before they fork "
                      "(imports, mappers, compiled SQL, gc.freeze):")
                print(describe(d, args.messages, args.workers, label))
                print(f"ratio: {d.rate / floor_rate:.2f}", flush=True)

            if args.profile:
                profdir = os.path.abspath(args.profile_dir) if args.profile_dir else os.path.join(tmp, "profile")
                os.makedirs(profdir, exist_ok=True)
                workers.env = {**env, "BENCH_PROFILE_DIR": profdir}
                modes = ["--preloaded-worker"] if args.what_if else []
                d = delivery_phase(db, conn, workers, args.workers, args.messages, twilio, smtp, "profile",
                                   [script, *modes, "--profiled-worker"], budget)
                workers.env = env
                problems += [f"profiled run: {p}" for p in d.problems]
                which = "the what-if workers" if args.what_if else "worker.py as it is"
                print(f"\nprofiled ({which}, horses under cProfile; rates not comparable):")
                print(describe(d, args.messages, args.workers, label))
                print_profile(profdir)

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


def worker_entry(argv: list[str]) -> int:
    """`[--preloaded-worker] [--profiled-worker]`, then worker.py's own arguments."""
    from bench.notifications_report import preload_worker_process, profile_work_horses

    while argv and argv[0] in WORKER_MODES:
        mode, argv = argv[0], argv[1:]
        if mode == "--preloaded-worker":
            preload_worker_process()
        else:
            profile_work_horses(os.environ["BENCH_PROFILE_DIR"])
    import worker

    return worker.main(argv)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in WORKER_MODES:
        sys.exit(worker_entry(sys.argv[1:]))
    sys.exit(main())
