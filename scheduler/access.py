"""Who may see which case: decided here, in the queries, not in each view.

A mediator sees only the cases assigned to them; coordinators and admins see
all. Anything out of sight is reported exactly as an unknown id is (the same
404, word for word, naming only the id asked for), so a mediator cannot even
learn that another case, or a participant or appointment in it, exists.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from core.models import User
from core.problems import NotFound
from scheduler.models import Appointment, Case, Mediator, Participant, case_mediators


def own_mediator_id(session: Session, user: User) -> int | None:
    return session.scalar(select(Mediator.id).where(Mediator.user_id == user.id))


def visible_cases(session: Session, user: User) -> Select[tuple[Case]]:
    query = select(Case).order_by(Case.id)
    if user.sees_all_cases:
        return query
    mediator_id = own_mediator_id(session, user)
    return query.where(exists().where(case_mediators.c.case_id == Case.id,
                                      case_mediators.c.mediator_id == mediator_id))


def case_for(session: Session, user: User, case_id: int, *options: Any) -> Case:
    """The case if this user may see it (else NotFound); `options` load what the caller needs in the same query."""
    case = session.scalars(visible_cases(session, user).where(Case.id == case_id).options(*options)).unique().first()
    if case is None:
        raise NotFound(f"case {case_id} not found")
    return case


def _in_sight(session: Session, user: User, case_id: int) -> bool:
    return session.scalar(visible_cases(session, user).with_only_columns(Case.id).where(Case.id == case_id)) \
        is not None


def participant_for(session: Session, user: User, participant_id: int) -> Participant:
    """The participant, or the very 404 an unknown id gets: never a word about their case."""
    participant = session.get(Participant, participant_id)
    if participant is None or not _in_sight(session, user, participant.case_id):
        raise NotFound(f"participant {participant_id} not found")
    return participant


def appointment_for(session: Session, user: User, appointment_id: int) -> Appointment:
    """The appointment, or the very 404 an unknown id gets."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or not _in_sight(session, user, appointment.case_id):
        raise NotFound(f"appointment {appointment_id} not found")
    return appointment


def visible_appointments(session: Session, user: User) -> Select[tuple[Appointment]]:
    case_ids = visible_cases(session, user).with_only_columns(Case.id).order_by(None)
    return select(Appointment).where(Appointment.case_id.in_(case_ids)).order_by(Appointment.start)
