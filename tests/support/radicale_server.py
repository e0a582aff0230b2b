"""A real Radicale CalDAV server on loopback, for testing the CalDAV source end to end.

Radicale runs as a subprocess (``python -m radicale`` from this venv) with its
storage, htpasswd file and log in a private temp dir, on a free port on
127.0.0.1, with ``owner_only`` rights: one user, who owns ``/<user>/``. On
start it creates that user's calendar collection with MKCALENDAR through the
``caldav`` library, the way a calendar app would. Events are PUT as raw
``.ics`` text, so a test controls exactly what the server stores.

``--config ""`` keeps any /etc or ~/.config Radicale config out of the test;
``--auth-delay 0`` drops Radicale's pause after a wrong password (a
brute-force brake) so sign-in tests stay fast. After ``stop()``, ``start()``
runs again on the same port with the same data; ``close()`` (or leaving the
``with`` block) stops it and removes the temp dir.
"""
from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import IO, Iterator

import pytest
from caldav import DAVClient

DEFAULT_USERNAME = "mediator-a"
DEFAULT_PASSWORD = "radicale-test-secret-7Q2"
DEFAULT_CALENDAR = "busy"


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class RadicaleServer:
    """The server. ``start()``/``stop()``/``close()`` or ``with RadicaleServer() as radicale:``."""

    def __init__(self, username: str = DEFAULT_USERNAME, password: str = DEFAULT_PASSWORD,
                 calendar: str = DEFAULT_CALENDAR, host: str = "127.0.0.1", port: int = 0) -> None:
        self.username, self.password, self.calendar, self.host = username, password, calendar, host
        self.port = port
        self._dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._client: DAVClient | None = None

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> "RadicaleServer":
        if self._process is not None:
            raise RuntimeError("Radicale is already running")
        first = self._dir is None
        if first:
            self._dir = Path(tempfile.mkdtemp(prefix="pendel-radicale-"))
            (self._dir / "users").write_text(f"{self.username}:{self.password}\n", encoding="utf-8")
        pick = self.port == 0  # a restart keeps its port
        for _ in range(3 if pick else 1):  # a free port can be taken between probing and binding
            if pick:
                self.port = _free_port(self.host)
            if self._launch():
                break
        else:
            raise RuntimeError(f"Radicale did not start:\n{self.log_tail()}")
        self._client = DAVClient(url=self.base_url + "/", username=self.username,
                                 password=self.password, timeout=10, enable_rfc6764=False)
        if first:
            self._client.principal().make_calendar(name="Busy", cal_id=self.calendar)
        return self

    def _launch(self, wait: float = 20.0) -> bool:
        """Start the process and wait until it answers HTTP; False if it exited early."""
        assert self._dir is not None
        self._log = open(self._dir / "radicale.log", "ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", "",
             "--server-hosts", f"{self.host}:{self.port}",
             "--storage-filesystem-folder", str(self._dir / "collections"),
             "--auth-type", "htpasswd", "--auth-htpasswd-filename", str(self._dir / "users"),
             "--auth-htpasswd-encryption", "plain", "--auth-delay", "0",
             "--rights-type", "owner_only", "--logging-level", "warning"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._reap()
                return False
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=1)
                conn.request("OPTIONS", "/")
                conn.getresponse().read()
                conn.close()
                return True
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Radicale did not answer within {wait:g} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the process; from now on, connects are refused. Data and port are kept."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._reap()

    def _reap(self) -> None:
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def close(self) -> None:
        """Stop and delete the temp dir (storage, users file, log)."""
        self.stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> "RadicaleServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- addresses --------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def calendar_url(self) -> str:
        """The calendar collection, as a CalDAV source would be configured with it."""
        return f"{self.base_url}/{self.username}/{self.calendar}/"

    # -- content ----------------------------------------------------------------------------
    def put_event(self, ics: str, name: str | None = None) -> str:
        """Store one calendar object (a whole VCALENDAR text) in the calendar; its URL.

        Line ends are made CRLF. Radicale checks the data and rejects what it
        cannot parse; a rejection raises here, so a test never runs on less
        data than it thinks.
        """
        if self._client is None:
            raise RuntimeError("Radicale is not running")
        body = "\r\n".join(ics.strip().splitlines()) + "\r\n"
        url = f"{self.calendar_url}{name or uuid.uuid4().hex}.ics"
        response = self._client.put(url, body, {"Content-Type": "text/calendar; charset=utf-8"})
        if response.status not in (200, 201, 204):
            raise RuntimeError(f"Radicale refused the event: HTTP {response.status}")
        return url

    def delete_event(self, url: str) -> None:
        """Remove a calendar object stored with ``put_event``."""
        if self._client is None:
            raise RuntimeError("Radicale is not running")
        response = self._client.delete(url)
        if response.status not in (200, 204):
            raise RuntimeError(f"Radicale refused the delete: HTTP {response.status}")

    def log_tail(self, lines: int = 30) -> str:
        """The end of Radicale's own log, for failure messages."""
        if self._dir is None or not (self._dir / "radicale.log").exists():
            return ""
        text = (self._dir / "radicale.log").read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture
def radicale() -> Iterator[RadicaleServer]:
    """A running Radicale with one user and an empty calendar at ``.calendar_url``."""
    with RadicaleServer() as server:
        yield server
