"""Withdrawal: a participant stops, at any moment, with effect at once.

Their future appointments are cancelled. A joint meeting that loses a party is
cancelled for everyone, and nobody gets an automatic message about it: the
other party hears it from their mediator, who gets a task to do so. The
withdrawn participant is sent nothing more. A withdrawal can be undone; the
cancelled appointments stay cancelled.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.events import publish
from core.models import User
from core.problems import Conflict, NotFound
from scheduler import events
from scheduler.access import participant_for
from scheduler.booking import cancel
from scheduler.models import Appointment, Attendance, Mediator, MediatorTask, Participant

INFORM_OTHER_PARTY = "inform_other_party"


def _participant(session: Session, participant_id: int, actor: User | None) -> Participant:
    if actor is not None:
        participant_for(session, actor, participant_id)
    # NO KEY UPDATE: rows that refer to the participant (outbox rows a writer inserts) need not wait.
    participant = session.get(Participant, participant_id, with_for_update={"key_share": True}, populate_existing=True)
    if participant is None:
        raise NotFound(f"participant {participant_id} not found")
    return participant


def _who_informs(appointment: Appointment) -> list[Mediator]:
    """The appointment's active mediators; if none is active (all away), the case's active ones; the
    other party must hear it soon, not when someone is back."""
    active = [m for m in appointment.mediators if m.active]
    return active or [m for m in appointment.case.mediators if m.active] or list(appointment.mediators)


def withdraw(session: Session, participant_id: int, actor: User | None, now: datetime) -> Participant:
    participant = _participant(session, participant_id, actor)
    if participant.withdrawn_at is not None:
        return participant  # withdrawing twice changes nothing
    participant.withdrawn_at = now
    appointment_ids = session.scalars(
        select(Appointment.id).join(Attendance).where(Attendance.participant_id == participant.id,
                                                      Appointment.status.in_(("held", "confirmed")),
                                                      Appointment.end > now)
        .order_by(Appointment.id)).all()
    for appointment_id in appointment_ids:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        everyone = tuple(a.participant_id for a in appointment.attendances)
        cancel(session, appointment_id, actor, now, reason="participant_withdrew", silent_participant_ids=everyone)
        others = [pid for pid in everyone if pid != participant.id]
        if others:
            for mediator in _who_informs(appointment):
                session.add(MediatorTask(mediator_id=mediator.id, case_id=appointment.case_id,
                                         kind=INFORM_OTHER_PARTY, appointment_id=appointment.id,
                                         participant_id=participant.id))
    audit.record(session, actor.id if actor else None, "participant.withdrew", "participant", participant.id)
    publish(session, events.ParticipantWithdrew(participant.id, participant.case_id, actor.id if actor else None))
    session.flush()
    return participant


def undo_withdrawal(session: Session, participant_id: int, actor: User | None, now: datetime) -> Participant:
    participant = _participant(session, participant_id, actor)
    if participant.withdrawn_at is None:
        raise Conflict(f"participant {participant_id} has not withdrawn")
    participant.withdrawn_at = None
    audit.record(session, actor.id if actor else None, "participant.withdrawal_undone", "participant", participant.id)
    publish(session, events.WithdrawalUndone(participant.id, participant.case_id, actor.id if actor else None))
    session.flush()
    return participant
