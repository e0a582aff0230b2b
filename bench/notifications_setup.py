"""The notification benchmark's set-up: its database, the stand-ins, a private redis-server, the workers.

`open_environment` creates and migrates the benchmark's own database (through
`bench.availability_db.open_database`), starts the Twilio stand-in, the SMTP
server and a redis-server of its own, and hands back the `Workers` that start
`worker.py` subprocesses against them; `reset`, `write_outbox` and
`status_counts` empty, fill and read the outbox between and during the phases.
Everything started is registered on the caller's ExitStack, so it is gone at
the end, also on failure.
"""
from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from typing import Any

from bench.availability_db import ADMIN_URL, open_database

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOOP_JOB = "bench.notifications.noop"     # the bare floor's job, defined in bench/notifications.py
NOOP_QUEUE = "bench-noop"
POLL = 0.2
PUBLIC_BASE_URL = "https://pendel.test"
SMS_BODY = "Wij hebben uw verzoek ontvangen en bellen u morgen tussen 10:00 en 12:00 terug."
ICS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Pendel//bench//NL\r\nMETHOD:REQUEST\r\n"
       "BEGIN:VEVENT\r\nUID:bench-{i}@pendel.test\r\nDTSTAMP:20260101T090000Z\r\n"
       "DTSTART:20260302T090000Z\r\nDTEND:20260302T103000Z\r\nSUMMARY:Afspraak\r\n"
       "LOCATION:Benchstraat 1\\, Utrecht\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


# --------------------------------------------------------------------------- processes


class Workers:
    """`worker.py` subprocesses, each in a session of its own, output in a log file per process."""

    def __init__(self, env: dict[str, str], logdir: str) -> None:
        self.env, self.logdir = env, logdir
        self.procs: list[Any] = []
        self._logs: list[Any] = []
        self.stuck: list[int] = []   # which of the last started processes ignored SIGTERM for 20 s

    def start(self, argv: list[str], n: int, tag: str) -> None:
        import subprocess

        self.stuck = []
        for i in range(n):
            log = open(os.path.join(self.logdir, f"{tag}-{i}.log"), "wb")
            self._logs.append(log)
            self.procs.append(subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=self.env,
                                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def wait(self, timeout: float) -> list[int | None]:
        """Wait for all to exit (at most `timeout` in all); their exit codes, None for one still running."""
        import subprocess
        import time

        deadline = time.monotonic() + timeout
        codes: list[int | None] = []
        for proc in self.procs:
            try:
                codes.append(proc.wait(max(0.0, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                codes.append(None)
        return codes

    def stop(self) -> None:
        """SIGTERM (RQ's warm shutdown: a running job ends first); after 20 s SIGKILL, work horses included.

        A work horse runs in a process group of its own (RQ calls setpgrp), so
        killing the worker's group would leave it behind: it is killed by pid.
        """
        import signal
        import subprocess

        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for i, proc in enumerate(self.procs):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                self.stuck.append(i)
                from tests.support.private_redis import children_of

                for pid in children_of(proc.pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(10)
        self.procs = []
        for log in self._logs:
            log.close()
        self._logs = []

    def log_text(self, tag: str) -> str:
        """The output of the processes started with this tag ("deliver"), or of one ("deliver-1")."""
        out = []
        for name in sorted(os.listdir(self.logdir)):
            if name.startswith(tag + "-") or name == f"{tag}.log":
                with open(os.path.join(self.logdir, name), "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
        return "\n".join(out)

    def tail(self, lines: int = 15) -> str:
        out = []
        for name in sorted(os.listdir(self.logdir)):
            with open(os.path.join(self.logdir, name), "rb") as f:
                text = f.read().decode("utf-8", "replace").splitlines()
            out.append(f"--- {name} (last {lines} lines)\n" + "\n".join(text[-lines:]))
        return "\n".join(out)



# --------------------------------------------------------------------------- the outbox path


def reset(db: Any, conn: Any) -> None:
    """Empty the outbox and OUR redis-server before a phase (row ids go on, so job ids never repeat)."""
    from sqlalchemy import delete

    from notifications.models import OutboxMessage

    with db.write_session() as session:
        session.execute(delete(OutboxMessage))
    conn.flushall()  # the private server started by this script, never the shared one


def write_outbox(db: Any, n: int, tag: str) -> None:
    """n due rows through `add_message`: even ones SMS to Dutch mobiles, odd ones email with HTML and .ics."""
    from core.db import utcnow
    from notifications.outbox import NewMessage, add_message

    now = utcnow()
    with db.write_session() as session:
        for i in range(n):
            if i % 2 == 0:
                message = NewMessage(
                    key=f"bench:{tag}:{i}:sms", kind="callback_confirmation", channel="sms",
                    recipient_kind="caller", to=f"+3161{i:07d}", language="nl", body=SMS_BODY, segments=1)
            else:
                message = NewMessage(
                    key=f"bench:{tag}:{i}:email", kind="mediator_notice", channel="email",
                    recipient_kind="mediator", to=f"bemiddelaar{i}@example.org", language="nl",
                    subject="Nieuwe afspraak",
                    body="Er is een afspraak met u gemaakt op maandag 2 maart om 10:00.\n\nZie de bijlage.",
                    html_body="<p>Er is een afspraak met u gemaakt op <b>maandag 2 maart</b> om 10:00.</p>",
                    attachment_ics=ICS.format(i=i))
            add_message(session, message, now)


def status_counts(db: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from notifications.models import OutboxMessage

    with db.session() as session:
        return dict(session.execute(select(OutboxMessage.status, func.count())  # type: ignore[arg-type]
                                    .group_by(OutboxMessage.status)).all())


# --------------------------------------------------------------------------- the environment


def open_environment(stack: ExitStack, admin: Any, name: str, tmp: str,
                     worker_server: str | None = None) -> tuple[Any, Any, Any, Any, dict[str, str], Workers]:
    """Database `name` (migrated), the stand-ins, a redis-server in `tmp`; the workers' environment and Workers.

    `worker_server` (a database URL; its database name is replaced by `name`) is where the workers
    connect instead of the server the benchmark itself uses: a pooler such as PgBouncer in front of
    it. Returns (db, redis connection, Twilio stand-in, SMTP server, env, workers).
    """
    import redis
    from sqlalchemy.engine import make_url

    from core.migrate import upgrade
    from tests.support.private_redis import PrivateRedis
    from tests.support.smtp_server import SmtpServer
    from tests.support.twilio_standin import TwilioStandin

    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    db = open_database(admin, name, stack)
    upgrade(db.engine)

    twilio = stack.enter_context(TwilioStandin())
    smtp = stack.enter_context(SmtpServer())
    os.makedirs(os.path.join(tmp, "redis"))
    server = PrivateRedis(os.path.join(tmp, "redis"))
    stack.callback(server.stop)
    server.start()
    conn = redis.Redis.from_url(server.url)
    stack.callback(conn.close)

    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    if worker_server:
        url = make_url(worker_server).set(database=name).render_as_string(hide_password=False)
    env = {**keep, "REDIS_URL": server.url, "DATABASE_URL": url, "PENDEL_ENV": "testing",
           "SECRET_KEY": "bench", "PUBLIC_BASE_URL": PUBLIC_BASE_URL, **twilio.env(), **smtp.env()}
    os.makedirs(os.path.join(tmp, "logs"))
    workers = Workers(env, os.path.join(tmp, "logs"))
    stack.callback(workers.stop)
    return db, conn, twilio, smtp, env, workers
