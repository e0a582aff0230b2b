"""Notifications' part of an erasure (scheduler.erasure): the message copies of an erased participant.

On `ParticipantErasing` (their row still holds their number): messages to them and mediators' notices
about them (their replies quoted, their appointments) are withdrawn if unsent, and the contents of all
of them cleared as the retention purge clears them; a mark that their number cannot take texts goes.
On `CaseErasing`: the contents of every finished message about the case's appointments.

The rows stay, emptied: kind, channel, status and times are what delivery statistics need.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, false, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from core.db import utcnow
from notifications.models import OPEN_STATUSES, OutboxMessage, SmsUntextableNumber
from scheduler.events import CaseErasing, ParticipantErasing
from scheduler.models import Appointment, Attendance, Participant

m = OutboxMessage


def clear_contents(session: Session, which: ColumnElement[bool], now: Any) -> int:
    """Clear addresses and content of finished messages matching `which`; how many (the retention purge's too)."""
    result = session.execute(
        update(m).where(m.status.not_in(OPEN_STATUSES), m.purged_at.is_(None), which)
        .values(to_address=None, subject=None, body=None, html_body=None, attachment_ics=None, purged_at=now),
        execution_options={"synchronize_session": False})
    return result.rowcount or 0


def _notices_about(participant: Participant) -> ColumnElement[bool]:
    """Mediators' notices that quote or concern the participant: their text replies and STOP, an address
    change (keys of notifications.inbound_sms and mediator_notices), and anything about their appointments."""
    their_appointments = select(Attendance.appointment_id).where(Attendance.participant_id == participant.id)
    return and_(m.recipient_kind == "mediator",
                or_(m.idempotency_key.like(f"sms-in:%:p{participant.id}:m%"),
                    m.idempotency_key.like(f"address:p{participant.id}:%"),
                    m.appointment_id.in_(their_appointments)))


def on_participant_erasing(session: Session, event: ParticipantErasing) -> None:
    """Messages to them (by their id only: a number or address may be shared with someone else in the
    office's files) and notices about them are withdrawn if unsent, and their contents cleared. A text
    to their number as a caller (a callback's confirmation, no name in it) loses its contents too."""
    participant = session.get(Participant, event.participant_id)
    if participant is None:
        return
    now = utcnow()
    theirs = or_(m.participant_id == participant.id, _notices_about(participant))
    session.execute(update(m).where(m.status.in_(OPEN_STATUSES), theirs)
                    .values(status="cancelled", finished_at=now, lease_until=None),
                    execution_options={"synchronize_session": False})
    as_caller = and_(m.recipient_kind == "caller", m.to_address == participant.phone) if participant.phone \
        else false()
    clear_contents(session, or_(theirs, as_caller), now)
    session.execute(delete(SmsUntextableNumber).where(SmsUntextableNumber.participant_id == participant.id))


def on_case_erasing(session: Session, event: CaseErasing) -> None:
    appointments = select(Appointment.id).where(Appointment.case_id == event.case_id)
    clear_contents(session, m.appointment_id.in_(appointments), utcnow())


def export_section(session: Session, participant: Participant, tz: Any) -> dict[str, Any]:
    """For the participant's data file (scheduler.participant_export): the messages to them, as kept now."""
    from scheduler.participant_export import when

    rows = session.scalars(select(m).where(m.participant_id == participant.id).order_by(m.id))
    return {"messages_to_you": [
        {"kind": r.kind, "channel": r.channel, "to": r.to_address, "subject": r.subject, "text": r.body,
         "status": r.status, "written_at": when(r.created_at, tz), "sent_at": when(r.sent_at, tz),
         "text_deleted_at": when(r.purged_at, tz)} for r in rows]}
