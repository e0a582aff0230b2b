"""The notification benchmark's measuring: the floor and delivery phases, their checks and report lines,
and cProfile of the work horses.

`floor_phase` times burst workers draining no-op jobs; `delivery_phase` times
workers dispatching and sending outbox rows and checks what the stand-ins
received; `describe` and `per_job` word what they measured. The
`--profiled-worker` mode of bench/notifications.py uses
`profile_work_horses`; `print_profile` reads what the horses wrote.
"""
from __future__ import annotations

import os
from typing import Any

from bench.notifications_setup import (NOOP_JOB, NOOP_QUEUE, POLL, PUBLIC_BASE_URL, SMS_BODY, Workers, reset,
                                       status_counts, write_outbox)
from bench.timing import stats

def job_times(log: str) -> list[float]:
    """Seconds each job's function took, from RQ's "Successfully completed ... job in 0:00:00.123456s" lines."""
    import re

    return [int(h) * 3600 + int(m) * 60 + float(sec)
            for h, m, sec in re.findall(r"Successfully completed .* job in (\d+):(\d+):([\d.]+)s", log)]


def per_job(elapsed: float, done: int, n_workers: int, log: str) -> str:
    """'per job and worker X ms, of which the job's function Y ms (median)'."""
    times = job_times(log)
    body = f", the job function itself {1000 * stats(times)[0]:.1f} ms (median)" if times else ""
    return f"{1000 * elapsed * n_workers / max(done, 1):.0f} ms per job and worker{body}"


def floor_phase(conn: Any, workers: Workers, n_jobs: int, n_workers: int, budget: float,
                entry: tuple[str, ...] = ("worker.py",), job: str = NOOP_JOB,
                tag: str = "floor") -> tuple[float, str, str | None]:
    """Enqueue n jobs `job` (like send jobs: same timeout and TTLs), time n burst workers draining them."""
    import time

    from rq import Queue
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    from notifications.dispatcher import JOB_FAILURE_TTL, JOB_RESULT_TTL, JOB_TIMEOUT

    queue = Queue(NOOP_QUEUE, connection=conn)
    for start in range(0, n_jobs, 500):
        queue.enqueue_many([queue.prepare_data(job, job_id=f"{tag}-{i}", timeout=JOB_TIMEOUT,
                                               result_ttl=JOB_RESULT_TTL, failure_ttl=JOB_FAILURE_TTL)
                            for i in range(start, min(n_jobs, start + 500))])
    assert queue.count == n_jobs, queue.count
    cpu = _children_cpu()
    started = time.perf_counter()
    workers.start([*entry, "--burst", NOOP_QUEUE], n_workers, tag)
    codes = workers.wait(budget)
    elapsed = time.perf_counter() - started
    workers.stop()
    cpu = _children_cpu() - cpu
    finished = FinishedJobRegistry(queue=queue).count
    failed = FailedJobRegistry(queue=queue).count
    problem = None
    if codes != [0] * n_workers or finished != n_jobs or failed or queue.count:
        problem = (f"{tag}: exit codes {codes}, {finished} finished, {failed} failed, {queue.count} left "
                   f"of {n_jobs} jobs")
    line = (per_job(elapsed, n_jobs, n_workers, workers.log_text(tag))
            + f"; CPU of the workers (start-up included): {1000 * cpu / n_jobs:.1f} ms per job")
    return elapsed, line, problem


class Delivery:
    """What one delivery run measured and found."""

    def __init__(self) -> None:
        self.elapsed: float | None = None    # until every row was sent; None if the budget ran out first
        self.sent = 0                        # rows sent when timing stopped
        self.waited = 0.0                    # seconds timed
        self.milestones: dict[str, float] = {}
        self.per_job = ""
        self.problems: list[str] = []        # wrong results: exit status 1
        self.notes: list[str] = []           # worth knowing, not wrong
        self.cpu: dict[str, float] = {}      # CPU seconds while timed: this process, PostgreSQL's backends

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
    cpu = _cpu_now(db)
    started = time.perf_counter()
    workers.start(argv, n_workers, tag)
    result = Delivery()
    _wait_until_sent(db, n, twilio, smtp, started, budget, result)
    result.cpu = {k: v - cpu[k] for k, v in _cpu_now(db).items()}
    workers.stop()
    key = "workers (start-up, periodic process and work horses included)"
    result.cpu[key] = _children_cpu() - cpu[key]

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
    callback = PUBLIC_BASE_URL + "/telephony/sms/status?message="  # + the outbox row id
    if any(not m.form.get("StatusCallback", "").startswith(callback) or m.form.get("Body") != SMS_BODY
           for m in twilio.messages):
        result.problems.append("SMS with another body or without our status callback URL")
    if len(twilio.requests) != len(twilio.messages) or smtp.rejections:
        result.problems.append("the stand-ins answered some requests with an error")
    return result


