"""The whole of Pendel, started as production runs it, for whole-system tests, load and chaos runs.

    with System(web_workers=3, worker_processes=2) as system:
        system.wait_ready()
        ... real HTTP to system.base_url; system.twilio / system.smtp saw what went out ...

What it starts, each as its own process group where it is a process (so a
stop, or a chaos run's SIGKILL, reaches exactly what it means to):

- a fresh PostgreSQL database of its own on the local server, migrated with
  `core.migrate.upgrade`, dropped at the end (`database_url`). With
  `db_through_proxy=True` the app and the workers reach it through a
  `CutProxy` (tests/support/cut_proxy.py) the caller may `cut()` and
  `restore()` (`proxy`); the harness's own checks use the direct URL;
- a private redis-server (tests/support/private_redis.py: no persistence, so a
  restart empties it, as `redis.restart()` — stop, then start — shows);
- the Twilio REST stand-in and the SMTP server, in this process (`twilio`,
  `smtp`): the app and workers are pointed at them with TWILIO_API_BASE_URL
  and SMTP_*, so what they record is what left Pendel;
- gunicorn `app:create_app()`, sync workers, `2 x cores + 1` by default, on a
  free loopback port (`base_url`; bench/webhooks_servers.Gunicorn);
- N `python worker.py` processes (default 2); each runs RQ and spawns the
  periodic child (outbox dispatch and the rest, core/periodic.py).

Settings are the production ones (PENDEL_ENV=production, the webhook
signature check on, PUBLIC_BASE_URL = https://pendel.test, which is what
Twilio signs and what staff forms' Origin is checked against). The public
pages' per-address and per-number limits are raised (`LOOSE_LIMITS`): all
load comes from one loopback address and a small pool of numbers, which in
production would be thousands of people. `env=` adds or overrides variables.

A `worker.py` that dies is restarted like a systemd unit with
`Restart=always`, `KillMode=control-group` would do it (`restart_workers`,
on by default): what is left of its process group (a work horse, the
periodic child) gets SIGTERM, then SIGKILL after 5 s, and after
`restart_delay` seconds a new `worker.py` takes the slot (`worker_restarts`
counts them). A gunicorn worker that dies is replaced by the gunicorn master
itself, as in production; the master is not supervised. Under the suite's
`--clock-offset-days` every process runs on the suite's clock.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import uuid

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from bench.webhooks_servers import Gunicorn
from core.config import PROJECT_ROOT
from core.db import Database
from core.migrate import upgrade
from tests.support.clock_offset import with_test_clock
from tests.support.cut_proxy import CutProxy
from tests.support.private_redis import PrivateRedis
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_standin import TwilioStandin
from tests.support.worker_process import WorkerProcess

ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PUBLIC_BASE_URL = "https://pendel.test"
SECRET_KEY = "whole-system-" + "k" * 40
LOOSE_LIMITS = {"PUBLIC_FORM_LIMIT_ADDRESS": "1000000 per hour", "CALLBACK_LIMIT_NUMBER": "1000000 per day",
                "CONFIRMATION_TEXT_LIMIT_NUMBER": "1000000 per day",
                "CONFIRMATION_TEXT_LIMIT_ADDRESS": "1000000 per day"}
_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def default_web_workers() -> int:
    """gunicorn's own advice, as the README's production line: 2 x cores + 1."""
    return 2 * (os.cpu_count() or 1) + 1


class System:
    """The running system; use as a context manager (or `start()` / `stop()`). See the module doc."""

    def __init__(self, *, web_workers: int | None = None, worker_processes: int = 2,
                 db_through_proxy: bool = False, restart_workers: bool = True, restart_delay: float = 1.0,
                 env: dict[str, str] | None = None, admin_url: str = ADMIN_URL, keep_logs: bool = False) -> None:
        self.web_workers = web_workers or default_web_workers()
        self.worker_count = worker_processes
        self.restart_workers, self.restart_delay = restart_workers, restart_delay
        self.extra_env, self.admin_url, self.keep_logs = dict(env or {}), admin_url, keep_logs
        self.database_name = f"pendel_system_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.database_url = make_url(admin_url).set(database=self.database_name).render_as_string(
            hide_password=False)
        self.public_base_url, self.secret_key = PUBLIC_BASE_URL, SECRET_KEY
        self.logdir = tempfile.mkdtemp(prefix="pendel-system-")
        self.redis = PrivateRedis(self.logdir)
        self.twilio, self.smtp = TwilioStandin(), SmtpServer()
        self.proxy: CutProxy | None = None
        if db_through_proxy:
            url = make_url(admin_url)
            self.proxy = CutProxy((url.host or "127.0.0.1", url.port or 5432))
        self.web: Gunicorn | None = None
        self.workers: list[WorkerProcess] = []
        self._engine: Engine | None = None
        self._database_created = False
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None

    # -- what a caller reads ----------------------------------------------------------------
    @property
    def app_database_url(self) -> str:
        """The URL the app and the workers use: through the proxy when there is one."""
        if self.proxy is None:
            return self.database_url
        return make_url(self.database_url).set(host="127.0.0.1", port=self.proxy.port).render_as_string(
            hide_password=False)

    @property
    def base_url(self) -> str:
        assert self.web is not None, "not started"
        return f"http://127.0.0.1:{self.web.port}"

    @property
    def port(self) -> int:
        assert self.web is not None, "not started"
        return self.web.port

    @property
    def twilio_auth_token(self) -> str:
        return self.twilio.auth_token

    @property
    def engine(self) -> Engine:
        """An engine on the database itself (never through the proxy), for seeding and checks."""
        if self._engine is None:
            self._engine = create_engine(self.database_url, pool_size=2, max_overflow=4)
        return self._engine

    def env(self) -> dict[str, str]:
        """The environment gunicorn and every worker.py get."""
        keep = {k: v for k, v in os.environ.items() if k in _KEEP}
        return with_test_clock({
            **keep, "PYTHONPATH": str(PROJECT_ROOT), "PENDEL_ENV": "production", "SECRET_KEY": self.secret_key,
            "DATABASE_URL": self.app_database_url, "REDIS_URL": self.redis.url,
            "PUBLIC_BASE_URL": self.public_base_url, "MAIL_FROM": "kantoor@pendel.test",
            **self.twilio.env(), **self.smtp.env(), **LOOSE_LIMITS, **self.extra_env})

    # -- pids, for a chaos run -----------------------------------------------------------------
    @property
    def gunicorn_pid(self) -> int | None:
        return self.web.proc.pid if self.web is not None and self.web.proc is not None else None

    def gunicorn_worker_pids(self) -> list[int]:
        return self.web.worker_pids() if self.web is not None else []

    def worker_pids(self) -> list[int | None]:
        """The pid of each worker.py slot (None while a slot waits to be restarted)."""
        return [w.pid for w in self.workers]

    def periodic_pids(self) -> list[int | None]:
        """The pid of each worker.py's periodic child (None while there is none)."""
        return [w.periodic_pid() for w in self.workers]

    @property
    def worker_restarts(self) -> int:
        return sum(w.restarts for w in self.workers)

    # -- life cycle -------------------------------------------------------------------------
    def __enter__(self) -> "System":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.database_name}"'))
        finally:
            admin.dispose()
        self._database_created = True
        db = Database(self.database_url)
        try:
            upgrade(db.engine)
        finally:
            db.dispose()
        self.redis.start()
        self.twilio.start()
        self.smtp.start()
        env = self.env()
        self.web = Gunicorn("gunicorn", "app:create_app()", [
            "--workers", str(self.web_workers), "--worker-class", "sync", "--timeout", "60",
            "--graceful-timeout", "10", "--log-level", "warning"], env, self.logdir)
        self.web.start()
        self.workers = [WorkerProcess(i, env, self.logdir) for i in range(self.worker_count)]
        for worker in self.workers:
            worker.start()
        if self.restart_workers:
            self._supervisor = threading.Thread(target=self._supervise, name="system-supervisor", daemon=True)
            self._supervisor.start()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until `/readyz` answers 200 (database and Redis reachable) and each worker.py has its periodic child."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                response = requests.get(self.base_url + "/readyz", timeout=5)
                last = f"{response.status_code} {response.text[:200]}"
                if response.status_code == 200 and all(w.periodic_pid() for w in self.workers):
                    return
            except requests.RequestException as exc:
                last = type(exc).__name__
            time.sleep(0.2)
        raise RuntimeError(f"not ready after {timeout:.0f} s: /readyz {last}\n{self.tail()}")

    def restart_worker(self, index: int) -> None:
        """Stop worker.py slot `index` (its whole process group) if it still runs, and start it again now."""
        worker = self.workers[index]
        with worker.lock:
            worker.stop()
            worker.start()
            worker.restarts += 1

    def _supervise(self) -> None:
        while not self._stopping.wait(0.2):
            for worker in self.workers:
                if not worker.lock.acquire(blocking=False):
                    continue
                try:
                    if worker.exited() and not self._stopping.is_set():
                        worker.stop()  # the rest of its group: SIGTERM, SIGKILL after 5 s
                        if self._stopping.wait(self.restart_delay):
                            return
                        worker.start()
                        worker.restarts += 1
                finally:
                    worker.lock.release()

    def stop(self) -> None:
        """Stop everything this started (process groups included) and drop the database; safe to call twice."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(10)
            self._supervisor = None
        def stop_worker(worker: WorkerProcess) -> None:
            with worker.lock:
                worker.stop()

        stopping = [threading.Thread(target=stop_worker, args=(w,)) for w in self.workers]
        if self.web is not None:  # all at once: each takes a second or two to finish what it is doing
            stopping.append(threading.Thread(target=self.web.stop))
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        for part in (self.twilio, self.smtp, self.redis):
            part.stop()
        if self.proxy is not None:
            self.proxy.close()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self._database_created:
            drop_database(self.admin_url, self.database_name)
            self._database_created = False
        if not self.keep_logs:
            shutil.rmtree(self.logdir, ignore_errors=True)

    def tail(self, lines: int = 15) -> str:
        """The last lines of gunicorn's and each worker's log, for a failure message."""
        parts = [self.web.tail(lines)] if self.web is not None else []
        return "\n".join(parts + [w.tail(lines) for w in self.workers])


def drop_database(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
