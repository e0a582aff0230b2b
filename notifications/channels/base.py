"""What every channel takes and how it fails.

A channel gets an `Envelope` (plain data, never an ORM row) and returns what
the provider said on accepting it: its id for the message and, where it says
one, its status then (Twilio: "queued", or "accepted" for a Messaging
Service), which the outbox shows until the first status callback. It raises `TransientSendError` for what may
work later (timeouts, 429, 5xx, SMTP 4xx) and `PermanentSendError` for what
never will (invalid number, unsubscribed — Twilio 21610 —, SMTP 5xx). Error
messages must not quote addresses or message text: they end up on the row.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Envelope:
    message_id: int
    channel: str                      # "sms" or "email"
    to: str                           # E.164 number or email address
    body: str                         # SMS text, or the plain-text part of an email
    subject: str | None = None
    html_body: str | None = None
    attachment_ics: str | None = None  # an iCalendar invitation (METHOD inside), attached as invite.ics
    status_callback_url: str | None = None  # SMS: where the provider reports delivery


@dataclass(frozen=True)
class Accepted:
    """The provider took the message: its id for it, and its status at that moment (None: it says none)."""

    provider_id: str
    provider_status: str | None = None


class SendError(Exception):
    """Base of channel failures; `code` is the provider's error code where it has one."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientSendError(SendError):
    """Try again later; `retry_after` (seconds) when the provider said how much later (429 Retry-After)."""

    def __init__(self, message: str, code: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """Never try again: the message is dead."""


class Channel(Protocol):
    name: str

    def send(self, envelope: Envelope) -> Accepted:
        """Hand the message to the provider; return its id (and status) for the message."""
        ...
