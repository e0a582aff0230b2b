"""Week views of a mediator and of a room: appointments, holds and imported busy time, by day, printable.

GET /week is the signed-in mediator's own week (their home page); a
coordinator without a mediator record gets a chooser. /mediators/<id>/week
and /rooms/<id>/week show anyone's week to the office; a mediator may open
only their own week (another mediator's is "not found", like another's case)
and any room's week, where bookings of cases not theirs show only as
"occupied". Imported busy time shows as busy without a word of the private
event (Pendel never stores its summary or place anyway). `?week=2026-W13`
picks the ISO week; anything else is a 400 that says how to write one.

Loading is two statements whatever the week holds: its rows (appointments
with their other mediators, and busy blocks, as one UNION ALL) and the
chooser (mediators and rooms, with the week's own name); then
scheduler.week_layout places the rows on the days.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Sequence

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Integer, String, and_, bindparam, exists, literal, null, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from core.auth import login_required
from core.db import UTCDateTime, utcnow
from core.runtime import current, db_session
from core.web import label
from scheduler.access import own_mediator_id
from scheduler.models import (Appointment, BusyBlock, Case, Location, Mediator, MediatorTask, Room,
                              appointment_mediators, case_mediators)
from scheduler.participant_models import OfferSlot
from scheduler.week_layout import Entry, Week, WeekError, build_week, monday_of, parse_week, week_bounds, week_code

desk_week = Blueprint("desk_week", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/static/desk_week")

TEMPLATES = "scheduler/desk/week/"
# Holds let go, never booked: not shown as cancelled appointments.
RELEASED = ("hold_expired", "offer_chosen", "offer_withdrawn", "offer_lapsed")


@dataclass(frozen=True)
class Shown:
    """What the week shows of an appointment whose case the viewer may see."""

    appointment_id: int
    reference: str
    kind: str
    mode: str
    status: str
    what: str  # kind and mode in words: "intake · op locatie"
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
    return own_week()


def own_week() -> Any:
    """The signed-in person's own week (also the home page of a mediator: scheduler/pages.py)."""
    session = db_session()
    chosen = _chosen_redirect()
    if chosen is not None:
        return chosen
    try:
        monday = _requested_monday()
    except BadWeek as exc:
        return _bad_week(str(exc))
    own = own_mediator_id(session, g.user)
    if own is None:
        return render_template(TEMPLATES + "choose.html", **_chooser(session, None).lists(), week=_week_arg())
    return _render(session, "mediator", own, monday, own, notes=True)


@desk_week.get("/mediators/<int:mediator_id>/week")
@login_required
def mediator(mediator_id: int) -> Any:
    session = db_session()
    own = None if g.user.sees_all_cases else own_mediator_id(session, g.user)  # the office sees anyone's week
    if not (g.user.sees_all_cases or own == mediator_id):
        return _not_found()
    try:
        monday = _requested_monday()
    except BadWeek as exc:
        return _bad_week(str(exc))
    return _render(session, "mediator", mediator_id, monday, own)


@desk_week.get("/rooms/<int:room_id>/week")
@login_required
def room(room_id: int) -> Any:
    session = db_session()
    try:
        monday = _requested_monday()
    except BadWeek as exc:
        return _bad_week(str(exc))
    own = None if g.user.sees_all_cases else own_mediator_id(session, g.user)
    return _render(session, "room", room_id, monday, own)


# --- loading and laying out ----------------------------------------------------------------------------

def _render(session: Session, kind: str, subject_id: int, monday: date, viewer_mediator_id: int | None,
            notes: bool = False) -> Any:
    choices = _chooser(session, viewer_mediator_id, (kind, subject_id))
    name = choices.names.get((kind, subject_id))
    if name is None:
        return _not_found()
    subject = Subject(kind, subject_id, name, own=kind == "mediator" and subject_id == viewer_mediator_id)
    tz = current().settings.tz
    now = utcnow()
    start, end = week_bounds(monday, tz)
    week = build_week(monday, tz, _entries(session, subject, viewer_mediator_id, start, end, now),
                      today=now.astimezone(tz).date())
    if subject.own:
        heading = _("My week")
    elif subject.kind == "room":
        heading = _("Room %(name)s", name=subject.name)
    else:
        heading = _("Week of %(name)s", name=subject.name)
    context: dict[str, Any] = dict(subject=subject, week=week, heading=heading,
                                   this_week=week_code(now.astimezone(tz).date()), links=_week_links(subject, week),
                                   kinds={p.kind for day in week.days for p in day.pieces}, **choices.lists())
    if notes:
        context.update(_notes(session, subject.id))
    return render_template(TEMPLATES + "week.html", **context)


