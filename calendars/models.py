"""Calendar sources (busy time in) and feed tokens (appointments out).

A source's URL (which usually carries a private token) and CalDAV password
are secrets: sealed with core.secretbox, never read back in full through the
API, never logged. Only what a sync needs to be cheap (ETag, Last-Modified,
content hash) and what staff must see (status, last good sync, last error)
is kept in clear.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow

SOURCE_KINDS = ("ics_url", "caldav", "upload")
SOURCE_STATUSES = ("never_synced", "ok", "error")


class CalendarSource(Base):
    __tablename__ = "calendar_sources"
    __table_args__ = (CheckConstraint("(mediator_id IS NULL) <> (room_id IS NULL)", name="one_owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("mediators.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(100), default="")
    url_sealed: Mapped[str | None] = mapped_column(Text)        # ICS URL or CalDAV calendar URL
    url_hint: Mapped[str | None] = mapped_column(String(120))   # scheme://host/… only, for staff to recognise it
    username: Mapped[str | None] = mapped_column(String(200))
    password_sealed: Mapped[str | None] = mapped_column(Text)
    upload_data: Mapped[bytes | None] = mapped_column(LargeBinary)       # the last uploaded .ics (kind upload)
    all_day_busy: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20), default="never_synced")
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)   # last GOOD sync
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))            # no URL, no secret, no event text
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    busy_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_events: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FeedToken(Base):
    """A calendar app's access to one mediator's or room's feed; only the token's SHA-256 is stored."""

    __tablename__ = "calendar_feed_tokens"
    __table_args__ = (CheckConstraint("(mediator_id IS NULL) <> (room_id IS NULL)", name="one_owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("mediators.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    include_names: Mapped[bool] = mapped_column(Boolean, default=False)  # the mediator's opt-in
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
