"""Booking: hold, confirm, reschedule, cancel — each one transaction.

Call these inside `Database.write_session()`. Booking and reschedule (and
reassignment, in scheduler.reassign) run the one set of rules in
scheduler.booking_checks with the office's `BookingPolicy`. Every path locks
the mediators and rooms it touches in a fixed order, clears expired holds on
them, checks what is taken (reservations of mediators, rooms and participants,
and imported busy blocks, unless a coordinator books over a mediator's with a
reason), then writes reservations that the PostgreSQL exclusion constraints
guard once more. A refusal is a 409 that names the mediator, room or
participant, never another case.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import Row, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.events import publish
from core.models import User
from core.problems import Conflict, InvalidInput
from scheduler import events
from scheduler.booking_checks import CheckedBooking, load_and_check
from scheduler.changes import AppointmentChange, Shape
from scheduler.conflicts import RESOURCE_KINDS, Resource, Span, conflicting_resources, needed_spans
from scheduler.locking import clear_expired_holds, lock_resources, taken_spans
from scheduler.models import Appointment, Attendance, Mediator, Participant, Reservation, Room, appointment_mediators
from scheduler.participant_models import OfferSlot
from scheduler.policy import BookingPolicy
from scheduler.rules import BookingRequest


class BookingConflict(Conflict):
    def __init__(self, conflicts: list[dict[str, object]]) -> None:
        names = ", ".join(f"{c['type']} {c['name']}" for c in conflicts)
        super().__init__(f"not free at that time: {names}", conflicts=conflicts)


def _describe(session: Session, resources: list[Resource]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for r in resources:
        model = {"mediator": Mediator, "room": Room, "participant": Participant}[r.kind]
        row = session.get(model, r.id)
        out.append({"type": r.kind, "id": r.id, "name": row.name if row else str(r.id)})
    return out


def _ensure_free(session: Session, spans: list[Span], now: datetime, exclude: int | None = None,
                 mediator_busy: bool = True) -> None:
    ids = {kind: [s.resource.id for s in spans if s.resource.kind == kind] for kind in RESOURCE_KINDS}
    lock_resources(session, ids["mediator"], ids["room"])
    clear_expired_holds(session, ids["mediator"], ids["room"], now, ids["participant"])
    start = min(s.start for s in spans)
    end = max(s.end for s in spans)
    taken = taken_spans(session, ids["mediator"], ids["room"], start, end, now, exclude_appointment_id=exclude,
                        participant_ids=ids["participant"], mediator_busy=mediator_busy)
    clashes = conflicting_resources(spans, taken)
    if clashes:
        raise BookingConflict(_describe(session, clashes))


def write_reservations(session: Session, appointment: Appointment, spans: list[Span],
                        expires_at: datetime | None) -> None:
    try:
        # In a savepoint, so that after a refusal the transaction can still name what was taken.
        with session.begin_nested():
            for span in spans:
                ids = {f"{kind}_id": span.resource.id if span.resource.kind == kind else None
                       for kind in RESOURCE_KINDS}
                session.add(Reservation(appointment_id=appointment.id, starts_at=span.start, ends_at=span.end,
                                        live=True, expires_at=expires_at, **ids))
    except IntegrityError as exc:
        # The database caught an overlap our own check could not see (a concurrent booking of the same
        # participant through other mediators, which no row lock serialises): the constraint has the last word.
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", "") or ""
        if not constraint.startswith("ex_reservations_"):
            raise
        kind = next(k for k in RESOURCE_KINDS if f"_{k}_id_" in constraint)
        raise BookingConflict(_describe(session, [s.resource for s in spans if s.resource.kind == kind])) from None


def _spans(mediators: Iterable[Mediator], start: datetime, end: datetime, room_id: int | None,
           participant_ids: Iterable[int]) -> list[Span]:
    return needed_spans(start, end, {m.id: m.buffer_minutes for m in mediators}, room_id, tuple(participant_ids))


def _record_overrides(session: Session, actor: User | None, appointment: Appointment,
                      overrides: dict[str, str]) -> None:
    appointment.waiting_area_reason = overrides.get("waiting_area")
    appointment.waiting_area_override = "waiting_area" in overrides
    appointment.outside_hours_reason = overrides.get("outside_hours")
    appointment.busy_time_reason = overrides.get("busy_time")
    for rule, reason in sorted(overrides.items()):
        audit.record(session, actor.id if actor else None, f"appointment.override.{rule}", "appointment",
                     appointment.id, reason)


def book(session: Session, req: BookingRequest, actor: User | None, now: datetime, *, policy: BookingPolicy,
         hold_for: timedelta | None = None) -> Appointment:
    """Create an appointment: confirmed at once, or held for `hold_for` while a mediator fills it in."""
    checked = load_and_check(session, req, actor, now, policy)
    spans = _spans(checked.mediators, req.start, req.end, req.room_id, req.participant_ids)
    _ensure_free(session, spans, now, mediator_busy="busy_time" not in checked.overrides)
    held = hold_for is not None
    appointment = Appointment(
        case_id=req.case_id, kind=req.kind, mode=req.mode, start=req.start, end=req.end,
        status="held" if held else "confirmed", room_id=req.room_id,
        hold_expires_at=now + hold_for if hold_for is not None else None, version=1, video_url=req.video_url,
        created_by_id=actor.id if actor else None, mediators=list(checked.mediators),
        attendances=[Attendance(participant_id=pid, arrival=req.arrivals.get(pid),
                                departure=checked.departures.get(pid)) for pid in req.participant_ids])
    session.add(appointment)
    session.flush()
    write_reservations(session, appointment, spans, appointment.hold_expires_at)
    audit.record(session, actor.id if actor else None, "appointment.held" if held else "appointment.booked",
                 "appointment", appointment.id)
    _record_overrides(session, actor, appointment, checked.overrides)
    if not held:
        publish(session, events.AppointmentConfirmed(appointment.id, appointment.version, actor.id if actor else None))
    return appointment


def _lock_appointment(session: Session, appointment_id: int) -> Appointment:
    appointment = session.get(Appointment, appointment_id, with_for_update=True, populate_existing=True)
    if appointment is None:
        raise InvalidInput("appointment_id", "no such appointment")
    return appointment


def _refuse_expired_hold(appointment: Appointment | Row[Any], now: datetime) -> None:
    # An expired hold is released by the next booking on its resources; it must not come back to life.
    if appointment.status == "held" and appointment.hold_expires_at is not None and appointment.hold_expires_at <= now:
        raise Conflict(f"the hold on appointment {appointment.id} has expired; search again")


# What confirming a hold reads of it, under its row lock: plain columns, no ORM object to load and flush.
_HOLD = select(Appointment.id, Appointment.status, Appointment.hold_expires_at, Appointment.start, Appointment.end,
               Appointment.room_id, Appointment.busy_time_reason, Appointment.version)
_BUFFERS = select(appointment_mediators.c.appointment_id, Mediator.id, Mediator.buffer_minutes).join(
    appointment_mediators, appointment_mediators.c.mediator_id == Mediator.id)


def mediator_buffers(session: Session, appointment_ids: Iterable[int]) -> dict[int, dict[int, int]]:
    """Each appointment's mediators with their buffers ({appointment: {mediator: minutes}}), in one query:
    what `needed_spans` wants, without loading the mediators."""
    out: dict[int, dict[int, int]] = {i: {} for i in appointment_ids}
    for appointment_id, mediator_id, buffer in session.execute(
            _BUFFERS.where(appointment_mediators.c.appointment_id.in_(list(out)))):
        out[appointment_id][mediator_id] = buffer
    return out


def confirm(session: Session, appointment_id: int, actor: User | None, now: datetime,
            offered: bool = False) -> Appointment:
    """Turn a hold into a booking, checking again everything it relies on (imported busy time too).

    The office's rules were checked when the hold was made, a few minutes ago, on the same data. A time
    offered to a participant is confirmed only by choosing it (scheduler.offers.choose, `offered=True`),
    which releases the offer's other times: confirming it on its own would leave them held."""
    hold = session.execute(_HOLD.where(Appointment.id == appointment_id).with_for_update()).first()
    if hold is None:
        raise InvalidInput("appointment_id", "no such appointment")
    if hold.status != "held":
        raise Conflict(f"appointment {appointment_id} is {hold.status}, not held")
    if not offered and session.get(OfferSlot, appointment_id) is not None:
        raise Conflict(f"appointment {appointment_id} is a time offered to the participant: book it from the "
                       "case's offered times")
    _refuse_expired_hold(hold, now)
    buffers = mediator_buffers(session, [appointment_id])[appointment_id]
    people = tuple(session.scalars(select(Attendance.participant_id).where(Attendance.appointment_id == appointment_id)
                                   .order_by(Attendance.participant_id)))
    spans = needed_spans(hold.start, hold.end, buffers, hold.room_id, people)
    _ensure_free(session, spans, now, exclude=appointment_id, mediator_busy=hold.busy_time_reason is None)
    session.execute(update(Reservation).where(Reservation.appointment_id == appointment_id, Reservation.live)
                    .values(expires_at=None))
    session.execute(update(Appointment).where(Appointment.id == appointment_id)
                    .values(status="confirmed", hold_expires_at=None, updated_at=now))
    audit.record(session, actor.id if actor else None, "appointment.confirmed", "appointment", appointment_id)
    publish(session, events.AppointmentConfirmed(appointment_id, hold.version, actor.id if actor else None))
    return session.get(Appointment, appointment_id)  # type: ignore[return-value]  # the session's copy, updated

