"""worker.py runs the periodic work in a child process that never outlives it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import redis

from core.config import PROJECT_ROOT
from core.runtime import Runtime
from tests.integration.delivery_support import (QUEUE, child_pids, conn, delivery, private_redis,  # noqa: F401
                                                wait_until, worker_env)
from tests.support.fixtures import smtp_server, twilio_standin  # noqa: F401 - the fixtures
from tests.support.private_redis import is_running


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_the_periodic_child_stops_when_its_worker_is_killed(delivery: Runtime, conn: redis.Redis,  # noqa: F811
                                                             twilio_standin, smtp_server) -> None:  # noqa: F811
    env = worker_env(delivery, twilio_standin, smtp_server)
    proc = subprocess.Popen([sys.executable, "worker.py", QUEUE], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: any("spawn_main" in _cmdline(p) for p in child_pids(proc.pid)), timeout=30,
                   what="the periodic child process")
        children = child_pids(proc.pid)  # the periodic process (and multiprocessing's resource tracker)
        os.kill(proc.pid, signal.SIGKILL)  # the worker dies without cleaning up
        proc.wait(10)
        wait_until(lambda: not any(is_running(p) for p in children), timeout=15,
                   what="the orphaned periodic process to stop")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        for pid in child_pids(proc.pid):
            os.kill(pid, signal.SIGKILL)
