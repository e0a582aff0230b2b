"""Withdrawal: a participant stops, at any moment, with effect at once.

Their future appointments are cancelled. A joint meeting that loses a party is
cancelled for everyone, and nobody gets an automatic message about it: the
other party hears it from their mediator, who gets a task to do so. The
withdrawn participant is sent nothing more. A withdrawal can be undone; the
cancelled appointments stay cancelled.

`plan_withdrawal` says what a withdrawal would do, now: the same plan
`withdraw` then carries out, so a confirmation page shows exactly what
happens (and `withdraw(expected=...)` refuses when it changed meanwhile).
`plan_undo` says what an undo leaves as it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit
from core.events import publish
from core.models import User
from core.problems import Conflict, NotFound
from scheduler import events
from scheduler.access import participant_for
from scheduler.booking import cancel
from scheduler.models import Appointment, Attendance, Mediator, MediatorTask, Participant
from scheduler.participant_models import Offer

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


@dataclass(frozen=True)
class Cancellation:
    """One appointment a withdrawal cancels, who else was in it (told by nobody automatically) and which
    mediators get the task to tell them in person (none when the participant was alone in it)."""

    appointment: Appointment
    others: tuple[Participant, ...]
    informers: tuple[Mediator, ...]


@dataclass(frozen=True)
class WithdrawalPlan:
    participant: Participant
    cancellations: tuple[Cancellation, ...]

    @property
    def already_withdrawn(self) -> bool:
        return self.participant.withdrawn_at is not None

    @property
    def fingerprint(self) -> str:
        """What a confirmation page showed: the appointments it would cancel, for `withdraw(expected=...)`."""
        return ",".join(str(c.appointment.id) for c in self.cancellations)


class PlanChanged(Conflict):
    """The appointments a withdrawal would cancel are not those the confirmation showed."""


def _plan(session: Session, participant: Participant, now: datetime) -> WithdrawalPlan:
    if participant.withdrawn_at is not None:
        return WithdrawalPlan(participant, ())  # withdrawing twice changes nothing
    appointments = session.scalars(
        select(Appointment).join(Attendance).where(Attendance.participant_id == participant.id,
                                                   Appointment.status.in_(("held", "confirmed")),
                                                   Appointment.end > now)
        .order_by(Appointment.id)).all()
    cancellations = []
    for appointment in appointments:
        others = tuple(a.participant for a in appointment.attendances if a.participant_id != participant.id)
        cancellations.append(Cancellation(appointment, others, tuple(_who_informs(appointment)) if others else ()))
    return WithdrawalPlan(participant, tuple(cancellations))


def _visible(session: Session, participant_id: int, actor: User | None) -> Participant:
    """The participant, read without a lock; out of the actor's sight is the same 404 as unknown."""
    participant = participant_for(session, actor, participant_id) if actor is not None \
        else session.get(Participant, participant_id)
    if participant is None:
        raise NotFound(f"participant {participant_id} not found")
    return participant


def plan_withdrawal(session: Session, participant_id: int, actor: User | None, now: datetime) -> WithdrawalPlan:
    """What `withdraw` would do now, changing nothing: for its confirmation page."""
    return _plan(session, _visible(session, participant_id, actor), now)


def withdraw(session: Session, participant_id: int, actor: User | None, now: datetime,
             expected: str | None = None) -> Participant:
    """`expected`: the plan's fingerprint a confirmation page showed; if it differs now, PlanChanged and
    nothing happens."""
    participant = _participant(session, participant_id, actor)
    plan = _plan(session, participant, now)
    if plan.already_withdrawn:
        return participant
    if expected is not None and expected != plan.fingerprint:
        raise PlanChanged(f"what withdrawing participant {participant_id} does has changed; look again")
    participant.withdrawn_at = now
    for step in plan.cancellations:
        appointment = step.appointment
        everyone = tuple(a.participant_id for a in appointment.attendances)
        cancel(session, appointment.id, actor, now, reason="participant_withdrew", silent_participant_ids=everyone)
        for mediator in step.informers:
            session.add(MediatorTask(mediator_id=mediator.id, case_id=appointment.case_id,
                                     kind=INFORM_OTHER_PARTY, appointment_id=appointment.id,
                                     participant_id=participant.id))
    # Times still offered to them are released above (they are holds); the offers themselves close with them.
    session.execute(update(Offer).where(Offer.participant_id == participant.id, Offer.status == "open")
                    .values(status="withdrawn", decided_at=now))
    audit.record(session, actor.id if actor else None, "participant.withdrew", "participant", participant.id)
    publish(session, events.ParticipantWithdrew(participant.id, participant.case_id, actor.id if actor else None))
    session.flush()
    return participant


@dataclass(frozen=True)
class UndoPlan:
    """What undoing a withdrawal leaves as it is: the participant can be booked and messaged again, but
    the appointments their withdrawal cancelled stay cancelled and the tasks it made stay open."""

    participant: Participant
    stays_cancelled: tuple[Appointment, ...]
    open_tasks: tuple[MediatorTask, ...]


def plan_undo(session: Session, participant_id: int, actor: User | None, now: datetime) -> UndoPlan:
    """The future appointments cancelled because someone withdrew that had this participant in them, and
    the open "inform the other party" tasks their withdrawal made: an undo changes neither."""
    participant = _visible(session, participant_id, actor)
    if participant.withdrawn_at is None:
        return UndoPlan(participant, (), ())
    cancelled = session.scalars(
        select(Appointment).join(Attendance).where(Attendance.participant_id == participant.id,
                                                   Appointment.status == "cancelled",
                                                   Appointment.cancel_reason == "participant_withdrew",
                                                   Appointment.end > now)
        .order_by(Appointment.start)).all()
    tasks = session.scalars(select(MediatorTask).where(MediatorTask.participant_id == participant.id,
                                                       MediatorTask.kind == INFORM_OTHER_PARTY,
                                                       MediatorTask.done_at.is_(None))
                            .order_by(MediatorTask.id)).all()
    return UndoPlan(participant, tuple(cancelled), tuple(tasks))


def undo_withdrawal(session: Session, participant_id: int, actor: User | None, now: datetime) -> Participant:
    participant = _participant(session, participant_id, actor)
    if participant.withdrawn_at is None:
        raise Conflict(f"participant {participant_id} has not withdrawn")
    if participant.erased_at is not None:
        raise Conflict(f"participant {participant_id}'s personal data was erased; they cannot take part again")
    participant.withdrawn_at = None
    audit.record(session, actor.id if actor else None, "participant.withdrawal_undone", "participant", participant.id)
    publish(session, events.WithdrawalUndone(participant.id, participant.case_id, actor.id if actor else None))
    session.flush()
    return participant
