"""What every channel takes and how it fails.

A channel gets an `Envelope` (plain data, never an ORM row) and returns the
provider's id for the message. It raises `TransientSendError` for what may
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


class SendError(Exception):
    """Base of channel failures; `code` is the provider's error code where it has one."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientSendError(SendError):
    """Try again later."""


class PermanentSendError(SendError):
    """Never try again: the message is dead."""


class Channel(Protocol):
    name: str

    def send(self, envelope: Envelope) -> str:
        """Hand the message to the provider; return its id for the message."""
        ...
