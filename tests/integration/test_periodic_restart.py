"""A worker.py whose periodic child died starts it again, and messages go out again.

Before core.periodic.PeriodicChild a SIGKILLed periodic child was simply
gone: its worker.py went on taking jobs, but nothing was dispatched by it any
more, and with every worker's child gone no message left the outbox (found by
the chaos run, tests/chaos/). Real PostgreSQL, a private redis-server, the
Twilio stand-in and a real `python worker.py`.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import redis

from core.config import PROJECT_ROOT
from core.db import utcnow
from core.runtime import Runtime
from tests.integration.delivery_support import (NUMBER, child_pids, conn, delivery, private_redis,  # noqa: F401
                                                wait_until, worker_env)
from tests.integration.test_dispatch import id_base, make_row, rows
from tests.support.fixtures import smtp_server, twilio_standin  # noqa: F401 - the fixtures
from tests.support.private_redis import is_running
from tests.support.twilio_standin import TwilioStandin
from tests.support.worker_process import cmdline


def _periodic_child(pid: int) -> int | None:
    found = [c for c in child_pids(pid) if "spawn_main" in cmdline(c) and is_running(c)]
    return found[0] if found else None


def test_a_killed_periodic_child_is_started_again_and_dispatches(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin, smtp_server) -> None:  # noqa: F811
    proc = subprocess.Popen([sys.executable, "worker.py"], cwd=PROJECT_ROOT,
                            env=worker_env(delivery, twilio_standin, smtp_server),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_until(lambda: _periodic_child(proc.pid) is not None, timeout=30, what="the periodic child")
        first = _periodic_child(proc.pid)
        assert first is not None
        os.kill(first, signal.SIGKILL)
        # The worker looks at its child with every heartbeat (at most ten seconds apart).
        wait_until(lambda: _periodic_child(proc.pid) not in (None, first), timeout=30,
                   what="a new periodic child")
        assert proc.poll() is None  # the worker itself ran on
        row_id = id_base()
        with delivery.db.write_session() as s:
            make_row(s, row_id, utcnow(), to_address=NUMBER)
        wait_until(lambda: rows(delivery.db)[row_id].status == "sent", timeout=30,
                   what="the new child to dispatch the message")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            _, stderr = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            _, stderr = proc.communicate()
    assert "starting it again" in stderr
    assert NUMBER not in stderr
    assert len(twilio_standin.messages) == 1
