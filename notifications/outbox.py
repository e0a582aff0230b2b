"""Writing to the outbox and withdrawing from it, always in the caller's transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, String, Update, case, cast, func, or_, select, update
from sqlalchemy.orm import Session

from core.db import insert_unless_exists
from notifications.models import OPEN_STATUSES, OutboxMessage

_TABLE = OutboxMessage.__table__


@dataclass(frozen=True)
class NewMessage:
    key: str                      # idempotency key: (appointment, version, kind, channel, recipient)
    kind: str
    channel: str
    recipient_kind: str
    to: str
    language: str
    body: str
    subject: str | None = None
    html_body: str | None = None
    attachment_ics: str | None = None
    participant_id: int | None = None
    mediator_id: int | None = None
    appointment_id: int | None = None
    appointment_version: int | None = None
    is_reminder: bool = False
    not_before: datetime | None = None
    deadline: datetime | None = None
    segments: int | None = None


def add_message(session: Session, message: NewMessage, now: datetime) -> int | None:
    """Queue one message and return its row id; a message with the same idempotency key is never written twice.

    One `INSERT … ON CONFLICT DO NOTHING` (None when the key exists, also
    when a parallel transaction just wrote it), on the session's connection
    and so in its transaction. A plain statement, not an ORM object: a
    callback request's confirmation is written on the phone line's last
    answer, where the unit of work would be most of the cost.
    """
    when = message.not_before or now
    conn = session.connection()
    statement = insert_unless_exists(conn.dialect.name, _TABLE, ("idempotency_key",), ("id",))
    return conn.execute(statement, {
        "idempotency_key": message.key, "kind": message.kind, "channel": message.channel,
        "recipient_kind": message.recipient_kind, "participant_id": message.participant_id,
        "mediator_id": message.mediator_id, "appointment_id": message.appointment_id,
        "appointment_version": message.appointment_version, "language": message.language,
        "is_reminder": message.is_reminder, "to_address": message.to, "subject": message.subject,
        "body": message.body, "html_body": message.html_body, "attachment_ics": message.attachment_ics,
        "status": "pending", "not_before": when, "deadline": message.deadline, "next_attempt_at": when,
        "attempts": 0, "segments": message.segments, "created_at": now}).scalar()


def _open(appointment_id: int | None, participant_id: int | None) -> Update:
    if appointment_id is None and participant_id is None:
        raise ValueError("name an appointment or a participant")
    stmt = update(OutboxMessage).where(OutboxMessage.status.in_(OPEN_STATUSES))
    if appointment_id is not None:
        # Messages about a version of the appointment; a mediator notice linked to it without a version
        # (a participant's reply to its reminder) reports what happened and goes regardless.
        stmt = stmt.where(OutboxMessage.appointment_id == appointment_id,
                          OutboxMessage.appointment_version.is_not(None))
    if participant_id is not None:
        stmt = stmt.where(OutboxMessage.participant_id == participant_id)
    return stmt


def cancel_pending(session: Session, now: datetime, *, appointment_id: int | None = None,
                   participant_id: int | None = None) -> int:
    """Cancel messages that have not gone yet, for an appointment and/or a participant.

    A row already handed to a worker (queued) is cancelled too: the send job
    checks the row again under a lock before it sends, so it will not go.
    """
    stmt = _open(appointment_id, participant_id)
    result = session.execute(stmt.values(status="cancelled", finished_at=now, lease_until=None))
    return result.rowcount or 0


def withdraw_for_rewrite(session: Session, now: datetime, kinds: tuple[str, ...], *,
                         appointment_id: int | None = None, participant_id: int | None = None) -> list[Row[Any]]:
    """Cancel participants' messages of these kinds that have not gone yet, and return what they were.

    Only rows this statement cancelled come back: one a worker sent meanwhile
    (it holds the row lock while sending) stays sent and is not written again.
    """
    stmt = (_open(appointment_id, participant_id)
            .where(_TABLE.c.recipient_kind == "participant", _TABLE.c.kind.in_(kinds))
            .values(status="cancelled", finished_at=now, lease_until=None)
            .returning(_TABLE.c.id, _TABLE.c.idempotency_key, _TABLE.c.kind, _TABLE.c.channel,
                       _TABLE.c.appointment_id, _TABLE.c.appointment_version, _TABLE.c.participant_id,
                       _TABLE.c.is_reminder, _TABLE.c.not_before, _TABLE.c.deadline))
    return sorted(session.execute(stmt).all(), key=lambda row: row.id)


WENT = ("sent", "delivered", "undelivered")  # the provider accepted it


def went_to(session: Session, appointment_id: int, participant_id: int, kinds: tuple[str, ...]) -> list[Row[Any]]:
    """The participant's messages of these kinds about the appointment that already went."""
    t = _TABLE.c
    return list(session.execute(
        select(t.kind, t.channel, t.idempotency_key, t.not_before, t.deadline)
        .where(t.appointment_id == appointment_id, t.participant_id == participant_id,
               t.recipient_kind == "participant", t.kind.in_(kinds), t.status.in_(WENT))))


def went_about(session: Session, appointment_id: int, kinds: tuple[str, ...]) -> frozenset[int]:
    """The participants to whom the provider accepted a message of these kinds about the appointment.

    Read it after cancel_pending for the appointment: that UPDATE waits for a
    send in progress (the job holds the row lock until it commits), and each
    statement reads what was committed before it, so a message that went at
    that very moment is seen here as gone.
    """
    t = _TABLE.c
    return frozenset(session.scalars(
        select(t.participant_id).distinct()
        .where(t.appointment_id == appointment_id, t.recipient_kind == "participant", t.participant_id.is_not(None),
               t.kind.in_(kinds), t.status.in_(WENT))))


def last_row_of(session: Session, participant_id: int) -> int:
    """The highest outbox row id about the participant, 0 if none (a tag for keys planned after it)."""
    return session.scalar(select(func.max(_TABLE.c.id)).where(_TABLE.c.participant_id == participant_id)) or 0


def supersede(session: Session, now: datetime, key: str, newer: NewMessage | None) -> int:
    """Make way under `key` for `newer` (None: nothing newer is wanted); return how many rows moved aside.

    For a message that carries "the latest word" (a caller's confirmation
    text, after they called again with another window): the row holding
    `key` is kept under `<key>~<row id>`, and cancelled if it has not gone,
    unless it already says the same to the same number — then it stays, and
    writing `newer` again is the no-op an idempotency key promises. One
    UPDATE, through the key's unique index.
    """
    still_open = _TABLE.c.status.in_(OPEN_STATUSES)
    stmt = update(_TABLE).where(_TABLE.c.idempotency_key == key)
    if newer is not None:
        stmt = stmt.where(or_(_TABLE.c.body.is_distinct_from(newer.body),
                              _TABLE.c.to_address.is_distinct_from(newer.to)))
    stmt = stmt.values(idempotency_key=_TABLE.c.idempotency_key + "~" + cast(_TABLE.c.id, String),
                       status=case((still_open, "cancelled"), else_=_TABLE.c.status),
                       finished_at=case((still_open, now), else_=_TABLE.c.finished_at),
                       lease_until=case((still_open, None), else_=_TABLE.c.lease_until))
    return session.execute(stmt).rowcount or 0