def reschedule(session: Session, appointment_id: int, change: AppointmentChange, actor: User | None,
               now: datetime, *, policy: BookingPolicy) -> Appointment:
    """Move or reshape an appointment atomically, under the same checks as a booking.

    The old time stays booked unless the new one passes every rule and is free. Each participant who
    stays gets one "changed" message; one who is added is told as at a booking, one who is taken off as
    at a cancellation (the event says who)."""
    appointment = _lock_appointment(session, appointment_id)
    if not appointment.live:
        raise Conflict(f"appointment {appointment_id} is {appointment.status} and cannot be moved")
    _refuse_expired_hold(appointment, now)
    draft = change.applied_to(appointment)
    checked = load_and_check(session, draft, actor, now, policy)
    spans = _spans(checked.mediators, draft.start, draft.end, draft.room_id, draft.participant_ids)
    _ensure_free(session, spans, now, exclude=appointment.id, mediator_busy="busy_time" not in checked.overrides)
    session.execute(update(Reservation).where(Reservation.appointment_id == appointment.id, Reservation.live)
                    .values(live=False))
    before = Shape.of(appointment)
    _apply(appointment, draft, checked)
    write_reservations(session, appointment, spans, appointment.hold_expires_at)
    audit.record(session, actor.id if actor else None, "appointment.rescheduled", "appointment", appointment.id,
                 before.changes_to(appointment))
    _record_overrides(session, actor, appointment, checked.overrides)
    if appointment.status == "confirmed":
        publish(session, before.event(appointment, actor.id if actor else None))
    return appointment


