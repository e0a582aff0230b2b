"""A real local SMTP server (aiosmtpd) that records what it receives and fails on request.

It speaks real SMTP to `smtplib`, so the app's channel is tested down to the
reply codes: 451 at DATA for "try later", 550 at RCPT for an unknown
mailbox. It has no TLS: it does not offer STARTTLS, so the app talks to it
with `SMTP_STARTTLS=false` (see `env()` and `settings_changes()`).

aiosmtpd logs senders and recipients at INFO on the `mail.log` logger; that
logger is set to WARNING here, so tests that assert "no address in the logs"
see only the app's own records.
"""
from __future__ import annotations

import asyncio
import email
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from functools import cached_property
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted message: the SMTP envelope, the content as received (CRLF) and parsed (LF).

    Parsed when first asked for, not in the server's loop: the parse costs about as much as
    the SMTP dialogue itself, and the benchmark's stand-in shares two cores with the workers.
    """
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    at: float = field(default_factory=time.time)

    @cached_property
    def message(self) -> EmailMessage:
        # Parsed with LF line ends, so text parts compare with Python strings.
        parsed = email.message_from_bytes(self.raw.replace(b"\r\n", b"\n"), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass(frozen=True)
class Rejection:
    """A reply the server gave instead of accepting: the stage (RCPT or DATA) and the reply."""
    stage: str
    reply: str
    rcpt_tos: tuple[str, ...]


class _FreePortController(Controller):
    """aiosmtpd's Controller, but port 0 means "a free port", read back after binding."""

    def _create_server(self) -> Any:
        async def create() -> asyncio.AbstractServer:
            server = await self.loop.create_server(self._factory_invoker, host=self.hostname, port=self.port)
            self.port = server.sockets[0].getsockname()[1]
            return server
        return create()


class SmtpServer:
    """The server. `start()`/`stop()` or `with SmtpServer() as smtp:`; thread-safe.

    `auth=("user", "secret")` makes it require AUTH (offered without TLS,
    for tests only). After `stop()`, `start()` listens on the same port again.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, auth: tuple[str, str] | None = None) -> None:
        self.host, self.port, self.auth = host, port, auth
        self._lock = threading.Condition()
        self._messages: list[ReceivedMail] = []
        self._rejections: list[Rejection] = []
        self._next: deque[str | None] = deque()  # a reply, or None: "take it, then drop the line"
        self._always: str | None = None
        self._recipients: dict[str, str] = {}
        self._delay = 0.0
        self._controller: _FreePortController | None = None

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> "SmtpServer":
        if self._controller is not None:
            raise RuntimeError("the SMTP server is already running")
        kwargs: dict[str, Any] = {}
        if self.auth:
            # AUTH offered without TLS (tests only); required by handle_MAIL, which
            # avoids aiosmtpd's warning for auth_required without TLS.
            kwargs = {"authenticator": self._authenticate, "auth_require_tls": False}
        controller = _FreePortController(self, hostname=self.host, port=self.port,
                                         server_hostname="pendel-test-smtp", ready_timeout=10, **kwargs)
        controller.start()
        self.port = controller.port
        self._controller = controller
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> "SmtpServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """Environment variables that point a `worker.py` or the app at this server."""
        out = {"SMTP_HOST": self.host, "SMTP_PORT": str(self.port), "SMTP_STARTTLS": "false"}
        if self.auth:
            out |= {"SMTP_USERNAME": self.auth[0], "SMTP_PASSWORD": self.auth[1]}
        return out

    def settings_changes(self) -> dict[str, Any]:
        """For `dataclasses.replace(settings, **smtp.settings_changes())`."""
        return {"smtp_host": self.host, "smtp_port": self.port, "smtp_starttls": False,
                "smtp_username": self.auth[0] if self.auth else None,
                "smtp_password": self.auth[1] if self.auth else None}

    # -- scripting --------------------------------------------------------------------------
    def fail_next(self, n: int = 1, reply: str = "451 4.3.0 try later") -> None:
        """The next n messages get this reply at DATA instead of 250."""
        with self._lock:
            self._next.extend(reply for _ in range(n))

    def fail_always(self, reply: str = "451 4.3.0 try later") -> None:
        """Every message gets this reply at DATA (after any `fail_next` ones) until `reset()`."""
        with self._lock:
            self._always = reply

    def reject_recipient(self, address: str, reply: str = "550 5.1.1 no such user") -> None:
        """RCPT TO this address (or any at "@domain") gets this reply."""
        with self._lock:
            self._recipients[address.lower()] = reply

    def drop_next(self, n: int = 1) -> None:
        """The next n messages are recorded as received, then the connection closes before the 250."""
        with self._lock:
            self._next.extend(None for _ in range(n))

    def delay(self, seconds: float) -> None:
        """Wait this long before answering DATA (0 to stop)."""
        with self._lock:
            self._delay = seconds

    def reset(self) -> None:
        """Forget all scripted failures and the delay (keeps the records)."""
        with self._lock:
            self._next.clear()
            self._always, self._recipients, self._delay = None, {}, 0.0

    def clear(self) -> None:
        """Forget the records."""
        with self._lock:
            self._messages.clear()
            self._rejections.clear()

    # -- what it saw ------------------------------------------------------------------------
    @property
    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    @property
    def rejections(self) -> list[Rejection]:
        with self._lock:
            return list(self._rejections)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """Block until at least `count` messages were received; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"SMTP server got {len(self._messages)} messages, expected {count}")
                self._lock.wait(left)
            return list(self._messages)

    # -- aiosmtpd handler hooks (run in the server's event loop thread) -----------------------
    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.auth is not None and \
            (data.login.decode(), data.password.decode()) == self.auth
        return AuthResult(success=ok, handled=False)

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        if self.auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        lowered = address.lower()
        with self._lock:
            reply = self._recipients.get(lowered) or self._recipients.get("@" + lowered.rpartition("@")[2])
            if reply:
                self._rejections.append(Rejection("RCPT", reply, (address,)))
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            delay = self._delay
        if delay:
            await asyncio.sleep(delay)
        raw = bytes(envelope.original_content or envelope.content or b"")
        rcpt_tos = tuple(envelope.rcpt_tos)
        with self._lock:
            reply: str | None = self._next.popleft() if self._next else (self._always or "250 OK")
            if reply is not None and not reply.startswith("250"):
                self._rejections.append(Rejection("DATA", reply, rcpt_tos))
                return reply
        with self._lock:
            self._messages.append(ReceivedMail(str(envelope.mail_from or ""), rcpt_tos, raw))
            self._lock.notify_all()
        if reply is None and server.transport is not None:
            server.transport.abort()  # taken, but the client never hears the 250
        return "250 OK"
