"""A mediator falls ill: move their future appointments to colleagues who are free.

For each live future appointment, the candidates are tried in order (the
case's other mediators first, then everyone else active); a candidate must be
within working hours and free for the whole span plus their buffer. What
cannot move is listed for a coordinator, and stays where it is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit
from core.events import publish
from core.models import User
from core.problems import Forbidden, InvalidInput
from scheduler import events
from scheduler.availability import Interval, MediatorCalendar, SlotQuery, find_slots
from scheduler.booking import write_reservations
from scheduler.conflicts import Resource, Span
from scheduler.locking import clear_expired_holds, lock_resources, taken_spans
from scheduler.models import Appointment, Mediator, Reservation, appointment_mediators, case_mediators
from scheduler.search import working_hours_of


@dataclass
class ReassignResult:
    moved: list[tuple[int, int]] = field(default_factory=list)
    unmovable: list[int] = field(default_factory=list)


def _fits(session: Session, candidate: Mediator, appointment: Appointment, now: datetime,
          workdays: object, tz: object) -> bool:
    buffer = timedelta(minutes=candidate.buffer_minutes)
    taken = taken_spans(session, [candidate.id], [], appointment.start, appointment.end + buffer, now)
    calendar = MediatorCalendar(candidate.id, working_hours_of(candidate), buffer,
                                tuple(Interval(s.start, s.end) for s in taken))
    duration = appointment.end - appointment.start
    query = SlotQuery(window_start=appointment.start, window_end=appointment.end, duration=duration,
                      earliest_start=appointment.start, grid=timedelta(minutes=1), limit=1)
    slots = find_slots(query, [calendar], None, workdays.is_working_day, tz)  # type: ignore[attr-defined,arg-type]
    return bool(slots) and slots[0].start == appointment.start


def _move(session: Session, appointment: Appointment, old: Mediator, new: Mediator) -> None:
    session.execute(update(Reservation).where(Reservation.appointment_id == appointment.id,
                                              Reservation.mediator_id == old.id, Reservation.live)
                    .values(live=False))
    appointment.mediators = [m for m in appointment.mediators if m.id != old.id] + [new]
    if new not in appointment.case.mediators:
        appointment.case.mediators.append(new)
    appointment.version += 1
    span = Span(Resource("mediator", new.id), appointment.start,
                appointment.end + timedelta(minutes=new.buffer_minutes))
    write_reservations(session, appointment, [span], appointment.hold_expires_at)


def reassign_future(session: Session, mediator_id: int, actor: User | None, now: datetime,
                    workdays: object, tz: object, candidate_ids: list[int] | None = None) -> ReassignResult:
    if actor is not None and not actor.sees_all_cases:
        raise Forbidden("only a coordinator can reassign a mediator's appointments")
    old = session.get(Mediator, mediator_id)
    if old is None:
        raise InvalidInput("mediator_id", "no such mediator")
    pool = list(session.scalars(select(Mediator).where(Mediator.active, Mediator.id != mediator_id)
                                .order_by(Mediator.id)))
    if candidate_ids is not None:
        unknown = set(candidate_ids) - {m.id for m in pool}
        if unknown:
            raise InvalidInput("to_mediator_ids", f"not an active other mediator: {sorted(unknown)}")
        pool = [m for m in pool if m.id in candidate_ids]
    lock_resources(session, [old.id, *(m.id for m in pool)], [])
    clear_expired_holds(session, [old.id, *(m.id for m in pool)], [], now)
    appointment_ids = session.scalars(
        select(Appointment.id).join(appointment_mediators)
        .where(appointment_mediators.c.mediator_id == old.id, Appointment.status.in_(("held", "confirmed")),
               Appointment.start > now).order_by(Appointment.start)).all()
    result = ReassignResult()
    for appointment_id in appointment_ids:
        appointment = session.get(Appointment, appointment_id, with_for_update=True)
        assert appointment is not None
        on_case = set(session.scalars(select(case_mediators.c.mediator_id)
                                      .where(case_mediators.c.case_id == appointment.case_id)))
        present = {m.id for m in appointment.mediators}
        ordered = sorted((m for m in pool if m.id not in present), key=lambda m: (m.id not in on_case, m.id))
        target = next((m for m in ordered if _fits(session, m, appointment, now, workdays, tz)), None)
        if target is None:
            result.unmovable.append(appointment.id)
            continue
        _move(session, appointment, old, target)
        result.moved.append((appointment.id, target.id))
        audit.record(session, actor.id if actor else None, "appointment.reassigned", "appointment", appointment.id)
        if appointment.status == "confirmed":
            publish(session, events.AppointmentReassigned(appointment.id, appointment.version, old.id, target.id,
                                                          actor.id if actor else None))
    return result
