"""Server-side staff sessions: the cookie names a session, the database says whether it still counts.

A signed cookie on its own cannot be taken back: whoever holds a copy stays
signed in until it expires, sign-out or not. So the cookie carries only a
random session token, and the `staff_sessions` table keeps its SHA-256 with
the user, when it began, when it was last used and when it ended. Signing out
ends the row, and with it every copy of the cookie. A session also ends when
it has not been used for `idle` or was begun more than `absolute` ago
(SESSION_IDLE_MINUTES, SESSION_MAX_HOURS), whatever the cookie says.

No Flask here: core.auth reads the cookie and calls these with a database
session and the time, so the rules can be tested with any clock.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, delete, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.config import Settings
from core.db import Base, UTCDateTime
from core.models import User


class StaffSession(Base):
    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Lifetimes:
        return cls(timedelta(minutes=settings.session_idle_minutes), timedelta(hours=settings.session_max_hours))

    @property
    def touch_every(self) -> timedelta:
        """How stale `last_seen_at` may get before a request writes it: one write a minute at most,
        and never so rarely that the idle limit loses more than a tenth of itself."""
        return min(timedelta(minutes=1), self.idle / 10)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_live(row: StaffSession, now: datetime, lifetimes: Lifetimes) -> bool:
    return (row.ended_at is None and now - row.last_seen_at <= lifetimes.idle
            and now - row.created_at <= lifetimes.absolute)


def begin(session: Session, user: User, now: datetime, lifetimes: Lifetimes) -> str:
    """A new session for `user`; the plain token (for the cookie) is returned once and never stored.

    The user's sessions that are over anyway are deleted here, so the table
    holds live sessions and recent history only.
    """
    session.execute(delete(StaffSession).where(
        StaffSession.user_id == user.id,
        or_(StaffSession.ended_at.is_not(None), StaffSession.last_seen_at < now - lifetimes.idle,
            StaffSession.created_at < now - lifetimes.absolute)))
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(user_id=user.id, token_hash=_digest(token), created_at=now, last_seen_at=now))
    session.flush()
    return token


def find(session: Session, token: str) -> StaffSession | None:
    """The session the token names, live or not (see is_live)."""
    return session.scalar(select(StaffSession).where(StaffSession.token_hash == _digest(token)))


def find_with_user(session: Session, token: str) -> tuple[StaffSession, User] | None:
    """The session the token names with its user, in one query (every signed-in page asks this first)."""
    row = session.execute(select(StaffSession, User).join(User, User.id == StaffSession.user_id)
                          .where(StaffSession.token_hash == _digest(token))).first()
    return (row[0], row[1]) if row is not None else None


def needs_touch(row: StaffSession, now: datetime, lifetimes: Lifetimes) -> bool:
    return now - row.last_seen_at >= lifetimes.touch_every


def touch(session: Session, session_id: int, now: datetime) -> None:
    """Record use; a session ended meanwhile stays ended."""
    session.execute(update(StaffSession).where(StaffSession.id == session_id, StaffSession.ended_at.is_(None))
                    .values(last_seen_at=now))


def end(session: Session, token: str, now: datetime) -> None:
    """Sign-out, or a lifetime found over: the token, and every copy of the cookie that carries it, no
    longer opens anything, also for a server whose clock lags behind."""
    session.execute(update(StaffSession).where(StaffSession.token_hash == _digest(token),
                                               StaffSession.ended_at.is_(None)).values(ended_at=now))
