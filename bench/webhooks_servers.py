"""The webhook benchmark's servers: Pendel and the floor app under gunicorn, same settings, on loopback.

`Gunicorn` starts `python -m gunicorn` in a session of its own (so Ctrl-C in
the terminal reaches only the benchmark, which then stops it), on a free
port of 127.0.0.1, output into a log file, and waits until `GET /healthz`
answers. `stop` sends SIGTERM to the whole process group (master and
workers), then SIGKILL after 15 s. `app_environment` is the production-like
environment both servers get.
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from typing import IO

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PUBLIC_BASE_URL = "https://pendel.test"
AUTH_TOKEN = "bench-webhooks-auth-token"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")   # a database number of our own
APP = "app:create_app()"
FLOOR = "bench.webhooks_floor:create_app()"


def app_environment(database_url: str) -> dict[str, str]:
    """PENDEL_ENV=production, signature check on, our database, our Redis database number."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    return {**keep, "PYTHONPATH": ROOT, "PENDEL_ENV": "production", "SECRET_KEY": "bench-webhooks-" + "x" * 40,
            "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "TWILIO_ACCOUNT_SID": "AC" + "be" * 16, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_PHONE_NUMBER": "+31850000000",
            # Nothing on the webhook path calls Twilio's API; if something did, it would fail here, not abroad.
            "TWILIO_API_BASE_URL": "http://127.0.0.1:9"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gunicorn:
    def __init__(self, name: str, spec: str, options: list[str], env: dict[str, str], logdir: str) -> None:
        self.name, self.spec, self.options, self.env = name, spec, options, env
        self.log_path = os.path.join(logdir, f"{name}.log")
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "gunicorn", *self.options, "--bind", f"127.0.0.1:{self.port}", self.spec]

    def start(self, timeout: float = 60.0) -> None:
        self.port = free_port()
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited with {self.proc.returncode}\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: not ready after {timeout:.0f} s\n{self.tail()}")

    def worker_pids(self) -> list[int]:
        """The master's children (gunicorn's workers), from /proc."""
        if self.proc is None:
            return []
        from tests.support.private_redis import children_of

        return sorted(children_of(self.proc.pid))

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 10.0)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 20) -> str:
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return f"--- {self.name} log (last {lines} lines)\n" + "\n".join(text[-lines:])


def process_ticks(pids: list[int]) -> dict[int, int]:
    """User+system CPU clock ticks of each process still there (PostgreSQL backends, gunicorn workers)."""
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[pid] = int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return out


def cpu_between(before: dict[int, int], after: dict[int, int]) -> float:
    """Seconds of CPU the processes used between two `process_ticks` (a new process counts from 0)."""
    return sum(t - before.get(pid, 0) for pid, t in after.items()) / os.sysconf("SC_CLK_TCK")
