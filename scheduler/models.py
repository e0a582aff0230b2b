"""People and places, cases, appointments and the busy-time tables.

`Reservation` is what makes double booking impossible: one row per resource
(mediator, room or participant) an appointment occupies, with the span it
blocks (a mediator's span includes their buffer). On PostgreSQL three
exclusion constraints forbid overlapping live rows for one resource.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, Boolean, CheckConstraint, Column, ForeignKey, Index, Integer,
                        String, Table, Text, func, literal_column, text)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow

CASE_KINDS = ("crime", "traffic_accident", "sexual_abuse", "transgressive_behaviour", "other")
CASE_STATUSES = ("registered", "intake", "contact", "meeting", "closed")
PARTICIPANT_ROLES = ("victim", "next_of_kin", "suspect", "offender", "causer", "other")
LANGUAGES = ("nl", "en")
APPOINTMENT_KINDS = ("intake", "preparation", "meeting", "follow_up")
APPOINTMENT_MODES = ("in_person", "home_visit", "phone", "video")
APPOINTMENT_STATUSES = ("held", "confirmed", "cancelled", "completed", "no_show")
LIVE_STATUSES = ("held", "confirmed")

case_mediators = Table(
    "case_mediators", Base.metadata,
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("mediator_id", ForeignKey("mediators.id", ondelete="RESTRICT"), primary_key=True, index=True),
)

appointment_mediators = Table(
    "appointment_mediators", Base.metadata,
    Column("appointment_id", ForeignKey("appointments.id", ondelete="CASCADE"), primary_key=True),
    Column("mediator_id", ForeignKey("mediators.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class Region(Base):
    """One of the office's working areas: cases and mediators belong to one."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


# A case and a mediator each work in at most one region (tables of their own: see migration 0013).
case_regions = Table(
    "case_regions", Base.metadata,
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("regions.id", ondelete="RESTRICT"), nullable=False, index=True),
)
mediator_regions = Table(
    "mediator_regions", Base.metadata,
    Column("mediator_id", ForeignKey("mediators.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("regions.id", ondelete="RESTRICT"), nullable=False, index=True),
)


class Mediator(Base):
    __tablename__ = "mediators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    # [{"weekday": 0-6, "start": "HH:MM", "end": "HH:MM"}], local office time.
    working_hours: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    language: Mapped[str] = mapped_column(String(2), default="nl", server_default="nl")  # their own emails
    video_url: Mapped[str | None] = mapped_column(String(500))  # a standing video room, if they have one

    region: Mapped[Region | None] = relationship(secondary="mediator_regions", uselist=False)


class Location(Base):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    city: Mapped[str] = mapped_column(String(100))

    rooms: Mapped[list[Room]] = relationship(back_populates="location", order_by="Room.id")


class Room(Base):
    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer, default=4)
    separate_waiting_area: Mapped[bool] = mapped_column(Boolean, default=False)
    accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    location: Mapped[Location] = relationship(back_populates="rooms")


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="registered")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the status becomes closed, cleared when it reopens: its personal data is erased
    # CLOSED_CASE_ERASE_DAYS later (scheduler.erasure), which sets erased_at.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    region: Mapped[Region | None] = relationship(secondary="case_regions", uselist=False)
    mediators: Mapped[list[Mediator]] = relationship(secondary=case_mediators, order_by="Mediator.id")
    participants: Mapped[list[Participant]] = relationship(back_populates="case", order_by="Participant.id")


class Participant(Base):
    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(2), default="nl")
    sms_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    email_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    full_text_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Their name, numbers, address and email are gone (scheduler.erasure); role and language stay.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="participants")

    @property
    def takes_part(self) -> bool:
        """Can be planned: not stopped, and not erased (an erased one in a reopened case has not stopped)."""
        return self.withdrawn_at is None and self.erased_at is None


