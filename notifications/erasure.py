"""Notifications' part of an erasure (scheduler.erasure): the message copies of an erased participant.

On `ParticipantErasing` (their row still holds their number and address): messages not yet sent to
them, or to their number or address, are withdrawn; the contents of every finished message to them,
to their number or address, or to a mediator about one of their appointments, are cleared as the
retention purge clears them; a mark that their number cannot take texts goes. On `CaseErasing`: the
contents of every finished message about the case's appointments (mediators' notices included).

The rows stay, emptied: kind, channel, status and times are what delivery statistics need. A mediator's
notice still waiting to go is left to go (and be purged later): it is the office's own mail.
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


def _theirs(participant: Participant) -> ColumnElement[bool]:
    """Messages to the participant: linked to them, or sent to their number or address (a callback's text)."""
    addresses = [a for a in (participant.phone, participant.email) if a]
    to_them = and_(m.recipient_kind != "mediator", m.to_address.in_(addresses)) if addresses else false()
    return or_(m.participant_id == participant.id, to_them)


def on_participant_erasing(session: Session, event: ParticipantErasing) -> None:
    participant = session.get(Participant, event.participant_id)
    if participant is None:
        return
    now = utcnow()
    theirs = _theirs(participant)
    session.execute(update(m).where(m.status.in_(OPEN_STATUSES), theirs)
                    .values(status="cancelled", finished_at=now, lease_until=None),
                    execution_options={"synchronize_session": False})
    their_appointments = select(Attendance.appointment_id).where(Attendance.participant_id == participant.id)
    clear_contents(session, or_(theirs, and_(m.recipient_kind == "mediator",
                                             m.appointment_id.in_(their_appointments))), now)
    session.execute(delete(SmsUntextableNumber).where(SmsUntextableNumber.participant_id == participant.id))


def on_case_erasing(session: Session, event: CaseErasing) -> None:
    appointments = select(Appointment.id).where(Appointment.case_id == event.case_id)
    clear_contents(session, m.appointment_id.in_(appointments), utcnow())


def export_section(session: Session, participant: Participant, tz: Any) -> dict[str, Any]:
    """For the participant's data file (scheduler.participant_export): the messages to them, as kept now."""
    from scheduler.participant_export import when

    rows = session.scalars(select(m).where(_theirs(participant)).order_by(m.id))
    return {"messages_to_you": [
        {"kind": r.kind, "channel": r.channel, "to": r.to_address, "subject": r.subject, "text": r.body,
         "status": r.status, "written_at": when(r.created_at, tz), "sent_at": when(r.sent_at, tz),
         "text_deleted_at": when(r.purged_at, tz)} for r in rows]}
