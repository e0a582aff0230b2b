"""A mediator falls ill: move their appointments in a date range, and their open tasks, to colleagues.

For each live appointment of theirs in the range (local dates, from today
on), the candidates are tried in order (the case's other mediators first,
then everyone else active). A candidate takes it only if the appointment as
it would be with them passes the same checks as a booking
(scheduler.booking_checks: working day, their working hours, keep-apart…)
and they are free for its span plus their buffer. What cannot move is listed
for a coordinator and stays where it is. The sick mediator's open tasks on
the cases concerned go to whoever took over the case (an "inform the other
party" task must never wait for someone who is ill).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit
from core.events import publish
from core.models import User
from core.problems import Forbidden, InvalidInput
from scheduler import events
from scheduler.booking import write_reservations
from scheduler.booking_checks import load_and_check
from scheduler.conflicts import Resource, Span, conflicting_resources
from scheduler.locking import clear_expired_holds, lock_resources, taken_spans
from scheduler.models import (Appointment, Mediator, MediatorTask, Reservation, appointment_mediators,
                              case_mediators)
from scheduler.policy import BookingPolicy
from scheduler.rules import BookingRequest
from scheduler.withdrawal import INFORM_OTHER_PARTY


@dataclass
class ReassignResult:
    moved: list[tuple[int, int]] = field(default_factory=list)
    unmovable: list[int] = field(default_factory=list)
    tasks_moved: list[tuple[int, int]] = field(default_factory=list)


def _as_is(appointment: Appointment, mediator_ids: tuple[int, ...]) -> BookingRequest:
    return BookingRequest(
        case_id=appointment.case_id, kind=appointment.kind, mode=appointment.mode, start=appointment.start,
        end=appointment.end, mediator_ids=mediator_ids, room_id=appointment.room_id,
        participant_ids=tuple(a.participant_id for a in appointment.attendances),
        arrivals={a.participant_id: a.arrival for a in appointment.attendances if a.arrival is not None},
        waiting_area_override=appointment.waiting_area_override, waiting_area_reason=appointment.waiting_area_reason)


def _fits(session: Session, candidate: Mediator, appointment: Appointment, old_id: int, actor: User | None,
          now: datetime, policy: BookingPolicy) -> bool:
    mediator_ids = tuple(sorted({m.id for m in appointment.mediators} - {old_id} | {candidate.id}))
    try:
        load_and_check(session, _as_is(appointment, mediator_ids), actor, now, policy,
                       joining=frozenset({candidate.id}))
    except (InvalidInput, Forbidden):
        return False
    span = Span(Resource("mediator", candidate.id), appointment.start,
                appointment.end + timedelta(minutes=candidate.buffer_minutes))
    taken = taken_spans(session, [candidate.id], [], span.start, span.end, now)
    return not conflicting_resources([span], taken)


def _move(session: Session, appointment: Appointment, old: Mediator, new: Mediator, actor_id: int | None) -> None:
    session.execute(update(Reservation).where(Reservation.appointment_id == appointment.id,
                                              Reservation.mediator_id == old.id, Reservation.live)
                    .values(live=False))
    appointment.mediators = [m for m in appointment.mediators if m.id != old.id] + [new]
    if new not in appointment.case.mediators:
        appointment.case.mediators.append(new)
        audit.record(session, actor_id, "case.mediator_added", "case", appointment.case_id, f"mediator={new.id}")
    appointment.version += 1
    span = Span(Resource("mediator", new.id), appointment.start,
                appointment.end + timedelta(minutes=new.buffer_minutes))
    write_reservations(session, appointment, [span], appointment.hold_expires_at)


def _range(policy: BookingPolicy, now: datetime, first: date | None, last: date | None) -> tuple[datetime, datetime | None]:
    if first is not None and last is not None and last < first:
        raise InvalidInput("to", "must not be before from")
    start = now if first is None else max(now, datetime.combine(first, time(0), policy.tz))
    end = None if last is None else datetime.combine(last + timedelta(days=1), time(0), policy.tz)
    return start, end


def reassign_future(session: Session, mediator_id: int, actor: User | None, now: datetime, *,
                    policy: BookingPolicy, first_day: date | None = None, last_day: date | None = None,
                    candidate_ids: list[int] | None = None) -> ReassignResult:
    """Move the mediator's live appointments starting from `first_day` through `last_day` (local dates,
    both included; open-ended when left out), and their open tasks on the cases concerned."""
    if actor is not None and not actor.sees_all_cases:
        raise Forbidden("only a coordinator can reassign a mediator's appointments")
    old = session.get(Mediator, mediator_id)
    if old is None:
        raise InvalidInput("mediator_id", "no such mediator")
    start, end = _range(policy, now, first_day, last_day)
    pool = list(session.scalars(select(Mediator).where(Mediator.active, Mediator.id != mediator_id)
                                .order_by(Mediator.id)))
    if candidate_ids is not None:
        unknown = set(candidate_ids) - {m.id for m in pool}
        if unknown:
            raise InvalidInput("to_mediator_ids", f"not an active other mediator: {sorted(unknown)}")
        pool = [m for m in pool if m.id in candidate_ids]
    lock_resources(session, [old.id, *(m.id for m in pool)], [])
    clear_expired_holds(session, [old.id, *(m.id for m in pool)], [], now)
    in_range = select(Appointment.id).join(appointment_mediators).where(
        appointment_mediators.c.mediator_id == old.id, Appointment.status.in_(("held", "confirmed")),
        Appointment.start > start)
    if end is not None:
        in_range = in_range.where(Appointment.start < end)
    actor_id = actor.id if actor else None
    # The appointment's time is not changing: the notice a booking needs does not apply to a takeover.
    takeover = replace(policy, min_notice=timedelta(0))
    result = ReassignResult()
    taken_over: dict[int, int] = {}  # case id -> mediator who took over there
    cases: set[int] = set()
    for appointment_id in session.scalars(in_range.order_by(Appointment.start)).all():
        appointment = session.get(Appointment, appointment_id, with_for_update=True)
        assert appointment is not None
        cases.add(appointment.case_id)
        on_case = {m.id for m in appointment.case.mediators}
        present = {m.id for m in appointment.mediators}
        ordered = sorted((m for m in pool if m.id not in present), key=lambda m: (m.id not in on_case, m.id))
        target = next((m for m in ordered if _fits(session, m, appointment, old.id, actor, now, takeover)), None)
        if target is None:
            result.unmovable.append(appointment.id)
            continue
        _move(session, appointment, old, target, actor_id)
        taken_over.setdefault(appointment.case_id, target.id)
        result.moved.append((appointment.id, target.id))
        audit.record(session, actor_id, "appointment.reassigned", "appointment", appointment.id,
                     f"from_mediator={old.id};to_mediator={target.id}")
        if appointment.status == "confirmed":
            publish(session, events.AppointmentReassigned(appointment.id, appointment.version, old.id, target.id,
                                                          actor_id))
    _move_tasks(session, old, pool, cases, taken_over, result, actor_id)
    audit.record(session, actor_id, "mediator.reassigned", "mediator", old.id,
                 f"from={first_day.isoformat() if first_day else ''};to={last_day.isoformat() if last_day else ''}"
                 f";moved={len(result.moved)};unmovable={len(result.unmovable)}")
    return result


def _move_tasks(session: Session, old: Mediator, pool: list[Mediator], cases: set[int], taken_over: dict[int, int],
                result: ReassignResult, actor_id: int | None) -> None:
    """Open tasks of `old` on the cases concerned, and every open "inform the other party" task of
    theirs, go to the mediator who took over the case, else another active mediator on it, else the
    first candidate."""
    open_tasks = session.scalars(select(MediatorTask).where(
        MediatorTask.mediator_id == old.id, MediatorTask.done_at.is_(None)).order_by(MediatorTask.id)).all()
    pool_ids = {m.id for m in pool}
    for task in open_tasks:
        if task.case_id not in cases and task.kind != INFORM_OTHER_PARTY:
            continue
        on_case = [mid for mid in session.scalars(select(case_mediators.c.mediator_id).where(
            case_mediators.c.case_id == task.case_id).order_by(case_mediators.c.mediator_id)) if mid in pool_ids]
        target = taken_over.get(task.case_id) or next(iter(on_case), None) or (pool[0].id if pool else None)
        if target is None:
            continue
        task.mediator_id = target
        result.tasks_moved.append((task.id, target))
        audit.record(session, actor_id, "task.reassigned", "mediator_task", task.id,
                     f"from_mediator={old.id};to_mediator={target}")
