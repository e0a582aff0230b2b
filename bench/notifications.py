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

This module is imported by the work horses (the floor's job is `noop`), so it
imports nothing but the standard library's basics at module level.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NOOP_JOB = "bench.notifications.noop"
NOOP_QUEUE = "bench-noop"
ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
POLL = 0.2
MIN_BUDGET = 30.0             # seconds a delivery run gets at least, whatever --time-limit says
PUBLIC_BASE_URL = "https://pendel.test"
SMS_BODY = "Wij hebben uw verzoek ontvangen en bellen u morgen tussen 10:00 en 12:00 terug."
ICS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Pendel//bench//NL\r\nMETHOD:REQUEST\r\n"
       "BEGIN:VEVENT\r\nUID:bench-{i}@pendel.test\r\nDTSTAMP:20260101T090000Z\r\n"
       "DTSTART:20260302T090000Z\r\nDTEND:20260302T103000Z\r\nSUMMARY:Afspraak\r\n"
       "LOCATION:Benchstraat 1\\, Utrecht\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def noop() -> None:
    """The floor's job: nothing at all (the work horses import this module to find it)."""


# --------------------------------------------------------------------------- processes


class Workers:
    """`worker.py` subprocesses, each in a session of its own, output in a log file per process."""

    def __init__(self, env: dict[str, str], logdir: str) -> None:
        self.env, self.logdir = env, logdir
        self.procs: list[Any] = []
        self._logs: list[Any] = []
        self.stuck: list[int] = []   # which of the last started processes ignored SIGTERM for 20 s

    def start(self, argv: list[str], n: int, tag: str) -> None:
        import subprocess

        self.stuck = []
        for i in range(n):
            log = open(os.path.join(self.logdir, f"{tag}-{i}.log"), "wb")
            self._logs.append(log)
            self.procs.append(subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=self.env,
                                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def wait(self, timeout: float) -> list[int | None]:
        """Wait for all to exit (at most `timeout` in all); their exit codes, None for one still running."""
        import subprocess
        import time

        deadline = time.monotonic() + timeout
        codes: list[int | None] = []
        for proc in self.procs:
            try:
                codes.append(proc.wait(max(0.0, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                codes.append(None)
        return codes

    def stop(self) -> None:
        """SIGTERM (RQ's warm shutdown: a running job ends first); after 20 s SIGKILL, work horses included.

        A work horse runs in a process group of its own (RQ calls setpgrp), so
        killing the worker's group would leave it behind: it is killed by pid.
        """
        import signal
        import subprocess

        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for i, proc in enumerate(self.procs):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                self.stuck.append(i)
                from tests.support.private_redis import children_of

                for pid in children_of(proc.pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(10)
        self.procs = []
        for log in self._logs:
            log.close()
        self._logs = []

    def log_text(self, tag: str) -> str:
        """The output of the processes started with this tag ("deliver"), or of one ("deliver-1")."""
        out = []
        for name in sorted(os.listdir(self.logdir)):
            if name.startswith(tag + "-") or name == f"{tag}.log":
                with open(os.path.join(self.logdir, name), "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
        return "\n".join(out)

    def tail(self, lines: int = 15) -> str:
        out = []
        for name in sorted(os.listdir(self.logdir)):
            with open(os.path.join(self.logdir, name), "rb") as f:
                text = f.read().decode("utf-8", "replace").splitlines()
            out.append(f"--- {name} (last {lines} lines)\n" + "\n".join(text[-lines:]))
        return "\n".join(out)


def job_times(log: str) -> list[float]:
    """Seconds each job's function took, from RQ's "Successfully completed ... job in 0:00:00.123456s" lines."""
    import re

    return [int(h) * 3600 + int(m) * 60 + float(sec)
            for h, m, sec in re.findall(r"Successfully completed .* job in (\d+):(\d+):([\d.]+)s", log)]


def per_job(elapsed: float, done: int, n_workers: int, log: str) -> str:
    """'per job and worker X ms, of which the job's function Y ms (median)'."""
    import statistics

    times = job_times(log)
    body = f", the job function itself {1000 * statistics.median(times):.1f} ms (median)" if times else ""
    return f"{1000 * elapsed * n_workers / max(done, 1):.0f} ms per job and worker{body}"


# --------------------------------------------------------------------------- the floor


def floor_phase(conn: Any, workers: Workers, n_jobs: int, n_workers: int,
                budget: float) -> tuple[float, str, str | None]:
    """Enqueue n no-op jobs (like send jobs: same timeout and TTLs), time n burst workers draining them."""
    import time

    from rq import Queue
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    from notifications.dispatcher import JOB_FAILURE_TTL, JOB_RESULT_TTL, JOB_TIMEOUT

    queue = Queue(NOOP_QUEUE, connection=conn)
    for start in range(0, n_jobs, 500):
        queue.enqueue_many([queue.prepare_data(NOOP_JOB, job_id=f"noop-{i}", timeout=JOB_TIMEOUT,
                                               result_ttl=JOB_RESULT_TTL, failure_ttl=JOB_FAILURE_TTL)
                            for i in range(start, min(n_jobs, start + 500))])
    assert queue.count == n_jobs, queue.count
    started = time.perf_counter()
    workers.start(["worker.py", "--burst", NOOP_QUEUE], n_workers, "floor")
    codes = workers.wait(budget)
    elapsed = time.perf_counter() - started
    workers.stop()
    finished = FinishedJobRegistry(queue=queue).count
    failed = FailedJobRegistry(queue=queue).count
    problem = None
    if codes != [0] * n_workers or finished != n_jobs or failed or queue.count:
        problem = (f"floor: exit codes {codes}, {finished} finished, {failed} failed, {queue.count} left "
                   f"of {n_jobs} jobs")
    return elapsed, per_job(elapsed, n_jobs, n_workers, workers.log_text("floor")), problem


# --------------------------------------------------------------------------- the outbox path


def reset(db: Any, conn: Any) -> None:
    """Empty the outbox and OUR redis-server before a phase (row ids go on, so job ids never repeat)."""
    from sqlalchemy import delete

    from notifications.models import OutboxMessage

    with db.write_session() as session:
        session.execute(delete(OutboxMessage))
    conn.flushall()  # the private server started by this script, never the shared one


def write_outbox(db: Any, n: int, tag: str) -> None:
    """n due rows through `add_message`: even ones SMS to Dutch mobiles, odd ones email with HTML and .ics."""
    from core.db import utcnow
    from notifications.outbox import NewMessage, add_message

    now = utcnow()
    with db.write_session() as session:
        for i in range(n):
            if i % 2 == 0:
                message = NewMessage(
                    key=f"bench:{tag}:{i}:sms", kind="callback_confirmation", channel="sms",
                    recipient_kind="caller", to=f"+3161{i:07d}", language="nl", body=SMS_BODY, segments=1)
            else:
                message = NewMessage(
                    key=f"bench:{tag}:{i}:email", kind="mediator_notice", channel="email",
                    recipient_kind="mediator", to=f"bemiddelaar{i}@example.org", language="nl",
                    subject="Nieuwe afspraak",
                    body="Er is een afspraak met u gemaakt op maandag 2 maart om 10:00.\n\nZie de bijlage.",
                    html_body="<p>Er is een afspraak met u gemaakt op <b>maandag 2 maart</b> om 10:00.</p>",
                    attachment_ics=ICS.format(i=i))
            add_message(session, message, now)


def status_counts(db: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from notifications.models import OutboxMessage

    with db.session() as session:
        return dict(session.execute(select(OutboxMessage.status, func.count())  # type: ignore[arg-type]
                                    .group_by(OutboxMessage.status)).all())


class Delivery:
    """What one delivery run measured and found (a plain class: this module must import fast, see noop)."""

    def __init__(self) -> None:
        self.elapsed: float | None = None    # until every row was sent; None if the budget ran out first
        self.sent = 0                        # rows sent when timing stopped
        self.waited = 0.0                    # seconds timed
        self.milestones: dict[str, float] = {}
        self.per_job = ""
        self.problems: list[str] = []        # wrong results: exit status 1
        self.notes: list[str] = []           # worth knowing, not wrong

    @property
    def rate(self) -> float:
        return self.sent / self.waited if self.waited else 0.0


def delivery_phase(db: Any, conn: Any, workers: Workers, n_workers: int, n: int, twilio: Any, smtp: Any,
                   tag: str, argv: list[str], budget: float) -> Delivery:
    """Write n rows, start the workers (which dispatch), time until all are sent; check what arrived."""
    import time

    from sqlalchemy import func, select

    from notifications.dispatcher import JOB_TIMEOUT
    from notifications.models import OutboxMessage

    reset(db, conn)
    twilio.clear()
    smtp.clear()
    write_outbox(db, n, tag)
    started = time.perf_counter()
    workers.start(argv, n_workers, tag)
    result = Delivery()
    while True:
        time.sleep(POLL)
        counts = status_counts(db)
        now = time.perf_counter() - started
        result.sent, result.waited = counts.get("sent", 0), now
        if "first sent" not in result.milestones and counts.get("sent"):
            result.milestones["first sent"] = now
        if "all claimed" not in result.milestones and not counts.get("pending"):
            result.milestones["all claimed"] = now
        if result.sent >= n:
            result.elapsed = now
            break
        if counts.get("dead") or now > budget:
            break
    workers.stop()

    log = workers.log_text(tag)
    result.per_job = per_job(result.waited, result.sent, n_workers, log)
    for i in workers.stuck:
        lines = [x for x in workers.log_text(f"{tag}-{i}").splitlines() if "send outbox message" in x]
        result.notes.append(f"worker {i} was still busy 20 s after SIGTERM (a hung work horse?); last job line: "
                            + (lines[-1] if lines else "none"))
    hung = log.count("JobTimeoutException: Task exceeded")
    if hung:
        where = " waiting for SQLAlchemy's _CONFIGURE_MUTEX" if "_CONFIGURE_MUTEX" in log else ""
        result.notes.append(f"{hung} work horse(s) hung until RQ's {JOB_TIMEOUT} s job timeout{where}")
    counts = status_counts(db)
    if counts.get("dead") or set(counts) - {"sent", "queued", "pending"}:
        result.problems.append(f"row statuses {counts}")
    elif result.elapsed is None:
        result.notes.append(f"row statuses when the workers had stopped: {counts}")
    with db.session() as session:
        rows = session.execute(select(OutboxMessage.channel, OutboxMessage.to_address, OutboxMessage.provider_id)
                               .where(OutboxMessage.status == "sent")).all()
        retried = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.attempts > 1))
    if retried:
        result.notes.append(f"{retried} rows needed more than one attempt")
    sent = {channel: {(r.to_address, r.provider_id) for r in rows if r.channel == channel}
            for channel in ("sms", "email")}
    got = {"sms": [(m.form.get("To"), m.sid) for m in twilio.messages],
           "email": [(to, str(m.message["Message-ID"])) for m in smtp.messages for to in m.rcpt_tos]}
    for channel, what in (("sms", "Twilio stand-in"), ("email", "SMTP server")):
        if len(got[channel]) != len(sent[channel]) or set(got[channel]) != sent[channel]:
            result.problems.append(f"{what}: received {len(got[channel])} {channel} messages, "
                                   f"{len(set(got[channel]) & sent[channel])} of them match the "
                                   f"{len(sent[channel])} rows marked sent")
    if result.elapsed is not None and (len(got["sms"]), len(got["email"])) != ((n + 1) // 2, n // 2):
        result.problems.append(f"stand-ins received {len(got['sms'])} SMS and {len(got['email'])} emails "
                               f"for {n} messages")
    callback = PUBLIC_BASE_URL + "/telephony/sms/status"
    if any(m.form.get("StatusCallback") != callback or m.form.get("Body") != SMS_BODY for m in twilio.messages):
        result.problems.append("SMS with another body or without our status callback URL")
    if len(twilio.requests) != len(twilio.messages) or smtp.rejections:
        result.problems.append("the stand-ins answered some requests with an error")
    return result


def describe(d: Delivery, n: int, n_workers: int, label: str) -> str:
    milestones = ", ".join(f"{k} after {v:.1f} s" for k, v in d.milestones.items())
    if d.elapsed is not None:
        line = f"{label}: {n} messages in {d.elapsed:.1f} s → {d.rate:.0f} msg/s"
    else:
        line = (f"{label}: only {d.sent} of {n} messages sent when the budget of {d.waited:.0f} s ran out "
                f"→ {d.rate:.1f} msg/s (incomplete)")
    return (line + f"\n  ({d.per_job}" + (f"; {milestones})" if milestones else ")")
            + "".join(f"\n  note: {x}" for x in d.notes))


# --------------------------------------------------------------------------- what-if and profiling


def preload_worker_process() -> None:
    """What worker.py could do once, before its periodic thread starts and its first horse forks.

    A forking worker's parent never runs a job, so everything a job sets up
    lazily is set up again in every horse and thrown away with it. Here:

    - import the send job and its channels (twilio, requests, smtplib...), and
      what urllib3 loads only at the first connection (h11, with the
      urllib3-future that is installed);
    - configure SQLAlchemy's mappers: otherwise every horse does it, and a
      horse forked while the periodic thread holds the configure mutex waits
      for a lock nobody will release, until RQ's job timeout;
    - initialise the database dialect and compile the send job's statements
      (its SELECT ... FOR UPDATE and the UPDATE that marks a row sent) in a
      transaction that is rolled back, then empty the pool, so no horse
      inherits a connection but every horse finds the compiled SQL cached;
    - `gc.freeze()`, so a collection in a horse does not touch (and copy) the
      parent's objects.

    The Twilio client made here to load its lazily imported API modules is
    thrown away unused: horses still make their own (core/twilio_client.py).
    """
    import gc

    import app
    from sqlalchemy.orm import configure_mappers
    from twilio.rest import Client

    import notifications.channels.registry  # noqa: F401 - the point is the import
    import notifications.jobs
    from core.db import utcnow
    from notifications.models import OutboxMessage

    try:
        import urllib3.contrib.hface.protocols.http1  # noqa: F401 - urllib3-future's HTTP/1.1 (h11)
    except ImportError:
        pass
    configure_mappers()
    _ = Client("AC" + "0" * 32, "unused").messages  # loads twilio.rest.api.v2010... (~0.1 s)
    build = app.build_process_runtime

    def build_process_runtime(settings: Any = None) -> Any:
        runtime = build(settings)
        now = utcnow()
        with runtime.db.session() as session:
            notifications.jobs.attempt_send(session, runtime.settings, 0, 1, now)  # "missing": SELECT compiled
            row = OutboxMessage(idempotency_key="bench-warm-up", kind="auto_reply", channel="sms",
                                recipient_kind="caller", language="nl", status="queued", attempts=1,
                                not_before=now, next_attempt_at=now, lease_until=now, created_at=now)
            session.add(row)
            session.flush()
            # The columns attempt_send changes on success (last_error was None already):
            row.status, row.provider_id, row.sent_at, row.lease_until = "sent", "warm-up", now, None
            row.finished_at = now
            session.flush()                     # the UPDATE of a sent row, compiled
            session.rollback()
        runtime.db.engine.dispose()
        gc.freeze()
        return runtime

    app.build_process_runtime = build_process_runtime


def profile_work_horses(directory: str) -> None:
    """Run every horse's `perform_job` under cProfile; one stats file per horse, named with its wall time."""
    import cProfile
    import time

    from rq.worker.base import BaseWorker

    original = BaseWorker.perform_job

    def perform_job(self: Any, job: Any, queue: Any, execution: Any) -> bool:
        profile = cProfile.Profile()
        t0 = time.perf_counter()
        try:
            return profile.runcall(original, self, job, queue, execution)
        finally:
            wall = time.perf_counter() - t0
            profile.dump_stats(os.path.join(directory, f"horse-{os.getpid()}-{wall:.6f}.prof"))

    BaseWorker.perform_job = perform_job  # type: ignore[method-assign]


def print_profile(directory: str, top: int = 25) -> None:
    import io
    import pstats

    files = sorted(f for f in os.listdir(directory) if f.endswith(".prof"))
    if not files:
        print("profile: no work horse wrote stats")
        return
    walls = sorted(float(f.rsplit("-", 1)[1][:-5]) for f in files)
    print(f"profile: {len(files)} work horses; perform_job wall time (profiled) median "
          f"{1000 * walls[len(walls) // 2]:.0f} ms, mean {1000 * sum(walls) / len(walls):.0f} ms")
    out = io.StringIO()
    stats = pstats.Stats(*(os.path.join(directory, f) for f in files), stream=out)
    for key, count in (("cumulative", top), ("tottime", 12)):
        out.seek(0)
        out.truncate()
        stats.sort_stats(key).print_stats(count)
        text = out.getvalue()
        print(f"-- by {key} time, summed over all horses")
        print(text[text.find("   ncalls"):].rstrip() if "   ncalls" in text else text)


# --------------------------------------------------------------------------- main


def main() -> int:
    import argparse
    import shutil
    import tempfile
    import time
    from contextlib import ExitStack

    begun = time.perf_counter()
    import redis
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from core.db import Database
    from core.migrate import upgrade
    from tests.support.smtp_server import SmtpServer
    from tests.support.twilio_standin import TwilioStandin

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
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                c.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
            db = Database(url)
            stack.callback(db.dispose)
            upgrade(db.engine)

            twilio = stack.enter_context(TwilioStandin())
            smtp = stack.enter_context(SmtpServer())
            os.makedirs(os.path.join(tmp, "redis"))
            from tests.support.private_redis import PrivateRedis

            server = PrivateRedis(os.path.join(tmp, "redis"))
            stack.callback(server.stop)
            server.start()
            conn = redis.Redis.from_url(server.url)
            stack.callback(conn.close)

            keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
            env = {**keep, "REDIS_URL": server.url, "DATABASE_URL": url, "PENDEL_ENV": "testing",
                   "SECRET_KEY": "bench", "PUBLIC_BASE_URL": PUBLIC_BASE_URL, **twilio.env(), **smtp.env()}
            os.makedirs(os.path.join(tmp, "logs"))
            workers = Workers(env, os.path.join(tmp, "logs"))
            stack.callback(workers.stop)
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
    while argv and argv[0] in WORKER_MODES:
        mode, argv = argv[0], argv[1:]
        if mode == "--preloaded-worker":
            preload_worker_process()
        else:
            profile_work_horses(os.environ["BENCH_PROFILE_DIR"])
    import worker

    return worker.main(argv)


WORKER_MODES = ("--preloaded-worker", "--profiled-worker")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in WORKER_MODES:
        sys.exit(worker_entry(sys.argv[1:]))
    sys.exit(main())