def _apply(appointment: Appointment, draft: BookingRequest, checked: CheckedBooking) -> None:
    keep = {a.participant_id: a for a in appointment.attendances if a.participant_id in draft.participant_ids}
    for attendance in keep.values():
        # A reply ("I'll come") was about the old time.
        attendance.response = attendance.responded_at = None
        attendance.arrival = draft.arrivals.get(attendance.participant_id)
        attendance.departure = checked.departures.get(attendance.participant_id)
    appointment.attendances = [keep.get(pid) or Attendance(participant_id=pid, arrival=draft.arrivals.get(pid),
                                                           departure=checked.departures.get(pid))
                               for pid in draft.participant_ids]
    appointment.start, appointment.end, appointment.mode = draft.start, draft.end, draft.mode
    appointment.room_id = draft.room_id
    appointment.video_url = draft.video_url
    appointment.mediators = list(checked.mediators)
    appointment.version += 1


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



def release_holds(session: Session, appointment_ids: Iterable[int], actor: User | None, now: datetime,
                  reason: str) -> list[int]:
    """Cancel these appointments that are still held, in three statements however many (an offer's other
    times once one is chosen). A hold was never confirmed, so nobody is told: no event, as `cancel`."""
    ids = sorted(set(appointment_ids))
    if not ids:
        return []
    held = list(session.scalars(select(Appointment.id).where(Appointment.id.in_(ids), Appointment.status == "held")
                                .order_by(Appointment.id).with_for_update()))
    if not held:
        return []
    session.execute(update(Reservation).where(Reservation.appointment_id.in_(held), Reservation.live)
                    .values(live=False))
    session.execute(update(Appointment).where(Appointment.id.in_(held))
                    .values(status="cancelled", cancel_reason=reason, version=Appointment.version + 1, updated_at=now))
    for appointment_id in held:
        audit.record(session, actor.id if actor else None, "appointment.cancelled", "appointment", appointment_id,
                     reason)
    return held
