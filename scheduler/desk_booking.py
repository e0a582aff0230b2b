"""The desk's booking pages: plan an intake through the slot picker, an appointment's page, reschedule, cancel.

Every rule is the engine's: the free times come from the availability search
(scheduler.search, or scheduler.search_region for "any free mediator of the
case's region"), a pick holds the slot (booking.book with a hold), the
confirmation books it (booking.confirm), "back" releases it; a reschedule is
booking.reschedule and a cancellation booking.cancel. Each write runs in one
transaction (scheduler.api.writing), so a refusal changes nothing. A time
taken meanwhile is a sentence above fresh slots (409), never an error page.

"Book anyway" (a time outside the offered ones: outside the mediator's
working hours or in their imported busy time) is a coordinator's, with a
reason; a mediator is never offered it and gets a 403 for posting it. A
mediator sees only their own cases' appointments: anything else is the same
404 as an unknown id (scheduler.access).

The picker (templates/scheduler/desk/booking/_picker.html) takes `SlotDay`s
built by `slot_days` from `SlotChoice`s; `slot_value`/`parse_slot` encode a
pick as one form value. Other pages (the joint meeting) may use the three.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import urlencode

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.datastructures import MultiDict

from core.auth import login_required
from core.db import utcnow
from core.navigation import safe_next
from core.problems import Conflict, Forbidden, InvalidInput, NotFound, Problem
from core.runtime import current, db_session
from core.web import fmt_day, label
from scheduler import booking, casework
from scheduler.access import appointment_for, case_for, own_mediator_id
from scheduler.api import writing
from scheduler.booking import BookingConflict
from scheduler.changes import KEEP, AppointmentChange
from scheduler.desk_booking_forms import REGION, CancelForm, PlanForm, SlotSearchForm, parse_after
from scheduler.models import LIVE_STATUSES, Appointment, Case, Location, Mediator, Room, appointment_mediators
from scheduler.policy import BookingPolicy, policy_of
from scheduler.rules import BookingRequest
from scheduler.search import find_available_slots
from scheduler.search_region import find_region_slots

desk_booking = Blueprint("desk_booking", __name__, template_folder="templates", static_folder="static",
                         static_url_path="/static/desk_booking")

TEMPLATES = "scheduler/desk/booking/"
PAGE_SLOTS = 40  # slots per page of the picker; "later" pages on
SEARCH_SPAN = timedelta(weeks=8)  # how far one page looks ahead for them
PICKER_STEP = timedelta(minutes=30)  # the picker offers starts on the half hour (or the office's coarser grid)


# --- the picker: what it shows and what a pick posts ---------------------------------------------

@dataclass(frozen=True)
class SlotChoice:
    value: str  # what the pick posts as `slot` (slot_value)
    start: datetime
    end: datetime
    note: str = ""  # e.g. the mediator's name when the region is searched, the room's at a location
    start_label: str = ""  # "09:30" on the office's clock (slot_days fills these in)
    end_label: str = ""


@dataclass(frozen=True)
class SlotDay:
    day: date
    label: str  # "dinsdag 8 december"
    slots: list[SlotChoice] = field(default_factory=list)


def slot_value(start: datetime, mediator_ids: Iterable[int], room_id: int | None) -> str:
    return f"{start.astimezone(timezone.utc).isoformat()}|{'+'.join(str(m) for m in mediator_ids)}|{room_id or ''}"


def parse_slot(value: str | None) -> tuple[datetime, tuple[int, ...], int | None] | None:
    """(start, mediator ids, room id) of a posted pick, or None for anything malformed."""
    try:
        when, mediators, room = (value or "").split("|")
        start = datetime.fromisoformat(when)
        ids = tuple(int(m) for m in mediators.split("+"))
        room_id = int(room) if room else None
    except ValueError:
        return None
    if start.tzinfo is None or not 2000 <= start.year <= 2999 or not ids or any(i < 1 for i in ids) \
            or (room_id is not None and room_id < 1):
        return None
    return start, ids, room_id


def slot_days(choices: Sequence[SlotChoice], tz: Any) -> list[SlotDay]:
    """The choices grouped by the office's local day, in order, with their words (the day's once per day:
    a picker shows dozens of times, and Babel's formatting is the page's main cost)."""
    days: list[SlotDay] = []
    for choice in choices:
        start = choice.start.astimezone(tz)
        if not days or days[-1].day != start.date():
            days.append(SlotDay(start.date(), fmt_day(start.date())))
        days[-1].slots.append(replace(choice, start_label=start.strftime("%H:%M"),
                                      end_label=choice.end.astimezone(tz).strftime("%H:%M")))
    return days


# --- small helpers ---------------------------------------------------------------------------------

def _policy() -> BookingPolicy:
    runtime = current()
    return policy_of(runtime.settings, runtime.workdays)


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(TEMPLATES + template, **context), status


def _not_found() -> tuple[str, int]:
    return _page("not_found.html", 404)


def _office_only() -> tuple[str, int]:
    return _page("office_only.html", 403)


def _has(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def _case_url(case_id: int) -> str | None:
    return url_for("desk_cases.show", case_id=case_id) if _has("desk_cases.show") else None


def refusal_sentence(exc: Problem) -> str:
    """A refusal of the engine in words (its own text is for the API)."""
    if isinstance(exc, BookingConflict):
        names = ", ".join(str(c["name"]) for c in exc.extra.get("conflicts", ()))
        return _("That time has just been taken (no longer free: %(names)s). Here are the free times now.",
                 names=names)
    if isinstance(exc, Conflict):
        return _("The held time has run out or was taken meanwhile. Here are the free times now.")
    fields = {e.get("field") for e in exc.errors}
    if "start" in fields:
        return _("That time is not one the office books: outside the working days, the mediator's working "
                 "hours or the minimum notice.")
    if "case_id" in fields:
        return _("This case is closed: nothing can be planned in it.")
    if "participant_ids" in fields:
        return _("This participant cannot be booked: they have stopped, or are not in this case.")
    if "mediator_ids" in fields:
        return _("This mediator cannot be booked for this case (not active, or not assigned to it).")
    if "room_id" in fields:
        return _("This room cannot be used for this appointment.")
    if "arrivals" in fields:
        return _("The arrival times no longer fit in the new time.")
    return _("This cannot be booked as it is.")


# --- searching -----------------------------------------------------------------------------------

def _mediator_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    return dict(session.execute(select(Mediator.id, Mediator.name).where(Mediator.id.in_(wanted))).all()) \
        if wanted else {}


def _room_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    return dict(session.execute(select(Room.id, Room.name).where(Room.id.in_(wanted))).all()) if wanted else {}


def search_slots(session: Session, form: SlotSearchForm, *, mediator_ids: Sequence[int] = (),
                 region_id: int | None = None, room_id: int | None = None) -> tuple[list[SlotChoice], str | None]:
    """One page of free slots for the form's search, and the sentence of a refusal (else None)."""
    runtime = current()
    settings = runtime.settings
    now = utcnow()
    after = parse_after(form.after.data)
    start = min(max(after, now), now + timedelta(days=2 * 366)) if after else now
    location_id = None if room_id is not None else form.chosen_location()
    common: dict[str, Any] = dict(
        room_id=room_id, location_id=location_id, duration=timedelta(minutes=form.duration.data), start=start,
        end=start + SEARCH_SPAN, now=now, workdays=runtime.workdays, tz=settings.tz,
        grid=max(timedelta(minutes=settings.slot_grid_minutes), PICKER_STEP),
        min_notice=timedelta(minutes=settings.min_notice_minutes), limit=PAGE_SLOTS)
    try:
        if region_id is not None:
            found = [(s.start, s.end, (s.mediator_id,), s.room_id)
                     for s in find_region_slots(session, g.user, region_id=region_id, **common)]
        else:
            found = [(s.start, s.end, tuple(mediator_ids), s.room_id)
                     for s in find_available_slots(session, g.user, mediator_ids=list(mediator_ids), **common)]
    except Problem as exc:
        return [], refusal_sentence(exc)
    names = _mediator_names(session, (m for _s, _e, ids, _r in found for m in ids)) if region_id else {}
    rooms = _room_names(session, (r for *_rest, r in found))
    choices = [SlotChoice(slot_value(s, ids, r), s, e,
                          " · ".join(x for x in (", ".join(names.get(m, "") for m in ids) if names else "",
                                                 rooms.get(r or 0, "")) if x))
               for s, e, ids, r in found]
    return choices, None


