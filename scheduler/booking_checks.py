"""Checks of a booking request against the database, before any lock is taken.

The case must be in the actor's sight; the mediators must be assigned to it
and active; the room active; the participants in this case and not withdrawn;
a joint meeting needs a room with a separate waiting area unless a
coordinator overrides it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import User
from core.problems import Forbidden, InvalidInput
from scheduler.access import case_for
from scheduler.models import Case, Mediator, Participant, Room
from scheduler.rules import BookingRequest, check_request, is_joint


@dataclass(frozen=True)
class CheckedBooking:
    case: Case
    mediators: tuple[Mediator, ...]
    room: Room | None
    participants: tuple[Participant, ...]


def _case(session: Session, actor: User | None, case_id: int) -> Case:
    if actor is None:
        case = session.get(Case, case_id)
        if case is None:
            raise InvalidInput("case_id", "no such case")
        return case
    return case_for(session, actor, case_id)


def load_and_check(session: Session, req: BookingRequest, actor: User | None, now: datetime) -> CheckedBooking:
    check_request(req, now)
    case = _case(session, actor, req.case_id)
    if case.status == "closed":
        raise InvalidInput("case_id", "the case is closed")
    assigned = {m.id for m in case.mediators}
    mediators = tuple(session.scalars(select(Mediator).where(Mediator.id.in_(req.mediator_ids))
                                      .order_by(Mediator.id)))
    if len(mediators) != len(req.mediator_ids):
        raise InvalidInput("mediator_ids", "unknown mediator")
    for mediator in mediators:
        if not mediator.active:
            raise InvalidInput("mediator_ids", f"mediator {mediator.id} is not active")
        if mediator.id not in assigned:
            raise InvalidInput("mediator_ids", f"mediator {mediator.id} is not assigned to this case")
    room = None
    if req.room_id is not None:
        room = session.get(Room, req.room_id)
        if room is None or not room.active:
            raise InvalidInput("room_id", "no such active room")
    participants = tuple(session.scalars(select(Participant).where(Participant.id.in_(req.participant_ids))))
    if len(participants) != len(req.participant_ids):
        raise InvalidInput("participant_ids", "unknown participant")
    for participant in participants:
        if participant.case_id != case.id:
            raise InvalidInput("participant_ids", f"participant {participant.id} belongs to another case")
        if participant.withdrawn_at is not None:
            raise InvalidInput("participant_ids", f"participant {participant.id} has withdrawn")
    _check_joint_meeting(req, room, participants, actor)
    return CheckedBooking(case, mediators, room, participants)


def _check_joint_meeting(req: BookingRequest, room: Room | None, participants: tuple[Participant, ...],
                         actor: User | None) -> None:
    if not is_joint([p.role for p in participants]) or room is None:
        return
    if room.separate_waiting_area:
        return
    if not req.waiting_area_override:
        raise InvalidInput("room_id", "a joint meeting needs a room with a separate waiting area "
                                      "(a coordinator can override this)")
    if actor is not None and not actor.sees_all_cases:
        raise Forbidden("only a coordinator can override the separate waiting area")
