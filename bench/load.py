"""Mixed load on the whole system (issue 14, "Mixed load"): throughput and latency per kind, then the invariants.

    python bench/load.py [--seconds 60] [--concurrency 8] [--seed 1] [--web-workers N] [--worker-processes 2]
                         [--floor-requests 400]

Starts Pendel as production runs it (tests/support/system.py: a PostgreSQL
database of its own, gunicorn with 2 x cores + 1 sync workers, two
`worker.py` processes on a private redis-server, the Twilio and SMTP
stand-ins), writes a small office (tests/support/office.py) and runs every
kind of traffic at once on `--concurrency` client threads for `--seconds`
(tests/support/traffic.py; weights in tests/support/traffic_mix.py):
phone-line walks, web callback requests, availability searches, bookings
racing for the same first free slot, reschedules, cancellations, withdrawals,
feed downloads, staff pages, participant pages.

It prints per kind: requests, requests/s, p50/p99, the expected refusals (a
booking or reschedule that lost its race: 409) and errors (anything else).
Then it lets the outbox settle and checks the database and the stand-ins
(tests/support/invariants.py). Last, with the mix over, for each kind that a
single-purpose benchmark has a floor for, it measures the kind alone (the
same operation on the same threads for 6 s, nothing else asked) and the
floor itself, on the same database, gunicorn options and concurrency
(bench/load_floors.py), and prints each kind's p50 and p99 in the mix over
the floor's and over its own alone: what running everything at once costs.

Exit status 1 on any invariant violation, any unexpected error, or an outbox
that does not settle within a minute; the timings are printed, never judged.
Needs PostgreSQL (TEST_DATABASE_URL, default the local server's `test`
database, used only to create and drop `pendel_system_<pid>_…`) and
/usr/bin/redis-server.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.load_floors import availability_floor, http_floors, ratio_table  # noqa: E402
from tests.support import invariants  # noqa: E402
from tests.support.office import seed_office  # noqa: E402
from tests.support.system import System, default_web_workers  # noqa: E402
from tests.support.traffic import Traffic  # noqa: E402
from tests.support.traffic_mix import MixReport, run_mix  # noqa: E402

SETTLE_SECONDS = 60.0
ALONE_SECONDS = 6.0
ALONE = {"availability": "availability", "ivr walk": "ivr_walk", "staff page": "staff_page",
         "participant page": "participant_page"}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the mix runs")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--seed", type=int, default=1, help="seed of the client threads' draws")
    parser.add_argument("--web-workers", type=int, default=default_web_workers(), help="gunicorn workers")
    parser.add_argument("--worker-processes", type=int, default=2, help="worker.py processes")
    parser.add_argument("--floor-requests", type=int, default=400, help="requests per floor")
    return parser.parse_args()


def outbox_summary(system: System) -> str:
    with system.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT channel, status, count(*) FROM outbox_messages "
                                    "GROUP BY channel, status ORDER BY 1, 2").all()
        callbacks = conn.exec_driver_sql("SELECT count(*), count(*) FILTER (WHERE status IN ('open', "
                                         "'in_progress')) FROM callback_requests").one()
        appointments = conn.exec_driver_sql("SELECT status, count(*) FROM appointments GROUP BY 1 ORDER BY 1").all()
    return (f"outbox: {', '.join(f'{c} {s} {n}' for c, s, n in rows)}; stand-ins took "
            f"{len(system.twilio.messages)} texts and {len(system.smtp.messages)} emails\n"
            f"appointments: {', '.join(f'{s} {n}' for s, n in appointments)}; callback requests: {callbacks[0]} "
            f"({callbacks[1]} open)")


def latencies(report: MixReport) -> dict[str, tuple[float, float]]:
    return {k.kind: (k.p50, k.p99) for k in report.kinds()}


def alone(traffic: Traffic, concurrency: int, seed: int) -> dict[str, tuple[float, float]]:
    """Each kind that has a floor, on its own for ALONE_SECONDS at the same concurrency, after the mix."""
    out = {}
    for kind, operation in ALONE.items():
        report = run_mix(traffic, ALONE_SECONDS, concurrency, seed, {operation: 1})
        if report.errors:
            raise RuntimeError(f"{kind} alone: " + "; ".join(report.error_notes()))
        out[kind] = latencies(report).get(kind, (float("nan"), float("nan")))  # no link yet: nothing to time
    return out


def main() -> int:
    args = arguments()
    options = ["--workers", str(args.web_workers), "--worker-class", "sync", "--timeout", "60",
               "--log-level", "warning"]
    with System(web_workers=args.web_workers, worker_processes=args.worker_processes) as system:
        system.wait_ready()
        office = seed_office(system.engine, mediators=8, booking_cases=64, withdrawal_cases=400, callers=200)
        print(f"Pendel: gunicorn {args.web_workers} sync workers, {args.worker_processes} worker.py, "
              f"{os.cpu_count()} cores; {args.concurrency} client threads for {args.seconds:.0f} s, seed {args.seed}")
        ledger = invariants.Ledger()
        traffic = Traffic(system, office, ledger)
        report = run_mix(traffic, args.seconds, args.concurrency, args.seed)
        print(f"\nthe mix ({report.seconds:.1f} s)\n{report.table()}")
        for note in report.error_notes():
            print(f"  error: {note}")
        started = time.monotonic()
        settled = invariants.settle(system.engine, SETTLE_SECONDS)
        print(f"\noutbox {'settled' if settled else 'NOT settled'} {time.monotonic() - started:.1f} s after the mix")
        print(outbox_summary(system))
        with system.engine.connect() as conn:
            found = invariants.check(conn, providers=invariants.provider_records(system.twilio, system.smtp),
                                     ledger=ledger)
        print(f"invariants ({len(ledger.cancelled)} cancellations and {len(ledger.withdrawn)} withdrawals timed): "
              f"{invariants.report(found)}")
        floors = [availability_floor(system.database_url, office, args.floor_requests, args.seed)]
        floors += http_floors(system, office, args.concurrency, args.floor_requests, options)
        by_itself = alone(traffic, args.concurrency, args.seed)
        print(f"\nunder the mix, alone and at the floor (alone and floors measured after the mix, "
              f"{args.concurrency} threads)")
        print(ratio_table(floors, latencies(report), by_itself))
        failed = bool(found) or bool(report.errors) or not settled or system.worker_restarts > 0
        print(f"\n{'FAILED' if failed else 'OK'}: {len(report.errors)} unexpected errors, {len(found)} invariant "
              f"violations, worker restarts {system.worker_restarts}")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
