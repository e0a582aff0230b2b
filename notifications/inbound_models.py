"""Inbound SMS we have processed: one row per Twilio MessageSid, never the text.

Twilio retries a webhook it thinks failed, so the MessageSid (unique here) is
what makes a retry change nothing. The sender is kept only as a keyed hash:
enough to tell "this number already got an automatic answer today" and to
count, not enough to read the number back (a plain SHA-256 of a phone number
is reversed by trying all ~10^9 numbers; a key makes that useless).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow

# What we understood the message as. A "1" or "2" with no upcoming appointment to apply
# it to is "unknown": for us it is then just text we cannot read.
INBOUND_KINDS = ("stop", "start", "reply_yes", "reply_no", "unknown")


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    __table_args__ = (
        Index("ix_inbound_messages_sender_day", "from_hash", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_hash: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 of the E.164 number, hex
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    # stop/start: a participant's setting changed; reply_*: recorded on an attendance;
    # unknown: an automatic answer was queued (the once-a-day limit reads this).
    handled: Mapped[bool] = mapped_column(Boolean, default=False)