def _entries(session: Session, subject: Subject, viewer_mediator_id: int | None, start: datetime, end: datetime,
             now: datetime) -> list[Entry]:
    rows = session.execute(_week_rows(subject.kind, g.user.sees_all_cases),
                           {"subject": subject.id, "viewer": viewer_mediator_id or 0, "start": start, "end": end}).all()
    return _to_entries(rows, subject, now)


@lru_cache(maxsize=None)
def _week_rows(kind: str, sees_all: bool) -> Any:
    """The week's appointments and imported busy time, as one statement (built once per kind of page).

    An appointment comes once per other mediator on it (their names are shown
    with it); busy blocks bring only their span: Pendel stores no summary, and
    their uid is none of the page's business. `visible`: whether the viewer
    may see the appointment's case (scheduler.access's rule, in SQL).
    """
    subject, start, end = bindparam("subject"), bindparam("start"), bindparam("end")
    visible: Any = literal(True) if sees_all else exists().where(
        case_mediators.c.case_id == Appointment.case_id, case_mediators.c.mediator_id == bindparam("viewer"))
    others, other = appointment_mediators.alias("others"), aliased(Mediator)
    if kind == "mediator":
        owner = Appointment.id.in_(select(appointment_mediators.c.appointment_id)
                                   .where(appointment_mediators.c.mediator_id == subject))
        with_others = and_(others.c.appointment_id == Appointment.id, others.c.mediator_id != subject)
        busy_owner = BusyBlock.mediator_id == subject
    else:
        owner = Appointment.room_id == subject
        with_others = others.c.appointment_id == Appointment.id
        busy_owner = BusyBlock.room_id == subject
    text, no_time = null().cast(String), null().cast(UTCDateTime)
    appointments = (
        select(literal("appointment").label("source"), Appointment.id, Appointment.start.label("starts_at"),
               Appointment.end.label("ends_at"), Appointment.kind, Appointment.mode, Appointment.status,
               Appointment.hold_expires_at, Appointment.cancel_reason, Appointment.case_id, Case.reference,
               Room.name.label("room"), Location.name.label("location"), visible.label("visible"),
               other.name.label("other"),
               exists().where(OfferSlot.appointment_id == Appointment.id).label("offered"))
        .join(Case, Case.id == Appointment.case_id)
        .outerjoin(Room, Room.id == Appointment.room_id).outerjoin(Location, Location.id == Room.location_id)
        .outerjoin(others, with_others).outerjoin(other, other.id == others.c.mediator_id)
        .where(owner, Appointment.start < end, Appointment.end > start))
    busy = (select(literal("busy"), BusyBlock.id, BusyBlock.starts_at, BusyBlock.ends_at, text, text, text, no_time,
                   text, null().cast(Integer), text, text, text, literal(False), text, literal(False))
            .where(busy_owner, BusyBlock.starts_at < end, BusyBlock.ends_at > start))
    return union_all(appointments, busy).order_by("starts_at", "id", "other")


def _to_entries(rows: Sequence[Any], subject: Subject, now: datetime) -> list[Entry]:
    case_link, appointment_link = _has("desk_cases.show"), _has("desk_booking.appointment")
    words: dict[tuple[str, str], str] = {}  # kind and mode in words, translated once per pair
    names: dict[int, list[str]] = {}
    for r in rows:
        if r.source == "appointment" and r.other:
            names.setdefault(r.id, []).append(r.other)
    entries, seen = [], set()
    for r in rows:
        if r.source == "busy":
            entries.append(Entry("busy", r.starts_at, r.ends_at, None, sort_key=r.id))
            continue
        kind = _shown(r, now)
        if kind is None or r.id in seen:
            continue
        seen.add(r.id)
        if not r.visible:  # someone else's case: the time only
            entries.append(Entry("occupied", r.starts_at, r.ends_at, None, sort_key=r.id))
            continue
        what = words.get((r.kind, r.mode))
        if what is None:
            what = words[r.kind, r.mode] = f"{label(r.kind, 'appointment_kind')} · {label(r.mode, 'mode')}"
        entries.append(Entry(kind, r.starts_at, r.ends_at, Shown(
            r.id, r.reference, r.kind, r.mode, r.status, what,
            f"{r.room} · {r.location}" if r.room and subject.kind == "mediator" else None,
            tuple(sorted(names.get(r.id, ()))),
            url_for("desk_cases.show", case_id=r.case_id) if case_link else None,
            url_for("desk_booking.appointment", appointment_id=r.id) if appointment_link else None,
            r.hold_expires_at if r.status == "held" else None), sort_key=r.id))
    return entries


