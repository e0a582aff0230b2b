"""The desk's appointment pages, on the desk_booking blueprint: the held slot (confirm or go back), an
appointment's page, reschedule through the same picker, cancel with a reason.

A confirmation books the held slot (booking.confirm), "back" releases it; a
reschedule is booking.reschedule and a cancellation booking.cancel, each in one
transaction (scheduler.api.writing), so a refusal changes nothing. A mediator
sees only their own cases' appointments: anything else is the same 404 as an
unknown id (scheduler.access). The endpoints stay `desk_booking.*`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from core.auth import login_required
from core.db import utcnow
from core.navigation import safe_next
from core.problems import NotFound, Problem
from core.runtime import current, db_session
from core.web import label
from scheduler import booking, casework
from scheduler.access import appointment_for, case_for
from scheduler.api import writing
from scheduler.changes import KEEP, AppointmentChange
from scheduler.desk_booking import desk_booking
from scheduler.desk_booking_forms import CancelForm, SlotSearchForm
from scheduler.desk_picker import (Render, SlotChoice, _asks_override, _case_url, _first_url, _has, _later_url,
                                   _not_found, _office_only, _page, _policy, _set_place_choices, picker_request,
                                   refusal_sentence, refused, search_slots, slot_days)
from scheduler.models import LIVE_STATUSES, Appointment, Case, Mediator, Room, appointment_mediators
from scheduler.participant_models import OfferSlot


# --- the held slot: confirm or go back -----------------------------------------------------------

def _back_url(value: str | None, case_id: int) -> str:
    target = value if value and value.startswith(f"/cases/{case_id}/") else None
    return safe_next(target) if target else url_for(".plan_intake", case_id=case_id)


@desk_booking.get("/appointments/<int:appointment_id>/held")
@login_required
def held(appointment_id: int) -> Any:
    session = db_session()
    try:
        appointment = appointment_for(session, g.user, appointment_id)
    except NotFound:
        return _not_found()
    if appointment.status != "held":
        return redirect(url_for(".appointment", appointment_id=appointment.id), 303)
    return _page("held.html", appointment=appointment, details=_details(session, appointment),
                 expired=appointment.hold_expires_at is not None and appointment.hold_expires_at <= utcnow(),
                 back=_back_url(request.args.get("back"), appointment.case_id),
                 joined=request.args.get("joined", ""))


@desk_booking.post("/appointments/<int:appointment_id>/confirm")
@login_required
def confirm(appointment_id: int) -> Any:
    try:
        with writing() as (write, actor):
            appointment = appointment_for(write, actor, appointment_id)
            case_id = appointment.case_id
            if write.get(OfferSlot, appointment_id) is not None:  # offered: booked by choosing it, not here
                flash(_("This time is offered to the participant: book it under the case's offered times."),
                      "warning")
                return redirect(url_for("desk_cases.show", case_id=case_id, _anchor="offers"), 303)
            booking.confirm(write, appointment_id, actor, utcnow())
    except NotFound:
        return _not_found()
    except Problem as exc:
        status = db_session().scalar(select(Appointment.status).where(Appointment.id == appointment_id))
        if status == "confirmed":  # confirmed already (a second click): nothing to say
            return redirect(url_for(".appointment", appointment_id=appointment_id), 303)
        # The hold ran out, or imported busy time arrived: release what is left of it, then fresh slots.
        _release(appointment_id, request.form.get("joined", ""))
        flash(refusal_sentence(exc), "warning")
        return redirect(_back_url(request.form.get("back"), case_id), 303)
    flash(_("The appointment is booked. The participant's confirmation is on its way."), "success")
    return redirect(url_for(".appointment", appointment_id=appointment_id), 303)


@desk_booking.post("/appointments/<int:appointment_id>/release")
@login_required
def release(appointment_id: int) -> Any:
    try:
        case_id = appointment_for(db_session(), g.user, appointment_id).case_id
    except NotFound:
        return _not_found()
    _release(appointment_id, request.form.get("joined", ""))
    return redirect(_back_url(request.form.get("back"), case_id), 303)


def _release(appointment_id: int, joined: str) -> None:
    """Cancel a hold that is still a hold (never a booking), and take a mediator who joined the case for
    it off again if nothing else of theirs is planned there."""
    now = utcnow()
    try:
        with writing() as (write, actor):
            appointment = appointment_for(write, actor, appointment_id)
            locked = write.get(Appointment, appointment.id, with_for_update=True, populate_existing=True)
            if locked is None or locked.status != "held":
                return
            booking.cancel(write, appointment.id, actor, now, reason="cancelled")
            mediators = {m.id for m in locked.mediators}
            leaving = [int(m) for m in joined.split(",") if m.isdigit() and int(m) in mediators]
            if leaving and actor.sees_all_cases:
                _leave_case(write, actor, locked.case_id, leaving, now)
    except Problem:
        return


def _leave_case(session: Session, actor: Any, case_id: int, leaving: list[int], now: datetime) -> None:
    planned = set(session.scalars(select(appointment_mediators.c.mediator_id).join(Appointment).where(
        Appointment.case_id == case_id, Appointment.status.in_(LIVE_STATUSES),
        appointment_mediators.c.mediator_id.in_(leaving))))
    keep = [m.id for m in case_for(session, actor, case_id).mediators if m.id not in set(leaving) - planned]
    casework.update_case(session, actor, case_id, {"mediator_ids": keep}, now)


# --- an appointment ------------------------------------------------------------------------------

@dataclass(frozen=True)
class AppointmentDetails:
    case: Case
    mediators: list[Mediator]
    room: Room | None
    video_link: str | None
    video_link_is_standing: bool
    overrides: list[tuple[str, str]]  # (what, reason code)
    region: str | None


def _details(session: Session, appointment: Appointment) -> AppointmentDetails:
    room = session.get(Room, appointment.room_id) if appointment.room_id is not None else None
    standing = next((m.video_url for m in appointment.mediators if m.video_url), None)
    link = appointment.video_url or standing if appointment.mode == "video" else None
    overrides = [(what, reason) for what, reason in (
        ("outside_hours", appointment.outside_hours_reason), ("busy_time", appointment.busy_time_reason),
        ("waiting_area", appointment.waiting_area_reason if appointment.waiting_area_override else None))
        if reason]
    case = appointment.case
    return AppointmentDetails(case, list(appointment.mediators), room, link,
                              link is not None and not appointment.video_url, overrides,
                              case.region.name if case.region else None)


@desk_booking.get("/appointments/<int:appointment_id>")
@login_required
def appointment(appointment_id: int) -> Any:
    session = db_session()
    try:
        row = appointment_for(session, g.user, appointment_id)
    except NotFound:
        return _not_found()
    return _page("appointment.html", appointment=row, details=_details(session, row), now=utcnow(),
                 case_url=_case_url(row.case_id),
                 messages_url=url_for("desk_messages.appointment", appointment_id=row.id)
                 if _has("desk_messages.appointment") else None)


# --- reschedule ----------------------------------------------------------------------------------

def _reschedule_form(session: Session, row: Appointment, submitted: bool) -> SlotSearchForm:
    if submitted:
        form = SlotSearchForm()
    else:
        args = request.args
        if "mode" not in args:
            minutes = int((row.end - row.start).total_seconds() // 60)
            room = session.get(Room, row.room_id) if row.room_id is not None else None
            args = MultiDict({"mode": row.mode, "duration": str(minutes),
                              "location_id": str(room.location_id) if room else "",
                              "video_url": row.video_url or ""})
        form = SlotSearchForm(formdata=args, meta={"csrf": False})
        minutes = int((row.end - row.start).total_seconds() // 60)
        if minutes not in [d for d, _w in form.duration.choices]:  # an odd length booked elsewhere stays choosable
            form.duration.choices = sorted(form.duration.choices + [(minutes, str(minutes))])
    _set_place_choices(form, session)
    return form


def _same_room(session: Session, row: Appointment, form: SlotSearchForm) -> int | None:
    """A joint meeting keeps its room (the one with the separate waiting area) while it stays in person
    at the same location; other appointments take any free room at the chosen location."""
    if row.kind != "meeting" or form.mode.data != "in_person" or row.room_id is None:
        return None
    room = session.get(Room, row.room_id)
    return row.room_id if room is not None and room.location_id == form.chosen_location() else None


def _render_reschedule(session: Session, row: Appointment, form: SlotSearchForm, status: int = 200,
                       sentence: str | None = None, search: bool = True) -> tuple[str, int]:
    choices: list[SlotChoice] = []
    if search and not form.mode.errors and not form.duration.errors and not form.location_id.errors:
        choices, refused = search_slots(session, form, mediator_ids=[m.id for m in row.mediators],
                                        room_id=_same_room(session, row, form))
        sentence = sentence or refused
    return _page("reschedule.html", status, appointment=row, details=_details(session, row), form=form,
                 sentence=sentence, days=slot_days(choices, current().settings.tz),
                 later_url=_later_url(".reschedule", form, choices, appointment_id=row.id),
                 first_url=_first_url(".reschedule", form, appointment_id=row.id), hidden=form.carried(),
                 may_override=g.user.sees_all_cases)


@desk_booking.route("/appointments/<int:appointment_id>/reschedule", methods=["GET", "POST"])
@login_required
def reschedule(appointment_id: int) -> Any:
    session = db_session()
    try:
        row = appointment_for(session, g.user, appointment_id)
    except NotFound:
        return _not_found()
    if not row.live:
        flash(_("This appointment is %(status)s: it cannot be moved.", status=label(row.status, "appointment_status")),
              "warning")
        return redirect(url_for(".appointment", appointment_id=row.id), 303)
    if request.method == "POST" and _asks_override() and not g.user.sees_all_cases:
        return _office_only()
    form = _reschedule_form(session, row, submitted=request.method == "POST")
    render = partial(_render_reschedule, session, row, form)

    def pick(start: datetime, _mediators: tuple[int, ...], room_id: int | None) -> Any:
        if form.action.data == "move":
            return _move(row, form, render, start, room_id, {})
        return _page("reschedule_confirm.html", appointment=row, details=_details(session, row), form=form,
                     start=start, end=start + timedelta(minutes=form.duration.data),
                     room=session.get(Room, room_id) if room_id else None, hidden=form.carried(),
                     slot=form.slot.data)

    return picker_request(form, render, pick,
                          lambda start, room_id, overrides: _move(row, form, render, start, room_id, overrides))


def _move(row: Appointment, form: SlotSearchForm, render: Render, start: datetime, room_id: int | None,
          overrides: dict[str, str]) -> Any:
    # In person without a room named (another time, no room chosen): the room stays; otherwise no room.
    room: int | None | object = room_id if form.mode.data == "in_person" else None
    if form.mode.data == "in_person" and room_id is None:
        room = KEEP
    change = AppointmentChange(
        start=start, end=start + timedelta(minutes=form.duration.data), mode=form.mode.data,
        room_id=room,  # type: ignore[arg-type]
        video_url=form.chosen_video_url(), outside_hours=overrides.get("outside_hours"),
        busy_time=overrides.get("busy_time"))
    try:
        with writing() as (write, actor):
            appointment_for(write, actor, row.id)
            booking.reschedule(write, row.id, change, actor, utcnow(), policy=_policy())
    except Problem as exc:
        return refused(exc, form, render)
    flash(_("The appointment is moved. The participants hear of the new time."), "success")
    return redirect(url_for(".appointment", appointment_id=row.id), 303)


# --- cancel --------------------------------------------------------------------------------------

@desk_booking.route("/appointments/<int:appointment_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(appointment_id: int) -> Any:
    session = db_session()
    try:
        row = appointment_for(session, g.user, appointment_id)
    except NotFound:
        return _not_found()
    form = CancelForm()
    if not row.live:
        flash(_("This appointment is already %(status)s.", status=label(row.status, "appointment_status")), "warning")
        return redirect(url_for(".appointment", appointment_id=row.id), 303)
    if request.method == "POST":
        if not form.validate():
            return _page("cancel.html", 400, appointment=row, details=_details(session, row), form=form)
        try:
            with writing() as (write, actor):
                appointment_for(write, actor, row.id)
                booking.cancel(write, row.id, actor, utcnow(), reason=form.reason.data)
        except NotFound:
            return _not_found()
        except Problem as exc:
            flash(refusal_sentence(exc), "error")
        else:
            flash(_("The appointment is cancelled and its time is free again."), "success")
        return redirect(url_for(".appointment", appointment_id=row.id), 303)
    return _page("cancel.html", appointment=row, details=_details(session, row), form=form)
