"""The one set of checks every booking path runs: book, reschedule, reassignment.

The case must be in the actor's sight and open; the mediators assigned to it
and active; the room active; the participants in this case and not withdrawn.
The time must be one the office books (working day, each mediator's working
hours, minimum notice) and an in-person joint meeting needs a room with a
separate waiting area and staggered arrivals; its staggered departures are
computed here too, for the writer to store. Only a coordinator may book
past the office's calendar or the waiting-area rule, and only with a reason
code; what was overridden is returned so the caller stores and audits it.
A coordinator may also book over a mediator's imported busy time (their own
calendar; a room's busy time is never overridden), with a reason as well.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from core.models import User
from core.problems import Forbidden, InvalidInput
from scheduler.access import case_for
from scheduler.models import BusyBlock, Case, Mediator, Participant, Room
from scheduler.policy import BookingPolicy
from scheduler.rules import (ROOM_MODES, BookingRequest, check_arrivals, check_request, is_joint,
                             office_time_problem, staggered_departures)
from scheduler.search import working_hours_of


@dataclass(frozen=True)
class CheckedBooking:
    case: Case
    mediators: tuple[Mediator, ...]
    room: Room | None
    participants: tuple[Participant, ...]
    # Overrides that were needed, as {"waiting_area": reason, "outside_hours": reason, "busy_time": reason}.
    overrides: dict[str, str] = field(default_factory=dict)
    # Each participant's departure (scheduler.rules.staggered_departures): what the writer stores.
    departures: dict[int, datetime] = field(default_factory=dict)


def _case(session: Session, actor: User | None, case_id: int) -> Case:
    if actor is None:
        case = session.get(Case, case_id)
        if case is None:
            raise InvalidInput("case_id", "no such case")
        return case
    return case_for(session, actor, case_id)


def load_and_check(session: Session, req: BookingRequest, actor: User | None, now: datetime,
                   policy: BookingPolicy, joining: frozenset[int] = frozenset()) -> CheckedBooking:
    """Check `req` as the appointment would be after the write; `joining` names mediators the caller
    is about to add to the case (a reassignment)."""
    check_request(req, now)
    case = _case(session, actor, req.case_id)
    if case.status == "closed":
        raise InvalidInput("case_id", "the case is closed")
    assigned = {m.id for m in case.mediators} | joining
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
    participants = tuple(session.scalars(select(Participant).where(Participant.id.in_(req.participant_ids),
                                                                   Participant.case_id == case.id)))
    # Unknown or in another case: the same words, so a booking cannot probe for other cases' people.
    for missing in sorted(set(req.participant_ids) - {p.id for p in participants}):
        raise InvalidInput("participant_ids", f"participant {missing} is not in this case")
    for participant in participants:
        if participant.withdrawn_at is not None:
            raise InvalidInput("participant_ids", f"participant {participant.id} has withdrawn")
        if participant.erased_at is not None:
            raise InvalidInput("participant_ids", f"participant {participant.id}'s personal data was erased")
    check_arrivals(req.start, req.end, {p.id: p.role for p in participants}, req.arrivals, policy.arrival_gap,
                   req.mode in ROOM_MODES)
    departures = staggered_departures(req.start, req.end, {p.id: p.role for p in participants}, req.arrivals,
                                      policy.departure_gap, req.mode in ROOM_MODES)
    overrides: dict[str, str] = {}
    if _needs_waiting_area_override(req, room, participants, actor):
        overrides["waiting_area"] = req.waiting_area_reason  # type: ignore[assignment]
    if _needs_outside_hours(req, mediators, actor, now, policy):
        overrides["outside_hours"] = req.outside_hours  # type: ignore[assignment]
    if _needs_busy_time(session, req, mediators, actor):
        overrides["busy_time"] = req.busy_time  # type: ignore[assignment]
    return CheckedBooking(case, mediators, room, participants, overrides, departures)


def _may_override(actor: User | None, what: str) -> None:
    if actor is not None and not actor.sees_all_cases:
        raise Forbidden(f"only a coordinator can override {what}")


def _needs_waiting_area_override(req: BookingRequest, room: Room | None, participants: tuple[Participant, ...],
                                 actor: User | None) -> bool:
    if room is None or room.separate_waiting_area or not is_joint([p.role for p in participants]):
        return False
    if not req.waiting_area_override:
        raise InvalidInput("room_id", "a joint meeting needs a room with a separate waiting area "
                                      "(a coordinator can override this)")
    _may_override(actor, "the separate waiting area")
    return True


def _needs_outside_hours(req: BookingRequest, mediators: tuple[Mediator, ...], actor: User | None,
                         now: datetime, policy: BookingPolicy) -> bool:
    problem = office_time_problem(req.start, req.end, [(m.name, working_hours_of(m)) for m in mediators],
                                  policy, now)
    if problem is None:
        return False
    if req.outside_hours is None:
        raise InvalidInput("start", f"{problem} (a coordinator can book it with an outside_hours reason)")
    _may_override(actor, "the office's calendar")
    return True


def _needs_busy_time(session: Session, req: BookingRequest, mediators: tuple[Mediator, ...],
                     actor: User | None) -> bool:
    """With a `busy_time` reason, a coordinator books over the mediators' imported busy time (the booking
    then skips it when checking what is taken). Without one, that time stays taken: a 409 as ever."""
    if req.busy_time is None or not mediators:
        return False
    overlapping = or_(*(and_(BusyBlock.mediator_id == m.id, BusyBlock.ends_at > req.start,
                             BusyBlock.starts_at < req.end + timedelta(minutes=m.buffer_minutes))
                        for m in mediators))
    if session.scalar(select(BusyBlock.id).where(overlapping).limit(1)) is None:
        return False
    _may_override(actor, "a mediator's imported busy time")
    return True
