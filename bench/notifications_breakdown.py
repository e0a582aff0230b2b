"""Where one send job's time goes: perf_counter checkpoints in the worker and its work horses.

`instrument_work_horses(directory)` is run by a `worker.py` process (the
`--timed-worker` mode of bench/notifications.py) before `worker.main`: it
wraps a few of RQ's and our functions so that every work horse writes one
JSON line of checkpoints (a file per process, under BENCH_DIR),
and the worker writes one for what it did around each horse. The clock is
`time.perf_counter` (CLOCK_MONOTONIC, the same in every process), so the
worker's and the horse's checkpoints can be subtracted. Nothing here runs
in production: worker.py knows nothing of it.

`print_breakdown(directory)` joins the lines by job id and prints the median
of each stretch, in the order a job lives through them.
"""
from __future__ import annotations

import json
import os
import time
from typing import Any, Callable

STAGES = (  # (label, from checkpoint, to checkpoint)
    ("worker: prepare execution, fork", "w_exec", "w_forked"),
    ("fork until the horse runs", "w_fork", "h_start"),
    ("horse: RQ prepare (Redis)", "h_start", "h_prepared"),
    ("horse: RQ until our function", "h_prepared", "j_start"),
    ("job: runtime, DB connect", "j_start", "j_connected"),
    ("job: SELECT ... FOR UPDATE, send-time check", "j_connected", "j_checked"),
    ("job: channel send (provider)", "j_checked", "j_sent"),
    ("job: UPDATE, commit", "j_sent", "j_committed"),
    ("job: after commit (close, log)", "j_committed", "j_end"),
    ("horse: RQ after our function", "j_end", "h_perform_end"),
    ("horse exit, until the worker reaps it", "h_perform_end", "w_reaped"),
    ("worker: after the horse until next job", "w_reaped", "w_next"),
)

_marks: dict[str, float] = {}


def mark(name: str) -> None:
    if name not in _marks:
        _marks[name] = time.perf_counter()
        _marks["cpu:" + name] = time.process_time()


def _wrap(owner: Any, attr: str, before: str | None, after: str | None) -> None:
    original: Callable[..., Any] = getattr(owner, attr)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if before:
            mark(before)
        try:
            return original(*args, **kwargs)
        finally:
            if after:
                mark(after)

    setattr(owner, attr, wrapper)


def instrument_work_horses(directory: str) -> None:
    """Checkpoints around the worker's fork and the horse's job; one JSON line per job and process."""
    from rq.worker import Worker
    from rq.worker.base import BaseWorker
    from sqlalchemy import event
    from sqlalchemy.engine import Connection, Engine

    import notifications.jobs as jobs
    from notifications.channels.email_smtp import SmtpEmailChannel
    from notifications.channels.sms_twilio import TwilioSmsChannel

    def flush(kind: str, job: Any) -> None:
        line = json.dumps({"kind": kind, "job": job.id, **_marks})
        with open(os.path.join(directory, f"{kind}-{os.getpid()}.jsonl"), "a") as f:
            f.write(line + "\n")
        _marks.clear()

    _wrap(jobs, "send_message", "j_start", "j_end")
    _wrap(jobs, "_facts", None, "j_checked")
    _wrap(TwilioSmsChannel, "send", None, "j_sent")
    _wrap(SmtpEmailChannel, "send", None, "j_sent")
    _wrap(Connection, "_commit_impl", None, "j_committed")  # the job commits on a plain connection
    _wrap(BaseWorker, "prepare_job_execution", "h_start", "h_prepared")
    event.listen(Engine, "engine_connect", lambda conn: mark("j_connected"))

    perform_job = BaseWorker.perform_job

    def perform(self: Any, job: Any, queue: Any, execution: Any) -> bool:
        try:
            return perform_job(self, job, queue, execution)
        finally:
            mark("h_perform_end")
            flush("horse", job)

    BaseWorker.perform_job = perform  # type: ignore[method-assign]

    execute_job, fork_work_horse, monitor = Worker.execute_job, Worker.fork_work_horse, Worker.monitor_work_horse
    pending: list[Any] = []

    def execute(self: Any, job: Any, queue: Any) -> None:
        if pending:
            mark("w_next")
            flush("worker", pending.pop())
        mark("w_exec")
        execute_job(self, job, queue)
        pending.append(job)

    def fork(self: Any, job: Any, queue: Any) -> None:
        mark("w_fork")
        fork_work_horse(self, job, queue)
        mark("w_forked")

    def watch(self: Any, job: Any, queue: Any, execution: Any) -> None:
        monitor(self, job, queue, execution)
        mark("w_reaped")

    wait_for_horse = Worker.wait_for_horse

    def wait(self: Any) -> Any:
        pid, stat, rusage = wait_for_horse(self)
        if rusage is not None:
            _marks["cpu_horse"] = rusage.ru_utime + rusage.ru_stime
            _marks["faults_horse"] = rusage.ru_minflt
        return pid, stat, rusage

    Worker.execute_job, Worker.fork_work_horse = execute, fork  # type: ignore[method-assign]
    Worker.monitor_work_horse, Worker.wait_for_horse = watch, wait  # type: ignore[method-assign]


def _process(checkpoint: str) -> str:
    return "worker" if checkpoint.startswith("w_") else "horse"


def _load(directory: str) -> dict[str, dict[str, float]]:
    jobs: dict[str, dict[str, float]] = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".jsonl"):
            with open(os.path.join(directory, name)) as f:
                for line in f:
                    record = json.loads(line)
                    jobs.setdefault(record.pop("job"), {}).update(
                        (k, v) for k, v in record.items() if k != "kind")
    return jobs


def print_breakdown(directory: str) -> None:
    """Median milliseconds of each stretch, over the jobs that have both of its checkpoints."""
    import statistics

    jobs = _load(directory)
    print(f"breakdown of {len(jobs)} send jobs (median ms; n = jobs with both checkpoints):")
    print(f"  {'':<46} {'wall':>7}   {'p90':>7}   {'CPU':>7}")
    for label, start, end in STAGES:
        spans = [1000 * (j[end] - j[start]) for j in jobs.values() if start in j and end in j]
        cpu = [1000 * (j["cpu:" + end] - j["cpu:" + start]) for j in jobs.values()
               if "cpu:" + start in j and "cpu:" + end in j and _process(start) == _process(end)]
        if spans:
            print(f"  {label:<46} {statistics.median(spans):7.2f}   {statistics.quantiles(spans, n=10)[-1]:7.2f}   "
                  + (f"{statistics.median(cpu):7.2f}" if cpu else "      -"))
    for key, unit, scale in (("cpu:h_start", "ms CPU from fork to RQ's prepare", 1000),
                             ("cpu:h_perform_end", "ms CPU from fork to perform_job's end", 1000),
                             ("cpu_horse", "ms CPU", 1000), ("faults_horse", "minor page faults", 1)):
        values = [scale * j[key] for j in jobs.values() if key in j]
        if values:
            print(f"  {'horse, per job (rusage): ' + unit:<46} {statistics.median(values):7.2f}")
    whole = [1000 * (j["w_next"] - j["w_exec"]) for j in jobs.values() if "w_next" in j and "w_exec" in j]
    if whole:
        print(f"  {'whole cycle in the worker (exec to next)':<46} {statistics.median(whole):7.2f}")
