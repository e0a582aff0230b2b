"""Booking: hold, confirm, reschedule, cancel — each one transaction.

Call these inside `Database.write_session()`. Every path locks the resources
it touches in a fixed order, clears expired holds on them, checks what is
taken (reservations and imported busy blocks), then writes reservations that
the PostgreSQL exclusion constraints guard once more. A refusal is a 409 that
names the mediator or room, never another case.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.events import publish
from core.models import User
from core.problems import Conflict, InvalidInput
from scheduler import events
from scheduler.booking_checks import load_and_check
from scheduler.conflicts import Resource, Span, conflicting_resources, needed_spans
from scheduler.locking import clear_expired_holds, lock_resources, taken_spans
from scheduler.models import Appointment, Attendance, Mediator, Reservation, Room
from scheduler.rules import BookingRequest, check_times


class BookingConflict(Conflict):
    def __init__(self, conflicts: list[dict[str, object]]) -> None:
        names = ", ".join(f"{c['type']} {c['name']}" for c in conflicts)
        super().__init__(f"not free at that time: {names}", conflicts=conflicts)


def _describe(session: Session, resources: list[Resource]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for r in resources:
        model = Mediator if r.kind == "mediator" else Room
        row = session.get(model, r.id)
        out.append({"type": r.kind, "id": r.id, "name": row.name if row else str(r.id)})
    return out


def _ensure_free(session: Session, spans: list[Span], now: datetime, exclude: int | None = None) -> None:
    mediator_ids = [s.resource.id for s in spans if s.resource.kind == "mediator"]
    room_ids = [s.resource.id for s in spans if s.resource.kind == "room"]
    lock_resources(session, mediator_ids, room_ids)
    clear_expired_holds(session, mediator_ids, room_ids, now)
    start = min(s.start for s in spans)
    end = max(s.end for s in spans)
    taken = taken_spans(session, mediator_ids, room_ids, start, end, now, exclude_appointment_id=exclude)
    clashes = conflicting_resources(spans, taken)
    if clashes:
        raise BookingConflict(_describe(session, clashes))


def write_reservations(session: Session, appointment: Appointment, spans: list[Span],
                        expires_at: datetime | None) -> None:
    for span in spans:
        session.add(Reservation(
            appointment_id=appointment.id,
            mediator_id=span.resource.id if span.resource.kind == "mediator" else None,
            room_id=span.resource.id if span.resource.kind == "room" else None,
            starts_at=span.start, ends_at=span.end, live=True, expires_at=expires_at))
    try:
        session.flush()
    except IntegrityError as exc:
        # The database caught an overlap our own check could not see (should not
        # happen under the locks, but the constraint is the last word).
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", "") or ""
        if not constraint.startswith("ex_reservations_"):
            raise
        kind = "room" if "room_id" in constraint else "mediator"
        raise BookingConflict(_describe(session, [s.resource for s in spans if s.resource.kind == kind])) from None


def _spans_for(session: Session, appointment: Appointment, start: datetime, end: datetime,
               room_id: int | None) -> list[Span]:
    buffers = {m.id: m.buffer_minutes for m in appointment.mediators}
    return needed_spans(start, end, buffers, room_id)


def book(session: Session, req: BookingRequest, actor: User | None, now: datetime,
         hold_for: timedelta | None = None) -> Appointment:
    """Create an appointment: confirmed at once, or held for `hold_for` while a mediator fills it in."""
    checked = load_and_check(session, req, actor, now)
    spans = needed_spans(req.start, req.end, {m.id: m.buffer_minutes for m in checked.mediators}, req.room_id)
    _ensure_free(session, spans, now)
    held = hold_for is not None
    appointment = Appointment(
        case_id=req.case_id, kind=req.kind, mode=req.mode, start=req.start, end=req.end,
        status="held" if held else "confirmed", room_id=req.room_id,
        hold_expires_at=now + hold_for if hold_for is not None else None,
        waiting_area_override=req.waiting_area_override, version=1,
        created_by_id=actor.id if actor else None, mediators=list(checked.mediators),
        attendances=[Attendance(participant_id=pid, arrival=req.arrivals.get(pid)) for pid in req.participant_ids])
    session.add(appointment)
    session.flush()
    write_reservations(session, appointment, spans, appointment.hold_expires_at)
    audit.record(session, actor.id if actor else None, "appointment.held" if held else "appointment.booked",
                 "appointment", appointment.id)
    if not held:
        publish(session, events.AppointmentConfirmed(appointment.id, appointment.version, actor.id if actor else None))
    return appointment


def _lock_appointment(session: Session, appointment_id: int) -> Appointment:
    appointment = session.get(Appointment, appointment_id, with_for_update=True, populate_existing=True)
    if appointment is None:
        raise InvalidInput("appointment_id", "no such appointment")
    return appointment


def _refuse_expired_hold(appointment: Appointment, now: datetime) -> None:
    # An expired hold is released by the next booking on its resources; it must not come back to life.
    if appointment.status == "held" and appointment.hold_expires_at is not None and appointment.hold_expires_at <= now:
        raise Conflict(f"the hold on appointment {appointment.id} has expired; search again")


def confirm(session: Session, appointment_id: int, actor: User | None, now: datetime) -> Appointment:
    """Turn a hold into a booking, checking again everything it relies on (imported busy time too)."""
    appointment = _lock_appointment(session, appointment_id)
    if appointment.status != "held":
        raise Conflict(f"appointment {appointment_id} is {appointment.status}, not held")
    _refuse_expired_hold(appointment, now)
    spans = _spans_for(session, appointment, appointment.start, appointment.end, appointment.room_id)
    _ensure_free(session, spans, now, exclude=appointment.id)
    session.execute(update(Reservation).where(Reservation.appointment_id == appointment.id, Reservation.live)
                    .values(expires_at=None))
    appointment.status = "confirmed"
    appointment.hold_expires_at = None
    session.flush()
    audit.record(session, actor.id if actor else None, "appointment.confirmed", "appointment", appointment.id)
    publish(session, events.AppointmentConfirmed(appointment.id, appointment.version, actor.id if actor else None))
    return appointment


_UNCHANGED = object()


def reschedule(session: Session, appointment_id: int, start: datetime, end: datetime, actor: User | None,
               now: datetime, room_id: int | None | object = _UNCHANGED) -> Appointment:
    """Move an appointment atomically: the old time stays booked unless the new one succeeds."""
    check_times(start, end, now)
    appointment = _lock_appointment(session, appointment_id)
    if not appointment.live:
        raise Conflict(f"appointment {appointment_id} is {appointment.status} and cannot be moved")
    _refuse_expired_hold(appointment, now)
    new_room = appointment.room_id if room_id is _UNCHANGED else room_id
    if new_room != appointment.room_id:
        if appointment.mode != "in_person" and new_room is not None:
            raise InvalidInput("room_id", f"a {appointment.mode} appointment takes no room")
        if appointment.mode == "in_person" and new_room is None:
            raise InvalidInput("room_id", "an in-person appointment needs a room")
        room = session.get(Room, new_room) if new_room is not None else None
        if new_room is not None and (room is None or not room.active):
            raise InvalidInput("room_id", "no such active room")
    spans = _spans_for(session, appointment, start, end, new_room)  # type: ignore[arg-type]
    delta = start - appointment.start
    for attendance in appointment.attendances:
        # A staggered arrival keeps its distance from the start; a reply ("I'll come") was about the old time.
        attendance.response = attendance.responded_at = None
        if attendance.arrival is not None:
            moved = attendance.arrival + delta
            attendance.arrival = moved if start <= moved < end else start
    _ensure_free(session, spans, now, exclude=appointment.id)
    session.execute(update(Reservation).where(Reservation.appointment_id == appointment.id, Reservation.live)
                    .values(live=False))
    previous = (appointment.start, appointment.end)
    appointment.start, appointment.end, appointment.room_id = start, end, new_room  # type: ignore[assignment]
    appointment.version += 1
    write_reservations(session, appointment, spans, appointment.hold_expires_at)
    audit.record(session, actor.id if actor else None, "appointment.rescheduled", "appointment", appointment.id)
    if appointment.status == "confirmed":
        publish(session, events.AppointmentRescheduled(appointment.id, appointment.version, previous[0],
                                                       previous[1], actor.id if actor else None))
    return appointment


def cancel(session: Session, appointment_id: int, actor: User | None, now: datetime, reason: str = "cancelled",
           silent_participant_ids: tuple[int, ...] = ()) -> Appointment:
    """Cancel and free the time at once. Cancelling twice is harmless."""
    appointment = _lock_appointment(session, appointment_id)
    if not appointment.live:
        return appointment
    was_confirmed = appointment.status == "confirmed"
    session.execute(update(Reservation).where(Reservation.appointment_id == appointment.id, Reservation.live)
                    .values(live=False))
    appointment.status = "cancelled"
    appointment.cancel_reason = reason
    appointment.version += 1
    session.flush()
    audit.record(session, actor.id if actor else None, "appointment.cancelled", "appointment", appointment.id, reason)
    if was_confirmed:
        publish(session, events.AppointmentCancelled(appointment.id, appointment.version, reason,
                                                     actor.id if actor else None, silent_participant_ids))
    return appointment