def _wait_until_sent(db: Any, n: int, twilio: Any, smtp: Any, started: float, budget: float,
                     result: Delivery) -> None:
    """Until the database says all n rows are sent (or one is dead, or the budget ran out).

    The outbox is counted (a GROUP BY over all n rows, milliseconds of the
    server's CPU, which the workers need) once a second, and every POLL only
    before the first message and once the stand-ins have received all n: how
    far along the workers are is read from the stand-ins, in this process.
    """
    import time

    next_count = 0.0
    while True:
        time.sleep(POLL)
        now = time.perf_counter() - started
        arrived = len(twilio.messages) + len(smtp.messages)
        if now < next_count and arrived < n and "first sent" in result.milestones and now <= budget:
            continue
        counts = status_counts(db)
        now, next_count = time.perf_counter() - started, now + 1.0
        result.sent, result.waited = counts.get("sent", 0), now
        if "first sent" not in result.milestones and counts.get("sent"):
            result.milestones["first sent"] = now
        if "all claimed" not in result.milestones and not counts.get("pending"):
            result.milestones["all claimed"] = now
        if result.sent >= n:
            result.elapsed = now
            return
        if counts.get("dead") or now > budget:
            return


def _children_cpu() -> float:
    """CPU seconds of this process's ended children: a worker's counts once it has stopped."""
    times = os.times()
    return times.children_user + times.children_system


def _cpu_now(db: Any) -> dict[str, float]:
    """CPU seconds so far of this process (stand-ins, polling), its ended children, PostgreSQL's ended backends."""
    import time

    from sqlalchemy import text

    cpu = {"bench process (stand-ins, polling)": time.process_time(),
           "workers (start-up, periodic process and work horses included)": _children_cpu()}
    with db.session() as session:
        backend = session.scalar(text("SELECT pg_backend_pid()"))
    try:
        with open(f"/proc/{backend}/stat") as f:
            parent = int(f.read().rsplit(")", 1)[1].split()[1])
        with open(f"/proc/{parent}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu["PostgreSQL backends that ended"] = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):  # another machine's server, or no /proc
        pass
    return cpu


def describe(d: Delivery, n: int, n_workers: int, label: str) -> str:
    milestones = ", ".join(f"{k} after {v:.1f} s" for k, v in d.milestones.items())
    if d.elapsed is not None:
        line = f"{label}: {n} messages in {d.elapsed:.1f} s → {d.rate:.0f} msg/s"
    else:
        line = (f"{label}: only {d.sent} of {n} messages sent when the budget of {d.waited:.0f} s ran out "
                f"→ {d.rate:.1f} msg/s (incomplete)")
    return (line + f"\n  ({d.per_job}" + (f"; {milestones})" if milestones else ")")
            + "".join(f"\n  CPU of the {k}: {1000 * v / max(d.sent, 1):.1f} ms per message" for k, v in d.cpu.items())
            + "".join(f"\n  note: {x}" for x in d.notes))


# --------------------------------------------------------------------------- profiling


def profile_work_horses(directory: str) -> None:
    """Run every horse's `perform_job` under cProfile; one stats file per horse, named with its wall time."""
    import cProfile
    import time

    from rq.worker.base import BaseWorker

    original = BaseWorker.perform_job

    def perform_job(self: Any, job: Any, queue: Any, execution: Any) -> bool:
        profile = cProfile.Profile(time.process_time) if os.environ.get("BENCH_PROFILE_CPU") else cProfile.Profile()
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