def _later_url(endpoint: str, form: SlotSearchForm, choices: Sequence[SlotChoice], **values: Any) -> str | None:
    if len(choices) < PAGE_SLOTS:
        return None
    query = {**form.carried(), "after": (choices[-1].start + timedelta(minutes=1)).isoformat()}
    return url_for(endpoint, **values) + "?" + urlencode(query)


def _first_url(endpoint: str, form: SlotSearchForm, **values: Any) -> str | None:
    if not form.after.data:
        return None
    return url_for(endpoint, **values) + "?" + urlencode(form.carried())


def _locations(session: Session) -> list[Location]:
    return list(session.scalars(select(Location).order_by(Location.name, Location.id)))


def _set_place_choices(form: SlotSearchForm, session: Session) -> None:
    locations = _locations(session)
    form.location_id.choices = [("", _("Choose a location"))] + [(str(loc.id), f"{loc.name}, {loc.city}")
                                                                  for loc in locations]
    chosen = form.chosen_location()
    rooms = [r for loc in locations if loc.id == chosen for r in loc.rooms if r.active]
    form.room_id.choices = [(str(r.id), r.name) for r in rooms]


def _other_time(form: SlotSearchForm) -> tuple[datetime, int | None]:
    """The start and room of the "another time" part of the form (validated: day and time are there)."""
    start = datetime.combine(form.day.data, form.at.data, current().settings.tz)
    room = form.room_id.data
    return start, (int(room) if form.mode.data == "in_person" and room and room.isdigit() else None)


