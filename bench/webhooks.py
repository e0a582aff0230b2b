"""Voice webhook benchmark (issue 3, "Performance"); prints rates, asserts only correctness.

    python bench/webhooks.py [--rounds 6] [--calls 300] [--walks 60] [--floor 300]
                             [--concurrency 8] [--workers 4] [--worker-class sync] [--threads 1] [--profile]

1. Creates `pendel_bench_webhooks_<pid>` (admin URL from BENCH_DATABASE_URL,
   default the local server's `test` database, used only to CREATE/DROP),
   migrates it and adds the floor's table `bench_floor_calls`.
2. Serves Pendel (`gunicorn 'app:create_app()'`, PENDEL_ENV=production, the
   signature check on, REDIS_URL on a Redis database number of its own, /14)
   and the floor (bench/webhooks_floor.py: validate the signature, insert one
   row, return a constant TwiML document) with the same gunicorn settings --
   by default the README's production line, `-w 4` sync workers -- each on a
   free port of 127.0.0.1, waits until both answer `/healthz` and checks
   that both refuse a request signed with the wrong token (403).
3. Drives both with signed requests from `--concurrency` client threads, one
   connection per request (bench/webhooks_drive.py), after a warm-up that
   reaches every worker. In each of `--rounds` rounds, in an order that
   rotates from round to round so load from elsewhere hits all alike:
   - the floor: `--floor` requests;
   - Pendel, incoming calls: `--calls` first webhooks of new calls,
     `POST /telephony/voice` (greeting and menu; creates the call's row);
   - Pendel, callback walks: `--walks` whole calls out of hours (in hours
     the same keys do the same): dial, "2" callback, "1" this number, "1"
     morning, "1" may say who we are, "1" confirmation text, then the
     closing text and hang-up -- following the action URL of each answer's
     last `<Gather>`. 6 webhook requests per walk, a distinct caller number
     and CallSid per walk. The last one stores the callback request, the
     CallbackRequested event and its outbox row in one transaction.
4. Checks the databases: one callback request (open) and one outbox row per
   walk, one IVR row per call, one floor row per floor request.
5. Prints requests/s and p50/p99 latency per request for each, walks/s, the
   CPU per request of each server (gunicorn workers plus their PostgreSQL
   backends, from /proc; hardly moved by other load) and the ratios of
   Pendel's requests/s to the floor's. THE ratio (target >= 0.7) is the
   callback walk's: all its webhook requests per second over the floor's;
   incoming calls alone get a ratio of their own.

`--profile` afterwards builds both apps in this process and drives them
through Flask's test client (bench/webhooks_profile.py): the first walks
after start, the SQL statements of one walk, PostgreSQL round trips per
request, in-process wall and CPU time per request, and a cProfile (CPU-time
timer) of walks and floor requests summed by package.
The database and both servers are gone at the end, also on failure or Ctrl-C.
Exit status 1 only for wrong answers or wrong rows.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402

from bench.availability_db import ADMIN_URL, open_database  # noqa: E402
from bench.webhooks_drive import (WALK_KEYS, Batch, Driver, Failure, Target, incoming_call,  # noqa: E402
                                  refuses_bad_signature, walk)
from bench.webhooks_floor import FLOOR_TABLE  # noqa: E402
from bench.webhooks_servers import (APP, AUTH_TOKEN, FLOOR, PUBLIC_BASE_URL, Gunicorn, app_environment,  # noqa: E402
                                    cpu_between, process_ticks)

PER_WALK = 1 + len(WALK_KEYS)
KINDS = ("floor", "calls", "walks")
LABELS = {"floor": "floor (check signature, insert a row, constant TwiML)",
          "calls": "Pendel, incoming call (POST /telephony/voice)",
          "walks": f"Pendel, callback walk ({PER_WALK} webhooks per walk)"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=300, help="incoming calls per round")
    parser.add_argument("--walks", type=int, default=60, help="callback walks per round")
    parser.add_argument("--floor", type=int, default=300, help="floor requests per round")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn --workers (README: 4)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn --worker-class")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn --threads (>1: gthread)")
    parser.add_argument("--profile", action="store_true",
                        help="also profile walks in-process (cProfile, SQL statements per request)")
    parser.add_argument("--profile-walks", type=int, default=100)
    args = parser.parse_args()

    def terminate(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")   # unwinds through the clean-up below
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)   # also when started in the background

    name = f"pendel_bench_webhooks_{os.getpid()}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    tmp = tempfile.mkdtemp(prefix="pendel-bench-webhooks-")
    try:
        with ExitStack() as stack:
            return run(admin, name, tmp, stack, args)
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped, dropping the database", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def backends(admin: Engine, name: str) -> dict[str, list[int]]:
    """The PostgreSQL backends serving each server (the floor's connect as application_name bench_floor)."""
    with admin.connect() as conn:
        rows = conn.execute(text("SELECT pid, application_name FROM pg_stat_activity WHERE datname = :d"),
                            {"d": name}).all()
    return {"floor": [p for p, a in rows if a == "bench_floor"], "app": [p for p, a in rows if a != "bench_floor"]}


def run(admin: Engine, name: str, tmp: str, stack: ExitStack, args: argparse.Namespace) -> int:
    from core.migrate import upgrade

    started = time.perf_counter()
    db = open_database(admin, name, stack)
    upgrade(db.engine)
    with db.engine.begin() as conn:
        conn.execute(text(FLOOR_TABLE))
    db.dispose()
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    options = ["--workers", str(args.workers), "--worker-class", args.worker_class, "--timeout", "60"]
    options += ["--threads", str(args.threads)] if args.threads > 1 else []
    env = app_environment(url)
    servers = {"app": Gunicorn("pendel", APP, options, env, tmp),
               "floor": Gunicorn("floor", FLOOR, options, env, tmp)}
    for server in servers.values():
        stack.callback(server.stop)
        server.start()
    targets = {k: Target(k, "127.0.0.1", s.port, PUBLIC_BASE_URL, AUTH_TOKEN) for k, s in servers.items()}
    for target in targets.values():
        if not refuses_bad_signature(target):
            print(f"WRONG: {target.name} accepted a request signed with the wrong token")
            return 1
    driver = Driver(args.concurrency)
    stack.callback(driver.close)
    print(f"database {name}; gunicorn {' '.join(options)} on 127.0.0.1:{servers['app'].port} (Pendel) and "
          f":{servers['floor'].port} (floor); {args.concurrency} client threads, a connection per request")

    jobs = {"floor": (lambda lat: incoming_call(targets["floor"], lat), args.floor),
            "calls": (lambda lat: incoming_call(targets["app"], lat), args.calls),
            "walks": (lambda lat: walk(targets["app"], lat), args.walks)}
    done = {k: 0 for k in KINDS}
    try:
        # Warm-up: every worker imports, connects and compiles before anything is timed.
        for kind in KINDS:
            n = args.workers * args.threads * (2 if kind == "walks" else 8)
            driver.batch(jobs[kind][0], n)
            done[kind] += n
        results: dict[str, list[Batch]] = {k: [] for k in KINDS}
        server_cpu: dict[str, float] = {k: 0.0 for k in KINDS}    # gunicorn workers
        db_cpu: dict[str, float] = {k: 0.0 for k in KINDS}        # their PostgreSQL backends
        for r in range(args.rounds):
            order = KINDS[r % 3:] + KINDS[:r % 3]
            line = []
            for kind in order:
                fn, n = jobs[kind]
                side = "floor" if kind == "floor" else "app"
                workers, pg = servers[side].worker_pids(), backends(admin, name)[side]
                before = process_ticks(workers), process_ticks(pg)
                batch = driver.batch(fn, n)
                server_cpu[kind] += cpu_between(before[0], process_ticks(workers))
                db_cpu[kind] += cpu_between(before[1], process_ticks(pg))
                results[kind].append(batch)
                done[kind] += n
                line.append(f"{kind} {len(batch.latencies) / batch.elapsed:.0f}")
            print(f"  round {r + 1}: " + ", ".join(line) + " requests/s", flush=True)
    except Failure as exc:
        print(f"\nWRONG ANSWER: {exc}")
        for server in servers.values():
            print(server.tail())
        return 1

    problems = check(url, done)
    report(results, server_cpu, db_cpu)
    print(f"total run time {time.perf_counter() - started:.0f} s")
    if args.profile:
        from bench.webhooks_profile import profile_walks

        profile_walks(env, args.profile_walks)
    if problems:
        print("\nPROBLEMS:\n  " + "\n  ".join(problems))
        return 1
    return 0


def check(url: str, done: dict[str, int]) -> list[str]:
    """One open callback request and one outbox row per walk, an IVR row per call, a floor row per request."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            def count(sql: str) -> int:
                return int(conn.scalar(text(sql)) or 0)
            found = {
                "open callback requests": (count("SELECT count(*) FROM callback_requests WHERE status = 'open'"),
                                           done["walks"]),
                "callback requests": (count("SELECT count(*) FROM callback_requests"), done["walks"]),
                "confirmation texts in the outbox": (count(
                    "SELECT count(*) FROM outbox_messages WHERE kind = 'callback_confirmation'"), done["walks"]),
                "IVR calls": (count("SELECT count(*) FROM ivr_calls"), done["calls"] + done["walks"]),
                "IVR calls done": (count("SELECT count(*) FROM ivr_calls WHERE step = 'done'"), done["walks"]),
                "floor rows": (count("SELECT count(*) FROM bench_floor_calls"), done["floor"]),
            }
    finally:
        engine.dispose()
    print("checked: " + ", ".join(f"{n} {what}" for what, (n, _) in found.items()))
    return [f"{what}: {n}, expected {want}" for what, (n, want) in found.items() if n != want]


def pct(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1] if len(samples) > 1 else samples[0]


def report(results: dict[str, list[Batch]], server_cpu: dict[str, float], db_cpu: dict[str, float]) -> None:
    rate, per_round, cpu = {}, {}, {}
    print()
    for kind in KINDS:
        batches = results[kind]
        lat = [x for b in batches for x in b.latencies]
        elapsed = sum(b.elapsed for b in batches)
        rate[kind] = len(lat) / elapsed
        per_round[kind] = [len(b.latencies) / b.elapsed for b in batches]
        cpu[kind] = (server_cpu[kind] + db_cpu[kind]) / len(lat)
        client = sum(b.cpu for b in batches) / len(lat)
        extra = f" = {rate[kind] / PER_WALK:.1f} walks/s" if kind == "walks" else ""
        print(f"{LABELS[kind]}:\n  {len(lat)} requests in {elapsed:.1f} s -> {rate[kind]:.1f} requests/s{extra}; "
              f"p50 {pct(lat, 50) * 1000:.1f} ms, p99 {pct(lat, 99) * 1000:.1f} ms\n"
              f"  CPU per request: {cpu[kind] * 1000:.2f} ms server = {server_cpu[kind] / len(lat) * 1000:.2f} "
              f"gunicorn workers + {db_cpu[kind] / len(lat) * 1000:.2f} PostgreSQL backends; "
              f"client {client * 1000:.2f} ms")
    print()
    for kind, what in (("walks", "callback walk"), ("calls", "incoming calls alone")):
        rounds = [a / f for a, f in zip(per_round[kind], per_round["floor"])]
        target = "THE ratio, target >= 0.7; " if kind == "walks" else ""
        print(f"ratio, {what}: {rate[kind] / rate['floor']:.2f} ({target}rounds {min(rounds):.2f}-{max(rounds):.2f}; "
              f"{cpu['floor'] / cpu[kind]:.2f} on server CPU per request)")


if __name__ == "__main__":
    sys.exit(main())