def _shown(row: Any, now: datetime) -> str | None:
    """The item's kind on the week, or None when it is not shown at all.

    A hold whose time ran out (not yet swept) and a hold that expired are
    gone; a hold offered to a participant to choose from (scheduler.offers)
    is "offered"; a cancelled appointment shows (struck through) only to
    whoever may see its case, as an appointment, unless it was an offered
    time let go.
    """
    if row.status == "held":
        if row.hold_expires_at is not None and row.hold_expires_at <= now:
            return None
        if not row.visible:
            return "occupied"
        return "offered" if row.offered else "hold"
    if row.status == "cancelled":
        return "appointment" if row.visible and row.cancel_reason not in RELEASED else None
    return "appointment" if row.visible else "occupied"


@dataclass(frozen=True)
class Choices:
    mediators: list[Any]
    rooms: list[Any]
    names: dict[tuple[str, int], str]  # the week's subject too, also when it is no longer active

    def lists(self) -> dict[str, list[Any]]:
        return {"mediators": self.mediators, "rooms": self.rooms}


def _chooser(session: Session, viewer_mediator_id: int | None,
             subject: tuple[str, int] = ("", 0)) -> Choices:
    """The mediators (the office sees all; a mediator only themselves) and the rooms to switch to, and the
    name of the week's own mediator or room, in one statement."""
    kind, subject_id = subject
    rows = session.execute(_choices(g.user.sees_all_cases), {
        "mediator": subject_id if kind == "mediator" else 0, "room": subject_id if kind == "room" else 0,
        "viewer": viewer_mediator_id or 0}).all()
    names = {(r.what, r.id): r.name if r.what == "mediator" else f"{r.name} · {r.location}" for r in rows}
    live = [r for r in rows if r.active]
    return Choices(sorted((r for r in live if r.what == "mediator"), key=lambda r: (r.name, r.id)),
                   sorted((r for r in live if r.what == "room"), key=lambda r: (r.location, r.name, r.id)), names)


@lru_cache(maxsize=None)
def _choices(sees_all: bool) -> Any:
    """Active mediators (a mediator: only themselves) and rooms, plus the week's own even when inactive."""
    mediators = select(literal("mediator").label("what"), Mediator.id, Mediator.name,
                       null().cast(String).label("location"), Mediator.active)
    if sees_all:
        mediators = mediators.where(or_(Mediator.active.is_(True), Mediator.id == bindparam("mediator")))
    else:
        mediators = mediators.where(Mediator.id == bindparam("viewer"))
    rooms = (select(literal("room"), Room.id, Room.name, Location.name, Room.active)
             .join(Location, Location.id == Room.location_id)
             .where(or_(Room.active.is_(True), Room.id == bindparam("room"))))
    return union_all(mediators, rooms)


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
    for field, endpoint, key in (("mediator", "desk_week.mediator", "mediator_id"),
                                 ("room", "desk_week.room", "room_id")):
        value = request.args.get(field)
        if value is None:
            continue
        if not (value.isascii() and value.isdigit() and 0 < int(value) < 2 ** 31):
            return _not_found()
        return redirect(url_for(endpoint, **{key: int(value)}, week=_week_arg()))
    return None


def _week_links(subject: Subject, week: Week) -> dict[str, str]:
    if subject.own:
        endpoint, args = "desk_week.mine", {}
    elif subject.kind == "mediator":
        endpoint, args = "desk_week.mediator", {"mediator_id": subject.id}
    else:
        endpoint, args = "desk_week.room", {"room_id": subject.id}
    return {"previous": url_for(endpoint, week=week.previous, **args),
            "next": url_for(endpoint, week=week.next, **args),
            "this": url_for(endpoint, **args)}


def _has(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def _bad_week(value: str) -> Any:
    example = week_code(utcnow().astimezone(current().settings.tz).date())
    message = _("“%(value)s” is not a week. Write the year, a W and the week number, for example %(example)s.",
                value=value, example=example)
    return render_template(TEMPLATES + "bad_week.html", message=message, this_week=url_for(request.endpoint or "desk_week.mine",
                           **(request.view_args or {}))), 400


def _not_found() -> Any:
    return render_template(TEMPLATES + "not_found.html"), 404
