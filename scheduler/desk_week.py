"""Week views of a mediator and of a room: appointments, holds and imported busy time, by day, printable.

GET /week is the signed-in mediator's own week (their home page); a
coordinator without a mediator record gets a chooser. /mediators/<id>/week
and /rooms/<id>/week show anyone's week to the office; a mediator may open
only their own week (another mediator's is "not found", like another's case)
and any room's week, where bookings of cases not theirs show only as
"occupied". Imported busy time shows as busy without a word of the private
event (Pendel never stores its summary or place anyway). `?week=2026-W13`
picks the ISO week; anything else is a 400 that says how to write one.

Loading is one query per kind of row (appointments, their mediators, busy
blocks, the chooser's mediators and rooms); scheduler.week_layout places
them on the days.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Sequence

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import exists, literal, select
from sqlalchemy.orm import Session

from core.auth import login_required
from core.db import utcnow
from core.runtime import current, db_session
from scheduler.access import own_mediator_id
from scheduler.models import (Appointment, BusyBlock, Case, Location, Mediator, MediatorTask, Room,
                              appointment_mediators, case_mediators)
from scheduler.week_layout import Entry, Week, WeekError, build_week, monday_of, parse_week, week_bounds, week_code

desk_week = Blueprint("desk_week", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/static/desk_week")

TEMPLATES = "scheduler/desk/week/"


@dataclass(frozen=True)
class Shown:
    """What the week shows of an appointment whose case the viewer may see."""

    appointment_id: int
    reference: str
    kind: str
    mode: str
    status: str
    room: str | None
    mediators: tuple[str, ...]  # the others on it (the week's own mediator left out)
    case_url: str | None
    appointment_url: str | None
    hold_expires_at: datetime | None

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"


@dataclass(frozen=True)
class Subject:
    """Whose week: a mediator or a room."""

    kind: str  # "mediator" or "room"
    id: int
    name: str
    own: bool = False


class BadWeek(Exception):
    pass


# --- the pages ---------------------------------------------------------------------------------------

@desk_week.get("/week")
@login_required
def mine() -> Any:
    session = db_session()
    chosen = _chosen_redirect()
    if chosen is not None:
        return chosen
    own = own_mediator_id(session, g.user)
    try:
        monday = _requested_monday()
    except BadWeek as exc:
        return _bad_week(str(exc))
    if own is None:
        return render_template(TEMPLATES + "choose.html", **_chooser(session, own), week=_week_arg())
    mediator = session.get(Mediator, own)
    assert mediator is not None
    return _render(session, Subject("mediator", own, mediator.name, own=True), monday, own, notes=True)


@desk_week.get("/mediators/<int:mediator_id>/week")
@login_required
def mediator(mediator_id: int) -> Any:
    session = db_session()
    own = own_mediator_id(session, g.user)
    row = session.get(Mediator, mediator_id)
    if row is None or not (g.user.sees_all_cases or own == mediator_id):
        return _not_found()
    try:
        monday = _requested_monday()
    except BadWeek as exc:
        return _bad_week(str(exc))
    return _render(session, Subject("mediator", row.id, row.name, own=own == row.id), monday, own)


@desk_week.get("/rooms/<int:room_id>/week")
@login_required
def room(room_id: int) -> Any:
    session = db_session()
    found = session.execute(select(Room.id, Room.name, Location.name).join(Location, Location.id == Room.location_id)
                            .where(Room.id == room_id)).first()
    if found is None:
        return _not_found()
    try:
        monday = _requested_monday()
    except BadWeek as exc:
        return _bad_week(str(exc))
    own = own_mediator_id(session, g.user)
    return _render(session, Subject("room", found[0], f"{found[1]} · {found[2]}"), monday, own)


# --- loading and laying out ----------------------------------------------------------------------------

def _render(session: Session, subject: Subject, monday: date, viewer_mediator_id: int | None,
            notes: bool = False) -> Any:
    tz = current().settings.tz
    now = utcnow()
    start, end = week_bounds(monday, tz)
    entries = _appointment_entries(session, subject, viewer_mediator_id, start, end, now) \
        + _busy_entries(session, subject, start, end)
    week = build_week(monday, tz, entries, today=now.astimezone(tz).date())
    if subject.own:
        heading = _("My week")
    elif subject.kind == "room":
        heading = _("Room %(name)s", name=subject.name)
    else:
        heading = _("Week of %(name)s", name=subject.name)
    context: dict[str, Any] = dict(subject=subject, week=week, heading=heading,
                                   this_week=week_code(now.astimezone(tz).date()), links=_week_links(subject, week),
                                   kinds={p.kind for day in week.days for p in day.pieces},
                                   **_chooser(session, viewer_mediator_id))
    if notes:
        context.update(_notes(session, subject.id))
    return render_template(TEMPLATES + "week.html", **context)


def _appointment_entries(session: Session, subject: Subject, viewer_mediator_id: int | None, start: datetime,
                         end: datetime, now: datetime) -> list[Entry]:
    if g.user.sees_all_cases:
        visible: Any = literal(True)
    else:
        visible = exists().where(case_mediators.c.case_id == Appointment.case_id,
                                 case_mediators.c.mediator_id == (viewer_mediator_id or 0))
    if subject.kind == "mediator":
        owner = Appointment.id.in_(select(appointment_mediators.c.appointment_id)
                                   .where(appointment_mediators.c.mediator_id == subject.id))
    else:
        owner = Appointment.room_id == subject.id
    rows = session.execute(
        select(Appointment.id, Appointment.kind, Appointment.mode, Appointment.status, Appointment.start,
               Appointment.end, Appointment.hold_expires_at, Appointment.cancel_reason, Appointment.case_id,
               Case.reference, Room.name.label("room"), Location.name.label("location"), visible.label("visible"))
        .join(Case, Case.id == Appointment.case_id)
        .outerjoin(Room, Room.id == Appointment.room_id).outerjoin(Location, Location.id == Room.location_id)
        .where(owner, Appointment.start < end, Appointment.end > start)
        .order_by(Appointment.start, Appointment.id)).all()
    shown = [r for r in rows if _shown(r, now) is not None]
    names = _mediator_names(session, [r.id for r in shown if r.visible],
                            leave_out=subject.id if subject.kind == "mediator" else None)
    case_link, appointment_link = _has("desk_cases.show"), _has("desk_booking.appointment")
    entries = []
    for r in shown:
        kind = _shown(r, now)
        assert kind is not None
        if not r.visible:
            entries.append(Entry("occupied", r.start, r.end, None, sort_key=r.id))
            continue
        detail = Shown(
            r.id, r.reference, r.kind, r.mode, r.status,
            f"{r.room} · {r.location}" if r.room and subject.kind == "mediator" else None,
            tuple(names.get(r.id, ())),
            url_for("desk_cases.show", case_id=r.case_id) if case_link else None,
            url_for("desk_booking.appointment", appointment_id=r.id) if appointment_link else None,
            r.hold_expires_at if r.status == "held" else None)
        entries.append(Entry(kind, r.start, r.end, detail, sort_key=r.id))
    return entries


def _shown(row: Any, now: datetime) -> str | None:
    """The item's kind on the week, or None when it is not shown at all.

    A hold whose time ran out (not yet swept) and a hold that expired are
    gone; a cancelled appointment shows (struck through) only to whoever may
    see its case, as an appointment.
    """
    if row.status == "held":
        if row.hold_expires_at is not None and row.hold_expires_at <= now:
            return None
        return "hold" if row.visible else "occupied"
    if row.status == "cancelled":
        return "appointment" if row.visible and row.cancel_reason != "hold_expired" else None
    return "appointment" if row.visible else "occupied"


def _mediator_names(session: Session, appointment_ids: Sequence[int], leave_out: int | None) -> dict[int, list[str]]:
    if not appointment_ids:
        return {}
    names: dict[int, list[str]] = {}
    query = (select(appointment_mediators.c.appointment_id, Mediator.name)
             .join(Mediator, Mediator.id == appointment_mediators.c.mediator_id)
             .where(appointment_mediators.c.appointment_id.in_(appointment_ids))
             .order_by(appointment_mediators.c.appointment_id, Mediator.name))
    if leave_out is not None:
        query = query.where(Mediator.id != leave_out)
    for appointment_id, name in session.execute(query):
        names.setdefault(appointment_id, []).append(name)
    return names


def _busy_entries(session: Session, subject: Subject, start: datetime, end: datetime) -> list[Entry]:
    owner = BusyBlock.mediator_id if subject.kind == "mediator" else BusyBlock.room_id
    # Only the span: a busy block carries no summary, and the uid is none of the page's business.
    rows = session.execute(select(BusyBlock.starts_at, BusyBlock.ends_at, BusyBlock.id)
                           .where(owner == subject.id, BusyBlock.starts_at < end, BusyBlock.ends_at > start)).all()
    return [Entry("busy", r.starts_at, r.ends_at, None, sort_key=r.id) for r in rows]


def _chooser(session: Session, viewer_mediator_id: int | None) -> dict[str, Any]:
    """The mediators (the office sees all; a mediator only themselves) and the rooms to switch to."""
    query = select(Mediator.id, Mediator.name).where(Mediator.active.is_(True)).order_by(Mediator.name, Mediator.id)
    if not g.user.sees_all_cases:
        query = query.where(Mediator.id == (viewer_mediator_id or 0))
    rooms = session.execute(select(Room.id, Room.name, Location.name.label("location"))
                            .join(Location, Location.id == Room.location_id).where(Room.active.is_(True))
                            .order_by(Location.name, Room.name, Room.id)).all()
    return {"mediators": session.execute(query).all(), "rooms": rooms}


def _notes(session: Session, mediator_id: int) -> dict[str, Any]:
    """The home page's notes (tasks; callbacks and calendar warnings come from their packages)."""
    tasks = session.scalars(select(MediatorTask).where(MediatorTask.done_at.is_(None),
                                                       MediatorTask.mediator_id == mediator_id)
                            .order_by(MediatorTask.created_at)).all()
    references = dict(session.execute(select(Case.id, Case.reference)
                                      .where(Case.id.in_({t.case_id for t in tasks}))).all()) if tasks else {}
    return {"tasks": tasks, "task_cases": references, "notes": True}