class Appointment(Base):
    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(20))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="RESTRICT"), index=True)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A coordinator may book a joint meeting in a room without a separate waiting area, or a time
    # outside the office's calendar, each with a reason code (scheduler.policy.OVERRIDE_REASONS).
    waiting_area_override: Mapped[bool] = mapped_column(Boolean, default=False)
    waiting_area_reason: Mapped[str | None] = mapped_column(String(40))
    outside_hours_reason: Mapped[str | None] = mapped_column(String(40))
    # ... or over a mediator's imported busy time (their own calendar), also with a reason code.
    busy_time_reason: Mapped[str | None] = mapped_column(String(40))
    # Bumped on every change: iCalendar SEQUENCE and message idempotency keys use it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    video_url: Mapped[str | None] = mapped_column(String(500))  # else the mediator's standing one
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship()
    mediators: Mapped[list[Mediator]] = relationship(secondary=appointment_mediators, order_by="Mediator.id")
    attendances: Mapped[list[Attendance]] = relationship(
        back_populates="appointment", cascade="all, delete-orphan", order_by="Attendance.participant_id")

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES


class Attendance(Base):
    """A participant's place in an appointment, with their own arrival time."""

    __tablename__ = "attendances"

    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"),
                                                primary_key=True, index=True)
    arrival: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A joint meeting's staggered departure: who arrived first leaves first (scheduler.rules).
    departure: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The participant's own answer to a reminder by SMS ("coming" / "cannot_come"), latest wins.
    response: Mapped[str | None] = mapped_column(String(20))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    appointment: Mapped[Appointment] = relationship(back_populates="attendances")
    participant: Mapped[Participant] = relationship()


def _span_exclusion(column: str) -> ExcludeConstraint:
    return ExcludeConstraint(
        (literal_column(column), "="),
        (func.tstzrange(literal_column("starts_at"), literal_column("ends_at"), text("'[)'")), "&&"),
        name=f"ex_reservations_{column}_overlap",
        using="gist",
        where=text(f"live AND {column} IS NOT NULL"),
    ).ddl_if(dialect="postgresql")


ONE_RESOURCE = ("(CASE WHEN mediator_id IS NULL THEN 0 ELSE 1 END + CASE WHEN room_id IS NULL THEN 0 ELSE 1 END"
                " + CASE WHEN participant_id IS NULL THEN 0 ELSE 1 END) = 1")


class Reservation(Base):
    """One resource (a mediator, a room or a participant) blocked by one appointment."""

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint(ONE_RESOURCE, name="one_resource"),
        CheckConstraint("starts_at < ends_at", name="positive_span"),
        Index("ix_reservations_mediator_span", "mediator_id", "starts_at", "ends_at"),
        Index("ix_reservations_room_span", "room_id", "starts_at", "ends_at"),
        Index("ix_reservations_participant_span", "participant_id", "starts_at", "ends_at"),
        _span_exclusion("mediator_id"),
        _span_exclusion("room_id"),
        _span_exclusion("participant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"), index=True)
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("mediators.id", ondelete="RESTRICT"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="RESTRICT"))
    # A participant is in one place at a time: their span is the appointment's, without buffer.
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    live: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set for holds: after this the row no longer blocks the search and is cleared on the next booking.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BusyBlock(Base):
    """Busy time imported from a shared calendar: only what availability needs.

    No summaries, descriptions or attendees — other people's private data stays
    in their calendars. `source_id` names the calendar source (owned by the
    calendars package); uid/recurrence_id let a sync diff its events.
    """

    __tablename__ = "busy_blocks"
    __table_args__ = (
        CheckConstraint("(mediator_id IS NULL) <> (room_id IS NULL)", name="one_owner"),
        CheckConstraint("starts_at < ends_at", name="positive_span"),
        Index("ix_busy_blocks_mediator_span", "mediator_id", "starts_at", "ends_at"),
        Index("ix_busy_blocks_room_span", "room_id", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(Integer, index=True)
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("mediators.id", ondelete="CASCADE"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uid: Mapped[str] = mapped_column(String(500), default="")
    recurrence_id: Mapped[str | None] = mapped_column(String(100))


class MediatorTask(Base):
    """Something a mediator must do personally, e.g. tell the other party a meeting is off."""

    __tablename__ = "mediator_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    mediator_id: Mapped[int] = mapped_column(ForeignKey("mediators.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