def _overrides(form: SlotSearchForm) -> dict[str, str]:
    """A coordinator's "book anyway": one reason for a time outside working hours and in busy time."""
    if not form.anyway.data or not form.reason.data:
        return {}
    return {"outside_hours": form.reason.data, "busy_time": form.reason.data}


def _asks_override() -> bool:
    return bool(request.form.get("anyway") or request.form.get("reason"))


# --- one picker request, and the engine's refusals on its page -----------------------------------

Render = Callable[..., tuple[str, int]]  # (status, sentence=None, search=True) -> the page again


def picker_request(form: SlotSearchForm, render: Render,
                   pick: Callable[[datetime, tuple[int, ...], int | None], Any],
                   other: Callable[[datetime, int | None, dict[str, str]], Any]) -> Any:
    """A GET is the search (a 400 when given search fields are invalid); a POST is validated whole, then
    is a pick (`pick(start, mediator ids, room id)`) or another time (`other(start, room id, overrides)`)."""
    if request.method == "GET":
        valid = form.validate()
        return render(200 if valid or "mode" not in request.args else 400, search=valid)
    if not form.validate():
        return render(400, search=False)
    if form.action.data == "other":
        start, room_id = _other_time(form)
        return other(start, room_id, _overrides(form))
    picked = parse_slot(form.slot.data)
    if picked is None:
        return render(400, sentence=_("Choose one of the free times."))
    return pick(*picked)


def refused(exc: Problem, form: SlotSearchForm, render: Render) -> Any:
    """The engine's refusal on the page it came from: next to the field it names, else a sentence above fresh
    slots (409 for a time taken, 422 for a rule); a coordinator's-only step is a 403, out of sight a 404."""
    if isinstance(exc, Forbidden):
        return _office_only()
    if isinstance(exc, NotFound):
        return _not_found()
    if not isinstance(exc, InvalidInput):
        return render(409, sentence=refusal_sentence(exc))
    fields = {e.get("field") for e in exc.errors}
    if "video_url" in fields:
        form.video_url.errors = [_("Enter a link that starts with https://")]
        return render(422, search=False)
    if "start" in fields and form.action.data == "other":
        hint = " " + _("Tick \"book anyway\" and give a reason to book it nonetheless.") if g.user.sees_all_cases else ""
        form.at.errors = [refusal_sentence(exc) + hint]
        return render(422)
    return render(422, sentence=refusal_sentence(exc))


# --- plan an intake ------------------------------------------------------------------------------

@dataclass
class PlanContext:
    case: Case
    region_name: str | None
    mediators: dict[int, str]  # who may be chosen, by id
    participants: list[Any]


def _plan_context(session: Session, case: Case) -> PlanContext:
    active = [p for p in case.participants if p.withdrawn_at is None]
    if g.user.sees_all_cases:
        # The case's own first, then every other active mediator by name (ids and names only: the
        # working-hours JSON of forty mediators is not needed for a list of names).
        mediators = {m.id: m.name for m in case.mediators if m.active}
        others = session.execute(select(Mediator.id, Mediator.name).where(Mediator.active.is_(True))
                                 .order_by(Mediator.name))
        mediators.update((mid, name) for mid, name in others if mid not in mediators)
    else:
        own = own_mediator_id(session, g.user)
        mediators = {m.id: m.name for m in case.mediators if m.id == own}
    region_name = case.region.name if case.region is not None and g.user.sees_all_cases else None
    return PlanContext(case, region_name, mediators, active)