# --- arguments, links and refusals ---------------------------------------------------------------------

def _week_arg() -> str | None:
    value = request.args.get("week")
    return value if value else None


def _requested_monday() -> date:
    value = _week_arg()
    if value is None:
        return monday_of(utcnow().astimezone(current().settings.tz).date())
    try:
        return parse_week(value)
    except WeekError:
        raise BadWeek(value) from None


def _chosen_redirect() -> Any:
    """The chooser is a GET form (no script needed): /week?mediator=3 or ?room=2 goes to that week."""
    for field, endpoint, key in (("mediator", ".mediator", "mediator_id"), ("room", ".room", "room_id")):
        value = request.args.get(field)
        if value is None:
            continue
        if not (value.isascii() and value.isdigit() and 0 < int(value) < 2 ** 31):
            return _not_found()
        return redirect(url_for(endpoint, **{key: int(value)}, week=_week_arg()))
    return None


def _week_links(subject: Subject, week: Week) -> dict[str, str]:
    if subject.own:
        endpoint, args = ".mine", {}
    elif subject.kind == "mediator":
        endpoint, args = ".mediator", {"mediator_id": subject.id}
    else:
        endpoint, args = ".room", {"room_id": subject.id}
    return {"previous": url_for(endpoint, week=week.previous, **args),
            "next": url_for(endpoint, week=week.next, **args),
            "this": url_for(endpoint, **args)}


def _has(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def _bad_week(value: str) -> Any:
    example = week_code(utcnow().astimezone(current().settings.tz).date())
    message = _("“%(value)s” is not a week. Write the year, a W and the week number, for example %(example)s.",
                value=value, example=example)
    return render_template(TEMPLATES + "bad_week.html", message=message, this_week=url_for(request.endpoint or ".mine",
                           **(request.view_args or {}))), 400


def _not_found() -> Any:
    return render_template(TEMPLATES + "not_found.html"), 404
