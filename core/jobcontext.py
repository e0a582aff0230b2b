"""The runtime a job runs with: built once per worker process from the environment.

The entry point hands it over (`set_job_runtime`), or says how to build it on
demand (`set_runtime_builder`: app.py and worker.py hand composition's
`build_process_runtime`); core does not know how the packages are wired.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from core.runtime import Runtime

_runtime: Runtime | None = None
_builder: Callable[[], Runtime] | None = None


def set_runtime_builder(builder: Callable[[], Runtime] | None) -> None:
    """How a process that was handed no runtime builds one, at its first job."""
    global _builder
    _builder = builder


def set_job_runtime(runtime: Runtime | None) -> None:
    """The app (in-process worker) or worker.py hands its runtime to the jobs (None: build on demand)."""
    global _runtime
    _runtime = runtime


def job_runtime() -> Runtime:
    if _runtime is None:
        if _builder is None:
            raise RuntimeError("no runtime for jobs: the entry point (app.py, worker.py) sets one or its builder")
        set_job_runtime(_builder())
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
