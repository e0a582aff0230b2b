"""`--clock-offset-days=N`: run the whole suite with the clock N days from now.

A test that passes today but fails on some later day is a failure waiting for
a date; running the suite a year ahead (`make test-next-year`) finds it now.
The clock moves inside Python with time-machine (ticking, so time still
advances): Debian's `faketime` would hang `threading.Event.wait`. Only the
wall clock moves (`time.time`, `datetime.now`, `date.today`, ...), not
`time.monotonic`, so timeouts and waits behave as usual. PostgreSQL's `now()`
still reads the real clock: a test must not compare it with Python's time.

Python processes that a test starts (`worker.py`, `flask`) move their clock
too when their environment is built with `with_test_clock(env)`: it puts
`tests/support/clock_hook` (a `sitecustomize` that calls `start_offset_clock`)
on their PYTHONPATH and passes the offset in `PENDEL_TEST_CLOCK_OFFSET_DAYS`.
Production code knows nothing of this.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
import time_machine

from tests.support.clock_hook.offset_clock import ENV_VAR, start_offset_clock

HOOK_DIR = Path(__file__).resolve().parent / "clock_hook"

_offset_days = 0.0
_travel: time_machine.travel | None = None


def with_test_clock(env: dict[str, str]) -> dict[str, str]:
    """`env` for a Python child process, with the suite's clock offset when one is set."""
    if not _offset_days:
        return env
    path = os.pathsep.join(p for p in (str(HOOK_DIR), env.get("PYTHONPATH", "")) if p)
    return {**env, ENV_VAR: repr(_offset_days), "PYTHONPATH": path}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--clock-offset-days", type=float, default=0.0, metavar="N",
                     help="run the suite (and the Python processes it starts) with the clock N days ahead")


def pytest_configure(config: pytest.Config) -> None:
    global _offset_days, _travel
    days = float(config.getoption("clock_offset_days"))
    if days and _travel is None:
        _offset_days, _travel = days, start_offset_clock(days)


def pytest_unconfigure(config: pytest.Config) -> None:
    global _offset_days, _travel
    if _travel is not None:
        _travel.stop()
        _offset_days, _travel = 0.0, None


def pytest_report_header(config: pytest.Config) -> str | None:
    if not _offset_days:
        return None
    return f"clock offset: {_offset_days:+g} days (now {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)"
