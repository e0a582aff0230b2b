"""What a participant reaches without an account: their personal links and the slots offered to them.

A `ParticipantLink` is the credential behind the short link in a message: only the SHA-256 of the
token is stored (the token has 128 random bits, so a plain hash is as good as a keyed one and
survives a key rotation). A link points at one appointment or at one offer; whether it still works
is decided when it is used (scheduler.links), never stored, so a withdrawal, a cancellation or a
reschedule takes effect on every link at once.

An `Offer` is two to four held appointments a mediator proposes to one participant: the holds make
the slots busy for everyone else until the participant chooses one or the offer runs out. The holds
are ordinary held appointments (scheduler.booking), linked through `offer_slots` rather than a column
on `appointments` (adding a foreign key there would make SQLite rebuild the table).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow
from scheduler.models import Appointment

OFFER_STATUSES = ("open", "chosen", "lapsed", "withdrawn")


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (CheckConstraint("status IN ('open', 'chosen', 'lapsed', 'withdrawn')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    chosen_appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    slots: Mapped[list[Appointment]] = relationship(secondary="offer_slots", order_by="Appointment.start",
                                                    viewonly=True)


class OfferSlot(Base):
    """One held appointment of an offer."""

    __tablename__ = "offer_slots"

    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)


class ParticipantLink(Base):
    __tablename__ = "participant_links"
    __table_args__ = (CheckConstraint("(appointment_id IS NULL) <> (offer_id IS NULL)", name="one_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"),
                                                       index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