def _plan_form(session: Session, context: PlanContext, submitted: bool) -> PlanForm:
    case = context.case
    if submitted:
        form = PlanForm()
    else:
        args = request.args
        if "mode" not in args:
            wanted = args.get("participant_id", "")
            participant = next((p for p in context.participants if str(p.id) == wanted), None) or \
                next(iter(context.participants), None)
            on_case = [m.id for m in case.mediators if m.id in context.mediators]
            mediator = str(on_case[0]) if on_case else (REGION if context.region_name else
                                                        next((str(m) for m in context.mediators), ""))
            args = MultiDict({"mode": "home_visit", "duration": "60", "mediator": mediator,
                              "participant_id": str(participant.id) if participant else ""})
        form = PlanForm(formdata=args, meta={"csrf": False})
    on_case_ids = {m.id for m in case.mediators}
    choices = [(str(mid), name if mid not in on_case_ids else _("%(name)s (on this case)", name=name))
               for mid, name in context.mediators.items()]
    if context.region_name:
        choices.insert(len([m for m in context.mediators if m in on_case_ids]),
                       (REGION, _("Any free mediator of region %(region)s", region=context.region_name)))
    form.mediator.choices = choices
    form.participant_id.choices = [(str(p.id), f"{p.name} ({label(p.role, 'participant_role')})")
                                   for p in context.participants]
    _set_place_choices(form, session)
    return form


def _plan_search(session: Session, context: PlanContext, form: PlanForm) -> tuple[list[SlotChoice], str | None]:
    if form.mediator.data == REGION:
        return search_slots(session, form, region_id=context.case.region.id)  # type: ignore[union-attr]
    return search_slots(session, form, mediator_ids=[int(form.mediator.data)])


def _render_plan(session: Session, context: PlanContext, form: PlanForm, status: int = 200,
                 sentence: str | None = None, search: bool = True) -> tuple[str, int]:
    choices: list[SlotChoice] = []
    if search and not form.mode.errors and not form.duration.errors and not form.mediator.errors \
            and not form.location_id.errors and form.mediator.data:
        choices, refused = _plan_search(session, context, form)
        sentence = sentence or refused
    case_id = context.case.id
    return _page("plan.html", status, context=context, form=form, sentence=sentence,
                 days=slot_days(choices, current().settings.tz),
                 later_url=_later_url(".plan_intake", form, choices, case_id=case_id),
                 first_url=_first_url(".plan_intake", form, case_id=case_id),
                 hidden=form.carried(), case_url=_case_url(case_id),
                 may_override=g.user.sees_all_cases)


@desk_booking.route("/cases/<int:case_id>/intake", methods=["GET", "POST"])
@login_required
def plan_intake(case_id: int) -> Any:
    session = db_session()
    try:  # the case with what the picker shows of it, in one query
        case = case_for(session, g.user, case_id, joinedload(Case.participants), joinedload(Case.mediators),
                        joinedload(Case.region))
    except NotFound:
        return _not_found()
    if case.status == "closed":
        return _page("closed.html", 409, case=case, case_url=_case_url(case.id))
    context = _plan_context(session, case)
    if request.method == "POST" and _asks_override() and not g.user.sees_all_cases:
        return _office_only()
    form = _plan_form(session, context, submitted=request.method == "POST")
    render = partial(_render_plan, session, context, form)

    def other(start: datetime, room_id: int | None, overrides: dict[str, str]) -> Any:
        if form.mediator.data == REGION:
            form.mediator.errors = [_("Choose one mediator for another time.")]
            return render(400, search=False)
        return _hold(context, form, render, start, (int(form.mediator.data),), room_id, overrides)

    return picker_request(form, render, lambda start, mediators, room: _hold(context, form, render, start, mediators,
                                                                             room, {}), other)


def _hold(context: PlanContext, form: PlanForm, render: Render, start: datetime, mediator_ids: tuple[int, ...],
          room_id: int | None, overrides: dict[str, str]) -> Any:
    """Hold the slot (the engine's hold); a mediator from outside the case joins it in the same step."""
    case = context.case
    joining = [m for m in mediator_ids if m not in {x.id for x in case.mediators}]
    req = BookingRequest(case_id=case.id, kind="intake", mode=form.mode.data, start=start,
                         end=start + timedelta(minutes=form.duration.data), mediator_ids=mediator_ids,
                         room_id=room_id if form.mode.data == "in_person" else None,
                         participant_ids=(int(form.participant_id.data),), outside_hours=overrides.get("outside_hours"),
                         busy_time=overrides.get("busy_time"), video_url=form.chosen_video_url())
    now = utcnow()
    try:
        with writing() as (write, actor):
            if joining:
                current_ids = [m.id for m in case_for(write, actor, case.id).mediators]
                casework.update_case(write, actor, case.id, {"mediator_ids": current_ids + joining}, now)
            held = booking.book(write, req, actor, now, policy=_policy(), hold_for=current().hold_duration)
            held_id = held.id
    except Problem as exc:
        return refused(exc, form, render)
    back = url_for(".plan_intake", case_id=case.id) + "?" + urlencode(form.carried())
    query = {"back": back, **({"joined": ",".join(str(m) for m in joining)} if joining else {})}
    return redirect(url_for(".held", appointment_id=held_id) + "?" + urlencode(query), 303)


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


