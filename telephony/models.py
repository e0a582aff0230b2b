"""Telephony's tables: callback requests, their call attempts, and the state of calls in the IVR.

`ivr_calls` exists because a phone call reaches us as a chain of separate
webhook requests that any gunicorn process may answer: what the caller chose
so far lives in the database, keyed by Twilio's CallSid, never in memory.

One open request per number: a partial unique index over `number` for the
statuses a coordinator still works (open, in progress) makes a second call
from the same number update the first request, across processes too.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow

LANGUAGES = ("nl", "en")
MOMENTS = ("morning", "afternoon", "no_preference")
STATUSES = ("open", "in_progress", "done", "unreachable", "cancelled")
OPEN_STATUSES = ("open", "in_progress")
OUTCOMES = ("reached", "no_answer", "busy", "wrong_number")
UNSUCCESSFUL = ("no_answer", "busy", "wrong_number")
# A click-to-call: ring the staff member, they accept, we dial the caller, it ends.
CALL_STATES = ("requested", "ringing_staff", "connecting", "finished", "staff_missed", "failed")
OPEN_SQL = "status IN ('open', 'in_progress')"
# The phone line's questions after the number, by the field each answer sets, with the safe default a
# request keeps when the caller never answered (silence three times, or hung up): no preference for the
# moment, do not say who we are, no text.
SAFE_DEFAULTS = {"moment": "no_preference", "may_identify": False, "wants_confirmation": False}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CallbackRequest(Base):
    """A caller's wish to be called back, as the callback queue shows it to staff."""

    __tablename__ = "callback_requests"
    __table_args__ = (
        CheckConstraint(_in("language", LANGUAGES), name="language"),
        CheckConstraint(_in("moment", MOMENTS), name="moment"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        Index("uq_callback_requests_open_number", "number", unique=True,
              postgresql_where=text(OPEN_SQL), sqlite_where=text(OPEN_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20))  # E.164, the number to call
    # The number was typed in, not the one that called: verify identity before saying who we are.
    number_typed_in: Mapped[bool] = mapped_column(Boolean)
    # The number that actually called (None when withheld): the only number a text may go to.
    caller_number: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2))
    moment: Mapped[str] = mapped_column(String(20))
    may_identify: Mapped[bool] = mapped_column(Boolean)
    wants_confirmation: Mapped[bool] = mapped_column(Boolean)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    call_sid: Mapped[str | None] = mapped_column(String(64))
    # The answers the caller never gave, so their SAFE_DEFAULTS stand (comma-separated field names, in
    # SAFE_DEFAULTS order); None when the caller answered every question they were asked.
    defaulted: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # end of the promised window (SLA)

    @property
    def defaulted_answers(self) -> list[str]:
        """The fields whose safe default stands because the caller never answered (see SAFE_DEFAULTS)."""
        return self.defaulted.split(",") if self.defaulted else []


class CallbackAttempt(Base):
    """One try at calling back and how it went; three failures over two working days mean unreachable."""

    __tablename__ = "callback_attempts"
    __table_args__ = (CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callback_requests.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20))
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The caller's leg of a click-to-call; unique, so a status callback and the dial's action
    # (both report the outcome, in either order, possibly twice) record one attempt.
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)


class IvrCall(Base):
    """Where one call is in the menu and what the caller chose so far.

    `turn` numbers the questions asked: an answer counts only for the question
    it answers, so a retried webhook (Twilio resends when it gets no answer in
    time) re-asks the current question instead of applying a key twice.
    """

    __tablename__ = "ivr_calls"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    caller_number: Mapped[str | None] = mapped_column(String(20))  # None when withheld or not a number
    language: Mapped[str] = mapped_column(String(2), default="nl")
    step: Mapped[str] = mapped_column(String(20), default="menu")
    turn: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    number: Mapped[str | None] = mapped_column(String(20))
    number_typed_in: Mapped[bool] = mapped_column(Boolean, default=False)
    moment: Mapped[str | None] = mapped_column(String(20))
    may_identify: Mapped[bool | None] = mapped_column(Boolean)
    wants_confirmation: Mapped[bool | None] = mapped_column(Boolean)
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callback_requests.id", ondelete="SET NULL"))
    # Set when a staff member on duty pressed 1 to take the call (option 1, screened).
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    call_status: Mapped[str | None] = mapped_column(String(20))  # Twilio's, from the status callback
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CallbackCall(Base):
    """A staff member's click-to-call: Twilio rings them first, then bridges to the caller.

    The row exists before Twilio is asked, and every URL Twilio calls back
    carries its id, so a status callback that arrives before the call's sid
    is stored still finds its row. Both legs show the office number; the
    staff member's own number is never shown to the caller.
    """

    __tablename__ = "callback_calls"
    __table_args__ = (CheckConstraint(_in("state", CALL_STATES), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callback_requests.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(20), default="requested")
    staff_call_sid: Mapped[str | None] = mapped_column(String(64))
    staff_status: Mapped[str | None] = mapped_column(String(20))
    caller_call_sid: Mapped[str | None] = mapped_column(String(64))
    caller_status: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(String(200))  # why it failed; never a number
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
