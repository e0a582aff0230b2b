"""The runtime a job runs with: built once per worker process from the environment."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from core.runtime import Runtime

_runtime: Runtime | None = None


def set_job_runtime(runtime: Runtime | None) -> None:
    """The app (in-process worker) or worker.py hands its runtime to the jobs (None: build on demand)."""
    global _runtime
    _runtime = runtime


def job_runtime() -> Runtime:
    if _runtime is None:
        from app import build_process_runtime

        set_job_runtime(build_process_runtime())
    assert _runtime is not None
    return _runtime



@contextmanager
def job_runtime_as(runtime: Runtime | None) -> Iterator[None]:
    """Jobs run in this process use `runtime` inside the block; the one before is back after it."""
    previous = _runtime
    set_job_runtime(runtime)
    try:
        yield
    finally:
        set_job_runtime(previous)
