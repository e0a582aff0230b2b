"""Appointments (book, hold, confirm, reschedule, cancel), availability and reassignment.

Booking itself lives in scheduler.booking; a refusal there is a 409 naming the
mediator or room that is taken, never the case that holds it. A mediator
books for their own cases; a coordinator books on any mediator's behalf.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, g, url_for
from pydantic import MISSING
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.api import registry, respond
from core.db import utcnow
from core.problems import InvalidInput, NotFound
from core.runtime import current, db_session
from scheduler import booking
from scheduler.changes import KEEP, AppointmentChange
from scheduler.policy import BookingPolicy, policy_of
from scheduler.access import appointment_for, case_for, visible_appointments
from scheduler.api import OFFICE, STAFF, api_bp, writing
from scheduler.models import Appointment, Mediator, appointment_mediators
from scheduler.reassign import reassign_future
from scheduler.rules import BookingRequest
from scheduler.schemas_appointments import (AppointmentCreate, AppointmentList, AppointmentOut, AppointmentQuery,
                                            Availability, AvailabilityQuery, Cancel, Moved, ReassignFuture,
                                            ReassignResultOut, Reschedule, SlotOut, TaskMoved)
from scheduler.search import find_available_slots

route = registry.route


def _policy() -> BookingPolicy:
    runtime = current()
    return policy_of(runtime.settings, runtime.workdays)


@route(api_bp, "GET", "/appointments", summary="List appointments of the cases you may see", tag="appointments",
       roles=STAFF, query=AppointmentQuery, response=AppointmentList)
def list_appointments(query: AppointmentQuery) -> Response:
    session = db_session()
    stmt = visible_appointments(session, g.user).order_by(Appointment.id)
    if query.case_id is not None:
        stmt = stmt.where(Appointment.case_id == query.case_id)
    if query.mediator_id is not None:
        stmt = stmt.where(Appointment.id.in_(select(appointment_mediators.c.appointment_id)
                                             .where(appointment_mediators.c.mediator_id == query.mediator_id)))
    if query.status is not None:
        stmt = stmt.where(Appointment.status == query.status)
    if query.from_ is not None:
        stmt = stmt.where(Appointment.end > query.from_)
    if query.to is not None:
        stmt = stmt.where(Appointment.start < query.to)
    rows = session.scalars(stmt.limit(query.limit))
    return respond(AppointmentList(appointments=[AppointmentOut.of(a) for a in rows]))


@route(api_bp, "GET", "/appointments/<int:appointment_id>", summary="Get an appointment", tag="appointments",
       roles=STAFF, response=AppointmentOut)
def get_appointment(appointment_id: int) -> Response:
    return respond(AppointmentOut.of(appointment_for(db_session(), g.user, appointment_id)))


def _visible_case(session: Session, actor: Any, case_id: int) -> None:
    """A case id in a body: unknown or out of sight is a field error, worded the same either way."""
    try:
        case_for(session, actor, case_id)
    except NotFound:
        raise InvalidInput("case_id", f"no case with id {case_id}") from None


@route(api_bp, "POST", "/appointments", summary="Book (or hold) an appointment", tag="appointments",
       roles=STAFF, body=AppointmentCreate, response=AppointmentOut, status=201, errors=(403, 409))
def create_appointment(body: AppointmentCreate) -> Response:
    """`status: "held"` keeps the slot out of others' searches for a few minutes until confirmed.
    409 when a mediator, the room or a participant is not free; the problem's `conflicts` names which.
    422 outside the office's calendar (working days, the mediators' hours, the minimum notice) unless a
    coordinator gives an `outside_hours` reason; an in-person joint meeting needs a room with a separate
    waiting area and arrivals at least ARRIVAL_GAP_MINUTES apart."""
    request = BookingRequest(case_id=body.case_id, kind=body.kind, mode=body.mode, start=body.start, end=body.end,
                             mediator_ids=tuple(body.mediator_ids), room_id=body.room_id,
                             participant_ids=tuple(body.participant_ids), arrivals=dict(body.arrivals),
                             waiting_area_override=body.waiting_area_override,
                             waiting_area_reason=body.waiting_area_reason, outside_hours=body.outside_hours,
                             busy_time=body.busy_time, video_url=body.video_url)
    hold_for = current().hold_duration if body.status == "held" else None
    with writing() as (session, actor):
        _visible_case(session, actor, body.case_id)
        out = AppointmentOut.of(booking.book(session, request, actor, utcnow(), policy=_policy(), hold_for=hold_for))
    return respond(out, 201, {"Location": url_for(".get_appointment", appointment_id=out.id)})


@route(api_bp, "POST", "/appointments/<int:appointment_id>/confirm", summary="Confirm a held appointment",
       tag="appointments", roles=STAFF, response=AppointmentOut, errors=(409,))
def confirm_appointment(appointment_id: int) -> Response:
    """Checks again that everyone is free (imported calendars too); 409 if the hold ran out or was taken."""
    with writing() as (session, actor):
        appointment_for(session, actor, appointment_id)
        out = AppointmentOut.of(booking.confirm(session, appointment_id, actor, utcnow()))
    return respond(out)


@route(api_bp, "POST", "/appointments/<int:appointment_id>/reschedule", summary="Move an appointment",
       tag="appointments", roles=STAFF, body=Reschedule, response=AppointmentOut, errors=(403, 409))
def reschedule_appointment(appointment_id: int, body: Reschedule) -> Response:
    """Atomic, and under the same rules as a booking: the old version stays unless the new one passes
    them all and is free. Fields left out stay as they are; arrivals left out move with the appointment."""
    given = {name: (KEEP if value is MISSING else value) for name, value in (
        ("mode", body.mode), ("room_id", body.room_id), ("waiting_area_override", body.waiting_area_override),
        ("waiting_area_reason", body.waiting_area_reason), ("video_url", body.video_url))}
    change = AppointmentChange(
        start=body.start, end=body.end,
        mediator_ids=KEEP if body.mediator_ids is MISSING else tuple(body.mediator_ids),
        participant_ids=KEEP if body.participant_ids is MISSING else tuple(body.participant_ids),
        arrivals=KEEP if body.arrivals is MISSING else dict(body.arrivals), outside_hours=body.outside_hours,
        busy_time=body.busy_time, **given)
    with writing() as (session, actor):
        appointment_for(session, actor, appointment_id)
        moved = booking.reschedule(session, appointment_id, change, actor, utcnow(), policy=_policy())
        out = AppointmentOut.of(moved)
    return respond(out)


@route(api_bp, "POST", "/appointments/<int:appointment_id>/cancel", summary="Cancel an appointment",
       tag="appointments", roles=STAFF, body=Cancel, response=AppointmentOut)
def cancel_appointment(appointment_id: int, body: Cancel) -> Response:
    """Frees the time at once. Cancelling twice is harmless. The body may be left out."""
    with writing() as (session, actor):
        appointment_for(session, actor, appointment_id)
        out = AppointmentOut.of(booking.cancel(session, appointment_id, actor, utcnow(), reason=body.reason))
    return respond(out)


@route(api_bp, "GET", "/availability", summary="Free slots", tag="availability", roles=STAFF,
       query=AvailabilityQuery, response=Availability)
def availability(query: AvailabilityQuery) -> Response:
    """Joint free time of one or two mediators within working hours and working days, with a given room,
    any suitable room at a location, or no room (phone, video, home visit)."""
    session = db_session()
    runtime = current()
    slots = find_available_slots(
        session, g.user, mediator_ids=list(query.mediator_ids), room_id=query.room_id,
        location_id=query.location_id, duration=timedelta(minutes=query.duration_minutes), start=query.from_,
        end=query.to, now=utcnow(), workdays=runtime.workdays, tz=runtime.settings.tz,
        grid=timedelta(minutes=runtime.settings.slot_grid_minutes),
        min_notice=timedelta(minutes=runtime.settings.min_notice_minutes), limit=query.limit)
    return respond(Availability(slots=[SlotOut(start=s.start, end=s.end, room_id=s.room_id) for s in slots]))


@route(api_bp, "POST", "/mediators/<int:mediator_id>/reassign-future", summary="Move a mediator's future "
       "appointments", tag="mediators", roles=OFFICE, body=ReassignFuture, response=ReassignResultOut)
def reassign_mediator(mediator_id: int, body: ReassignFuture) -> Response:
    """For a mediator who falls ill, from `from` through `to`: each of their appointments in that range
    moves to a free mediator (those on the case first) under the same rules as a booking; `unmovable`
    lists the ones nobody could take. Their open tasks on those cases move along."""
    with writing() as (session, actor):
        if session.get(Mediator, mediator_id) is None:
            raise NotFound(f"mediator {mediator_id} not found")
        result = reassign_future(session, mediator_id, actor, utcnow(), policy=_policy(), first_day=body.from_,
                                 last_day=body.to, candidate_ids=body.to_mediator_ids)
        out = ReassignResultOut(moved=[Moved(appointment_id=a, mediator_id=m) for a, m in result.moved],
                                unmovable=list(result.unmovable),
                                tasks_moved=[TaskMoved(task_id=t, mediator_id=m) for t, m in result.tasks_moved])
    return respond(out)
