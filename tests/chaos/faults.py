"""What the chaos run does to a running System (tests/support/system.py), each fault recorded with its times.

Kills are SIGKILL, the one signal a process cannot clean up after, of one
process chosen by the run's seeded generator:

- a gunicorn worker (the master starts another, as in production);
- a `worker.py` (the harness's supervisor starts it again like systemd; its
  work horse dies with it, its periodic child notices and stops);
- a worker's periodic child (the worker starts it again at its next
  heartbeat: core.periodic.PeriodicChild);
- a work horse in the middle of its job (its worker fails the job, the
  dispatcher claims the message again).

Services: the private Redis is stopped and started again on its port (it
keeps nothing: every queued job is gone); PostgreSQL is cut off behind the
harness's CutProxy for a few seconds (open connections break, new ones are
refused). Providers: for a while the Twilio or SMTP stand-in times out
(tests/chaos/line.py goes silent), fails transiently (503, 451: try again)
or permanently (Twilio 400 error 21408, SMTP 554: never), one window per
provider at a time.

Every fault is a `Fault` in `Faults.log` with wall-clock times (time.time,
the clock the outbox and the ledger use), so checks can say which dead
message fell in a permanent window and how long after the last fault the
system was ready again.
"""
from __future__ import annotations

import os
import random
import signal
import time
from dataclasses import dataclass
from typing import Any

from tests.chaos.line import ProviderLine
from tests.support.private_redis import children_of, is_running
from tests.support.worker_process import cmdline

KILLS = ("web worker", "worker.py", "periodic child", "work horse")
CHANNELS = ("sms", "email")
MODES = ("timeout", "transient", "permanent")
TWILIO_PERMANENT = {"status": 400, "code": 21408}   # no permission for the region: never goes, not a number verdict
SMTP_TRANSIENT, SMTP_PERMANENT = "451 4.3.0 try again later", "554 5.7.1 message refused"


@dataclass(frozen=True)
class Fault:
    kind: str        # one of KILLS, "redis restart", "database cut", or "<channel> <mode>"
    started: float   # time.time()
    ended: float

    @property
    def is_kill(self) -> bool:
        return self.kind in KILLS


def _process_group(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None


def work_horses(worker_pids: list[int]) -> list[int]:
    """The work horses running now: RQ forks each into a process group of its own (the worker's
    other children, its periodic child and RQ's scheduler, stay in the worker's group)."""
    return [child for pid in worker_pids for child in children_of(pid)
            if _process_group(child) == child and "spawn_main" not in cmdline(child) and is_running(child)]


class Faults:
    def __init__(self, system: Any, lines: dict[str, ProviderLine]) -> None:
        self.system, self.lines = system, lines
        self.log: list[Fault] = []
        self.windows: dict[str, tuple[str, float, float]] = {}   # channel -> (mode, started, monotonic end)

    # -- kills ------------------------------------------------------------------------------
    def _kill(self, kind: str, pids: list[int], rng: random.Random) -> bool:
        if not pids:
            return False
        try:
            os.kill(rng.choice(sorted(pids)), signal.SIGKILL)
        except ProcessLookupError:
            return False
        now = time.time()
        self.log.append(Fault(kind, now, now))
        return True

    def kill_web_worker(self, rng: random.Random) -> bool:
        return self._kill("web worker", self.system.gunicorn_worker_pids(), rng)

    def kill_worker(self, rng: random.Random) -> bool:
        return self._kill("worker.py", [p for p in self.system.worker_pids() if p], rng)

    def kill_periodic(self, rng: random.Random) -> bool:
        return self._kill("periodic child", [p for p in self.system.periodic_pids() if p], rng)

    def kill_horse(self, rng: random.Random, wait: float = 3.0) -> bool:
        """A horse lives only while its job runs (milliseconds to seconds): look for one a little while."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            horses = work_horses([p for p in self.system.worker_pids() if p])
            if horses and self._kill("work horse", horses, rng):
                return True
            time.sleep(0.02)
        return False

    # -- services ---------------------------------------------------------------------------
    def restart_redis(self, rng: random.Random) -> bool:
        """Stop the private Redis (everything in it is lost), and start it again on its port."""
        started = time.time()
        self.system.redis.stop()
        time.sleep(rng.uniform(0.5, 2.0))
        self.system.redis.start()
        self.log.append(Fault("redis restart", started, time.time()))
        return True

    def cut_database(self, seconds: float) -> bool:
        """PostgreSQL unreachable for `seconds` (the proxy breaks open connections and refuses new ones)."""
        proxy = self.system.proxy
        assert proxy is not None, "the chaos run needs System(db_through_proxy=True)"
        started = time.time()
        proxy.cut()
        try:
            time.sleep(seconds)
        finally:
            proxy.restore()
        self.log.append(Fault("database cut", started, time.time()))
        return True

    # -- provider windows -------------------------------------------------------------------
    def open_window(self, channel: str, mode: str, seconds: float) -> bool:
        """From now for `seconds`, the channel's provider times out, fails transiently or for good."""
        if channel in self.windows:
            return False
        twilio, smtp = self.system.twilio, self.system.smtp
        if mode == "timeout":
            self.lines[channel].silent()
        elif channel == "sms":
            twilio.fail_always(**(TWILIO_PERMANENT if mode == "permanent" else {"status": 503}))
        else:
            smtp.fail_always(SMTP_PERMANENT if mode == "permanent" else SMTP_TRANSIENT)
        self.windows[channel] = (mode, time.time(), time.monotonic() + seconds)
        return True

    def close_window(self, channel: str) -> None:
        mode, started, _ = self.windows.pop(channel)
        if mode == "timeout":
            self.lines[channel].passing()
        elif channel == "sms":
            self.system.twilio.reset()
        else:
            self.system.smtp.reset()
        self.log.append(Fault(f"{channel} {mode}", started, time.time()))

    def close_expired(self, everything: bool = False) -> None:
        for channel, (_, _, ends) in list(self.windows.items()):
            if everything or time.monotonic() >= ends:
                self.close_window(channel)

    # -- what happened ----------------------------------------------------------------------
    @property
    def last_end(self) -> float | None:
        return max((f.ended for f in self.log), default=None)

    def count(self, kind: str) -> int:
        return sum(f.kind == kind for f in self.log)

    def permanent_windows(self, channel: str) -> list[Fault]:
        return [f for f in self.log if f.kind == f"{channel} permanent"]
