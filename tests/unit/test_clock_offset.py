"""The `--clock-offset-days` plugin: the suite's clock, and its child processes' clocks, move ahead and keep ticking.

The real clock is read through time-machine's escape hatch, so these tests hold
whether or not the suite itself runs with an offset.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from time_machine import escape_hatch

from core.config import PROJECT_ROOT
from tests.support import clock_offset
from tests.support.clock_hook.offset_clock import start_offset_clock

YEAR = 365 * 86400.0
# Bounds that tell "moved by a year" from "not moved", never how fast anything ran: elapsed time is
# not what these tests check (speed belongs in bench/).
SLACK = 30 * 86400.0


def _real_time() -> float:
    return escape_hatch.time.time() if escape_hatch.is_travelling() else time.time()


def test_start_offset_clock_moves_time_and_datetime_and_keeps_ticking() -> None:
    before, before_dt = time.time(), datetime.now(timezone.utc)
    travel = start_offset_clock(365)
    try:
        moved, moved_dt, today = time.time(), datetime.now(timezone.utc), date.today()
        time.sleep(0.3)
        later = time.time()
    finally:
        travel.stop()
    back = date.today()
    assert YEAR <= moved - before < YEAR + SLACK
    assert timedelta(days=365) <= moved_dt - before_dt < timedelta(days=365 + 30)
    assert (today - before_dt.astimezone().date()).days in (365, 366)  # local midnight may pass meanwhile
    assert 0.3 <= later - moved < SLACK  # ticking: time goes on from the new moment
    assert (back - before_dt.astimezone().date()).days in (0, 1)  # stopped: today is today again


def test_without_an_offset_a_child_environment_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock_offset, "_offset_days", 0.0)
    env = {"PATH": "/bin", "PYTHONPATH": "/x"}
    assert clock_offset.with_test_clock(env) == env


def test_a_child_started_with_the_test_clock_runs_on_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock_offset, "_offset_days", 365.0)
    env = clock_offset.with_test_clock({"PATH": os.environ.get("PATH", ""), "PYTHONPATH": "/nowhere"})
    assert env["PYTHONPATH"].endswith(os.pathsep + "/nowhere")  # an existing path is kept, after the hook
    code = "import time, datetime; print(time.time()); print(datetime.datetime.now(datetime.timezone.utc).timestamp())"
    started = _real_time()
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=60, check=True)
    child_time, child_now = (float(line) for line in result.stdout.split())
    assert YEAR <= child_time - started < YEAR + SLACK
    assert YEAR <= child_now - started < YEAR + SLACK


def test_the_option_runs_a_whole_pytest_session_a_year_ahead(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_inner.py").write_text(textwrap.dedent("""
        import os, time
        from datetime import datetime, timezone

        def test_clock():
            first, now = time.time(), datetime.now(timezone.utc)
            time.sleep(0.3)
            with open(os.environ["CLOCK_OUT"], "w") as out:
                out.write(f"{first} {now.timestamp()} {time.time()}")
    """))
    out = tmp_path / "clock.txt"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "CLOCK_OUT": str(out)}
    started = _real_time()
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                             "-p", "tests.support.clock_offset", "--clock-offset-days=365", "test_inner.py"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "clock offset: +365 days" in result.stdout
    first, now, last = (float(v) for v in out.read_text().split())
    assert YEAR <= first - started < YEAR + SLACK
    assert YEAR <= now - started < YEAR + SLACK
    assert 0.3 <= last - first < SLACK
