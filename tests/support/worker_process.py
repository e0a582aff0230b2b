"""One `python worker.py` slot of tests/support/system.py: start, stop, and the pids a chaos run needs.

The process runs in a session (and so a process group) of its own: its work
horses and its periodic child are in that group, so `stop()` ends all of
them at once, as systemd's control-group kill does, even when the worker
itself was SIGKILLed and left them behind. Output goes to
`<logdir>/worker-<i>.log`, appended across restarts.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import IO

from core.config import PROJECT_ROOT
from tests.support.private_redis import children_of

STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def group_alive(pgid: int) -> bool:
    """Whether any process of group `pgid` is left (zombies of ours are reaped by `wait`)."""
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


class WorkerProcess:
    def __init__(self, index: int, env: dict[str, str], logdir: str) -> None:
        self.index, self.env = index, env
        self.log_path = os.path.join(logdir, f"worker-{index}.log")
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.lock = threading.Lock()  # held by whoever starts or stops this slot
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def exited(self) -> bool:
        """The slot's worker.py was started and is gone (killed, or exited on its own)."""
        return self.proc is not None and self.proc.poll() is not None

    def periodic_pid(self) -> int | None:
        """The periodic child (multiprocessing's spawned process; the resource tracker is the other child)."""
        pid = self.pid
        if pid is None:
            return None
        found = [c for c in children_of(pid) if "spawn_main" in cmdline(c)]
        return found[0] if found else None

    def start(self) -> None:
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "worker.py"], cwd=PROJECT_ROOT, env=self.env,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        """SIGTERM to the whole group (worker.py stops its periodic child and its horse), SIGKILL after 5 s."""
        proc, self.proc = self.proc, None
        if proc is not None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + STOP_GRACE
                while time.monotonic() < deadline:
                    if proc.poll() is not None and not group_alive(proc.pid):
                        break
                    time.sleep(0.05)
                else:
                    continue
                break
            proc.poll()
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 15) -> str:
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return f"--- worker {self.index} log (last {lines} lines)\n" + "\n".join(text[-lines:])
