"""GET /api/v1/messages: the outbox, read-only, for tracking delivery.

Staff use it to find what did not arrive (`status=dead,undelivered`) and to
answer "did my participant get the reminder?". It shows delivery state only:
no address and no text, which are personal data a delivery list does not
need. Who sees what follows scheduler.access: the office (admin,
coordinator) sees every message; a mediator sees the messages to their own
cases' participants and those addressed to themselves, and anything else is
404, as if it did not exist.
"""
from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, Response, g
from pydantic import Field
from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session

from core.api import QueryModel, ResponseModel, UtcDatetime, registry, respond
from core.inputs import Id
from core.models import User
from core.problems import NotFound
from core.runtime import db_session
from notifications.models import CHANNELS, KINDS, STATUSES, OutboxMessage
from scheduler.access import own_mediator_id, visible_cases
from scheduler.models import Case, Participant

notifications_api_bp = Blueprint("notifications_api", __name__)

STAFF = ("admin", "coordinator", "mediator")  # as scheduler.api.STAFF
Status = Literal[STATUSES]  # type: ignore[valid-type]
Channel = Literal[CHANNELS]  # type: ignore[valid-type]


class MessageOut(ResponseModel):
    """One outbox row's delivery state. Deliberately without address and body."""

    id: int
    kind: str = Field(description=f"One of {', '.join(KINDS)}")
    channel: Channel
    recipient_kind: str = Field(description="participant, mediator or caller")
    participant_id: int | None
    mediator_id: int | None
    appointment_id: int | None
    status: Status
    provider_status: str | None = Field(description="The SMS provider's last word (queued, sent, delivered, "
                                                    "undelivered, failed); null for email")
    attempts: int
    next_attempt_at: UtcDatetime
    last_error: str | None = Field(description="Why the last attempt failed (never an address or text)")
    created_at: UtcDatetime
    sent_at: UtcDatetime | None

    @classmethod
    def of(cls, row: OutboxMessage) -> MessageOut:
        return cls(id=row.id, kind=row.kind, channel=row.channel, recipient_kind=row.recipient_kind,
                   participant_id=row.participant_id, mediator_id=row.mediator_id,
                   appointment_id=row.appointment_id, status=row.status, provider_status=row.provider_status,
                   attempts=row.attempts, next_attempt_at=row.next_attempt_at, last_error=row.last_error,
                   created_at=row.created_at, sent_at=row.sent_at)


class MessageList(ResponseModel):
    messages: list[MessageOut]


class MessageQuery(QueryModel):
    status: Annotated[list[Status], Field(max_length=len(STATUSES),
                                          description="One or more, comma-separated (e.g. dead,undelivered)")] = []
    channel: Channel | None = None
    appointment_id: Id | None = None
    participant_id: Id | None = None
    before_id: Id | None = Field(default=None, description="Only messages older than this id (paging)")
    limit: int = Field(default=100, ge=1, le=500)


def visible_messages(session: Session, user: User) -> Select[tuple[OutboxMessage]]:
    """Newest first; a mediator's view is narrowed in the query, not in the view."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if user.sees_all_cases:
        return query
    case_ids = visible_cases(session, user).with_only_columns(Case.id).order_by(None)
    their_participants = select(Participant.id).where(Participant.case_id.in_(case_ids))
    mediator_id = own_mediator_id(session, user)
    addressed_to_them = OutboxMessage.mediator_id == mediator_id if mediator_id is not None else false()
    return query.where(or_(OutboxMessage.participant_id.in_(their_participants), addressed_to_them))


@registry.route(notifications_api_bp, "GET", "/messages", summary="List messages (delivery tracking)",
                tag="messages", roles=STAFF, query=MessageQuery, response=MessageList)
def list_messages(query: MessageQuery) -> Response:
    """Newest first. Page with `before_id` = the last id of the previous page. No addresses, no texts."""
    session = db_session()
    stmt = visible_messages(session, g.user)
    if query.status:
        stmt = stmt.where(OutboxMessage.status.in_(query.status))
    if query.channel is not None:
        stmt = stmt.where(OutboxMessage.channel == query.channel)
    if query.appointment_id is not None:
        stmt = stmt.where(OutboxMessage.appointment_id == query.appointment_id)
    if query.participant_id is not None:
        stmt = stmt.where(OutboxMessage.participant_id == query.participant_id)
    if query.before_id is not None:
        stmt = stmt.where(OutboxMessage.id < query.before_id)
    rows = session.scalars(stmt.limit(query.limit))
    return respond(MessageList(messages=[MessageOut.of(row) for row in rows]))


@registry.route(notifications_api_bp, "GET", "/messages/<int:message_id>", summary="Get a message's delivery state",
                tag="messages", roles=STAFF, response=MessageOut)
def get_message(message_id: int) -> Response:
    session = db_session()
    row = session.scalar(visible_messages(session, g.user).where(OutboxMessage.id == message_id))
    if row is None:
        raise NotFound(f"message {message_id} not found")
    return respond(MessageOut.of(row))
