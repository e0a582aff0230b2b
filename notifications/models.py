"""The outbox: one row per message, written in the transaction that causes it.

The row owns the delivery state (attempts, next attempt, lease, last error,
provider id and status), so Redis can be flushed and workers killed without
losing a message. Bodies and addresses are personal data: purged after the
retention period, leaving what the audit needs.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow

CHANNELS = ("sms", "email")
KINDS = ("appointment_confirmed", "appointment_rescheduled", "appointment_cancelled", "appointment_reminder",
         "mediator_notice", "callback_confirmation", "callback_unreachable", "auto_reply", "slots_offered")
# pending: waiting for its time or a retry; queued: handed to RQ (with a lease); sent: the provider
# accepted it; delivered/undelivered: the provider's later word (SMS); dead: finally failed, shown to
# staff; cancelled: no longer wanted (appointment changed, participant withdrew); skipped: the send-time
# check found it must not go (e.g. channel no longer allowed).
STATUSES = ("pending", "queued", "sent", "delivered", "undelivered", "dead", "cancelled", "skipped")
OPEN_STATUSES = ("pending", "queued")


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # (appointment, version, kind, channel, recipient): writing the same message twice is a no-op.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    recipient_kind: Mapped[str] = mapped_column(String(20))  # participant, mediator, caller
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"), index=True)
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("mediators.id", ondelete="SET NULL"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"), index=True)
    appointment_version: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(2), default="nl")
    is_reminder: Mapped[bool] = mapped_column(Boolean, default=False)
    # Personal data, purged after the retention period:
    to_address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    attachment_ics: Mapped[str | None] = mapped_column(Text)
    # Delivery state:
    status: Mapped[str] = mapped_column(String(20), default="pending")
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))  # never message text or numbers
    provider_id: Mapped[str | None] = mapped_column(String(255), index=True)
    provider_status: Mapped[str | None] = mapped_column(String(20))
    segments: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the provider's copy was deleted (TWILIO_DELETE_SENT_MESSAGES; notifications.provider_deletion).
    provider_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_delete_after: Mapped[datetime | None] = mapped_column(UTCDateTime)  # not before: Twilio said "later"


class SmsUntextableNumber(Base):
    """A number the SMS provider called invalid or unable to take texts (Twilio 21211, 21614, ...).

    Kept per number, like an opt-out (`sms_opt_outs`), and keyed the same way
    (an HMAC of the E.164 number, notifications.inbound_models.number_hash),
    so it cannot be read back: no SMS goes to it until staff fix the number.
    A fix is a new number, which carries no such row; and the row goes when
    the participant it was found for gets another number, so re-entering the
    old one after checking it is not blocked. Purged with message content
    after the retention period.
    """

    __tablename__ = "sms_untextable_numbers"

    number_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Whose message found it out: their number changing clears it.
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"),
                                                       index=True)
    error_code: Mapped[str | None] = mapped_column(String(10))  # the provider's code, e.g. "21211"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
