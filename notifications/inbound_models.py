"""Inbound SMS we have processed: one row per Twilio MessageSid, never the text.

Twilio retries a webhook it thinks failed, so the MessageSid (unique here) is
what makes a retry change nothing. The sender is kept only as a keyed hash:
enough to tell "this number already got an automatic answer today" and to
count, not enough to read the number back (a plain SHA-256 of a phone number
is reversed by trying all ~10^9 numbers; a key makes that useless).
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from typing import Iterable

from sqlalchemy import Boolean, Connection, ForeignKey, Index, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.config import Settings
from core.db import Base, UTCDateTime, insert_unless_exists, utcnow

# What we understood the message as. A "1" or "2" with no upcoming appointment to apply
# it to is "unknown": for us it is then just text we cannot read.
INBOUND_KINDS = ("stop", "start", "reply_yes", "reply_no", "unknown")
# The template (and idempotency key suffix) of the answer to STOPPEN/AFMELDEN: the one text that
# still goes to a number that opted out.
STOP_CONFIRMATION = "stop_confirmed"


def reply_key(message_sid: str, template: str) -> str:
    """Idempotency key of an automatic answer (outbox kind `auto_reply`) to one inbound message."""
    return f"sms-in:{message_sid}:{template}"


def confirms_opt_out(kind: str, idempotency_key: str) -> bool:
    return kind == "auto_reply" and idempotency_key.endswith(":" + STOP_CONFIRMATION)


def number_hash(secret_key: str, number: str) -> str:
    """Keyed hash (HMAC-SHA256, hex) of a phone number: a plain SHA-256 is reversed by trying every number."""
    return hmac.new(secret_key.encode(), number.encode(), hashlib.sha256).hexdigest()


def opt_out_hashes(settings: Settings, number: str) -> list[str]:
    """The number's keyed hash under SECRET_KEY and under each SECRET_KEY_PREVIOUS, current first.

    An opt-out must outlive a rotation of SECRET_KEY: one recorded under an
    earlier key still holds while that key is listed in SECRET_KEY_PREVIOUS.
    """
    return [number_hash(key, number) for key in (settings.secret_key, *settings.previous_secret_keys)]


def record_opt_out(conn: Connection, hashed: str, now: datetime) -> None:
    """The number's opt-out (kept while one exists): one statement, safe against a parallel STOP."""
    conn.execute(insert_unless_exists(conn.dialect.name, SmsOptOut.__table__, ("number_hash",), ("number_hash",)),
                 {"number_hash": hashed, "created_at": now})


def keep_under_current_key(conn: Connection, hashes: list[str], found: set[str], now: datetime) -> None:
    """An opt-out found under an earlier key is kept under the current one (`hashes[0]`) instead.

    Whenever the number is seen (it texts us, or we are about to text it), so
    the earlier key can leave SECRET_KEY_PREVIOUS; and a hash under a key that
    may have leaked does not stay behind.
    """
    current, stale = hashes[0], found - {hashes[0]}
    if current not in found:
        record_opt_out(conn, current, now)
    if stale:
        conn.execute(delete(SmsOptOut.__table__).where(SmsOptOut.__table__.c.number_hash.in_(sorted(stale))))


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
    # stop/start: a participant's setting or the number's opt-out changed; reply_*: recorded on an attendance;
    # unknown: an automatic answer was queued (the once-a-day limit reads this).
    handled: Mapped[bool] = mapped_column(Boolean, default=False)


class SmsOptOut(Base):
    """A number that texted STOP, STOPPEN or AFMELDEN (and not START since): no SMS goes to it.

    Kept per number, not per participant: the callback queue's "we tried to
    reach you" text and automatic answers go to numbers that belong to no
    participant. The send job checks this for every SMS (the stop
    confirmation itself excepted). Keyed like `from_hash`, so the number
    cannot be read back.
    """

    __tablename__ = "sms_opt_outs"

    number_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # number_hash() of the E.164 number
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def number_opted_out(session: Session, settings: Settings, number: str) -> bool:
    """Whether `number` texted STOP (under SECRET_KEY or an earlier key still honoured), so a text to it is skipped.

    For those who would promise one: the phone line asks before it offers a
    caller a confirmation text (wired in app.py; telephony imports no notifications).
    """
    hashes = opt_out_hashes(settings, number)
    return session.scalar(select(SmsOptOut.number_hash).where(SmsOptOut.number_hash.in_(hashes)).limit(1)) is not None


class SmsStop(Base):
    """A participant whose SMS is off because their number texted STOP, not because staff chose so.

    Consent to texts (`sms_allowed`) is the participant's setting; a STOP is
    the number's. A STOP switches texts off for the participants on the
    number who had them on, and records that here; a START switches them on
    again for exactly those. A participant whom staff set to "no SMS" (a
    shared phone is a common reason) has no row, so a START never texts them.
    The row goes when SMS comes back on, or when staff change the
    participant's SMS setting or number: from then on it is staff's choice.
    """

    __tablename__ = "sms_stops"

    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True)
    stopped_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def record_stop(conn: Connection, participant_id: int, now: datetime) -> None:
    """The participant's SMS is off because of their number's STOP (kept if recorded already)."""
    conn.execute(insert_unless_exists(conn.dialect.name, SmsStop.__table__, ("participant_id",), ("participant_id",)),
                 {"participant_id": participant_id, "stopped_at": now})


def stopped(session: Session, participant_ids: Iterable[int]) -> set[int]:
    """Which of these participants have SMS off because of a STOP."""
    return set(session.scalars(select(SmsStop.participant_id).where(SmsStop.participant_id.in_(list(participant_ids)))))


def forget_stops(session: Session, participant_ids: Iterable[int]) -> None:
    """SMS came back on, or staff decided about it: no longer "off because of a STOP"."""
    session.execute(delete(SmsStop).where(SmsStop.participant_id.in_(list(participant_ids))))
