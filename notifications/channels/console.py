"""The embedded default: messages are logged and stored, not sent.

A fresh machine has no Twilio account and no mail server, yet the whole
outbox path (dispatcher, RQ job, send-time checks, status) should run the same
as in production; only the last step differs. The text itself stays on the
outbox row, where staff can read it; the log gets only the message id, the
channel and, for SMS, the length, because logs must carry no phone numbers,
addresses, names or message text (docs/retention.md).
"""
from __future__ import annotations

import logging
from collections import deque

from notifications.channels.base import Accepted, Envelope

log = logging.getLogger(__name__)


class ConsoleChannel:
    """A channel that accepts every message and sends none.

    `sent_ids` keeps the ids of the last messages it took (ids only, no
    personal data), so a test in the same process can see the channel was
    used; other processes must read the outbox, never this.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent_ids: deque[int] = deque(maxlen=1000)

    def send(self, envelope: Envelope) -> Accepted:
        if envelope.channel == "sms":
            log.info("console %s: message %s not sent (console channel), %d characters",
                     self.name, envelope.message_id, len(envelope.body))
        else:
            log.info("console %s: message %s not sent (console channel)", self.name, envelope.message_id)
        self.sent_ids.append(envelope.message_id)
        return Accepted(f"console-{envelope.message_id}")

    def __repr__(self) -> str:
        return f"ConsoleChannel({self.name!r})"
