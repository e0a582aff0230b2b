"""The joint meeting page for the staff desk (the desk_meeting blueprint).

/cases/<id>/meeting (`plan`): both parties, one or two mediators, how and
where, a time (free times of the mediators and the room from the
availability search, or a date and start of one's own) and each
participant's own arrival. "Check" runs the booking exactly as "Plan" would
(scheduler.booking.book, every rule and whether everyone is free) and rolls
it back, to show each party's own arrival and departure; "Plan" books it.
Every rule is the booking engine's (scheduler.booking_checks,
scheduler.rules): a refusal comes back as a sentence next to the field it
names (scheduler.desk_meeting_refusals), and nothing is written.

/participants/<id>/withdraw and /participants/<id>/undo-withdrawal, a
participant's withdrawal ("stopt") and its undo, are on this blueprint too,
in scheduler.desk_withdrawal (imported at the bottom of this module). Who
sees what is scheduler.access's: anything out of sight is the same 404 as
an unknown id.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import login_required
from core.db import utcnow
from core.problems import Conflict, InvalidInput, NotFound, Problem
from core.runtime import current, db_session
from core.web import label
from scheduler import booking
from scheduler.access import appointment_for, case_for, own_mediator_id
from scheduler.api import writing
from scheduler.availability import Slot
from scheduler.desk_meeting_forms import DURATIONS, MODES, MeetingForm, meeting_form
from scheduler.desk_meeting_refusals import refusal_sentence
from scheduler.models import Appointment, Case, Location, Mediator, Participant, Room
from scheduler.policy import OVERRIDE_REASONS, BookingPolicy, policy_of
from scheduler.rules import CAUSED, ROOM_MODES, BookingRequest, is_joint
from scheduler.search import find_available_slots

desk_meeting = Blueprint("desk_meeting", __name__, template_folder="templates", static_folder="static",
                         static_url_path="/static/desk_meeting")
TEMPLATES = "scheduler/desk/meeting/"
SEARCH_SPAN = timedelta(weeks=4)
DAYS_SHOWN, SLOTS_PER_DAY = 5, 8  # a few days' worth, not one morning's quarter-hours


# --- small helpers ---------------------------------------------------------------------------------

def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(TEMPLATES + template, **context), status


def _not_found() -> tuple[str, int]:
    return render_template("scheduler/desk/booking/not_found.html"), 404  # the same sentence as the intake pages


def _policy() -> BookingPolicy:
    runtime = current()
    return policy_of(runtime.settings, runtime.workdays)


def _url(endpoint: str, **values: Any) -> str | None:
    """A link to another area's page, once that page exists."""
    return url_for(endpoint, **values) if endpoint in current_app.view_functions else None


def _case_url(case_id: int) -> str | None:
    return _url("desk_cases.show", case_id=case_id)


def _minutes(n: int) -> str:
    return ngettext("%(num)d minute", "%(num)d minutes", n)


# --- the case as the meeting page needs it ---------------------------------------------------------

@dataclass(frozen=True)
class MeetingContext:
    case: Case
    participants: list[Participant]      # every participant of the case, in the case's order
    mediators: list[Mediator]            # the case's active mediators
    rooms: list[tuple[Room, Location]]   # active rooms, by location

    @property
    def selectable(self) -> list[Participant]:
        return [p for p in self.participants if p.takes_part]

    @property
    def withdrawn(self) -> list[Participant]:
        return [p for p in self.participants if not p.takes_part]

    @classmethod
    def of(cls, session: Session, case: Case) -> MeetingContext:
        rooms = session.execute(select(Room, Location).join(Location).where(Room.active)
                                .order_by(Location.name, Location.id, Room.name, Room.id)).all()
        return cls(case, list(case.participants), [m for m in case.mediators if m.active], list(rooms))


def _room_words(room: Room, location: Location) -> str:
    area = _("separate waiting area") if room.separate_waiting_area else _("no separate waiting area")
    return f"{location.name}, {room.name} ({area})"


def _default_arrival(p: Participant, gap: timedelta) -> int:
    """One party at the start, the other ARRIVAL_GAP later: the harmed side first, so it also leaves
    first (scheduler.rules.staggered_departures) and never waits for the other to go."""
    return int(gap.total_seconds() // 60) if p.role in CAUSED else 0


def _form(ctx: MeetingContext, policy: BookingPolicy, submitted: bool) -> MeetingForm:
    selectable = ctx.selectable
    form = meeting_form([p.id for p in selectable], formdata=None if not submitted else request.form)
    form.participant_ids.choices = [(p.id, f"{p.name} ({label(p.role, 'participant_role')})") for p in selectable]
    form.mediator_ids.choices = [(m.id, m.name) for m in ctx.mediators]
    form.mode.choices = [(m, label(m, "mode")) for m in MODES]
    form.room_id.choices = [("", _("No room (by video or phone)"))] + \
        [(str(r.id), _room_words(r, loc)) for r, loc in ctx.rooms]
    form.duration.choices = [(d, _minutes(d)) for d in DURATIONS]
    reasons = [(r, label(r, "override_reason")) for r in OVERRIDE_REASONS]
    form.waiting_area_reason.choices = [("", _("Choose a reason"))] + reasons
    form.outside_hours.choices = [("", _("Not outside the office's hours"))] + reasons
    if not submitted:
        form.participant_ids.data = [p.id for p in selectable]
        mine = own_mediator_id(db_session(), g.user)
        chosen = [m.id for m in ctx.mediators if m.id == mine] + [m.id for m in ctx.mediators if m.id != mine]
        form.mediator_ids.data = chosen[:2]
        separate = [r for r, _loc in ctx.rooms if r.separate_waiting_area]
        form.room_id.data = str(separate[0].id) if separate else ""
        for pid, field in form.arrival_fields():
            participant = next(p for p in selectable if p.id == pid)
            field.data = _default_arrival(participant, policy.arrival_gap)
    return form


def _add_error(field: Any, message: str) -> None:
    field.errors = [*field.errors, message]


# --- the engine's refusals, next to the field they name -------------------------------------------

def _show_refusal(form: MeetingForm, exc: Problem, policy: BookingPolicy) -> str | None:
    """Put the sentence next to its field; return it when it belongs to the whole form."""
    name, sentence = refusal_sentence(exc, policy)
    if name == "arrivals":
        form.arrivals_errors = [sentence]  # type: ignore[attr-defined]
        return None
    if name is not None and name in form._fields:
        _add_error(form[name], sentence)
        return None
    return sentence


# --- the request a form makes ----------------------------------------------------------------------

def _start(form: MeetingForm, policy: BookingPolicy) -> datetime | None:
    if form.day.data is None or form.start_time.data is None:
        return None
    return datetime.combine(form.day.data, form.start_time.data, policy.tz)


def _room_id(form: MeetingForm) -> int | None:
    return int(form.room_id.data) if form.mode.data in ROOM_MODES and form.room_id.data else None


def _request(ctx: MeetingContext, form: MeetingForm, start: datetime) -> BookingRequest:
    chosen = set(form.participant_ids.data or ())
    arrivals = {pid: start + timedelta(minutes=field.data) for pid, field in form.arrival_fields()
                if pid in chosen and field.data is not None}
    override = bool(form.waiting_area_override.data)
    return BookingRequest(
        case_id=ctx.case.id, kind="meeting", mode=form.mode.data, start=start,
        end=start + timedelta(minutes=form.duration.data), mediator_ids=tuple(form.mediator_ids.data or ()),
        room_id=_room_id(form), participant_ids=tuple(p.id for p in ctx.selectable if p.id in chosen),
        arrivals=arrivals, waiting_area_override=override,
        waiting_area_reason=(form.waiting_area_reason.data or None) if override else None,
        outside_hours=form.outside_hours.data or None,
        video_url=(form.video_url.data or None) if form.mode.data == "video" else None)


def _complete(ctx: MeetingContext, form: MeetingForm) -> bool:
    """What the page asks before the engine is asked: a time, and someone of each side."""
    ok = True
    if form.day.data is None and not form.day.errors:
        _add_error(form.day, _("Enter the date."))
        ok = False
    if form.start_time.data is None and not form.start_time.errors:
        _add_error(form.start_time, _("Enter the start time."))
        ok = False
    roles = [p.role for p in ctx.selectable if p.id in set(form.participant_ids.data or ())]
    if not is_joint(roles):
        _add_error(form.participant_ids, _("Choose at least one person of each side: someone who was harmed "
                                           "and someone who caused it."))
        ok = False
    if form.mode.data in ROOM_MODES and not form.room_id.data:
        _add_error(form.room_id, _("A meeting at a location needs a room."))
        ok = False
    if form.waiting_area_override.data and not form.waiting_area_reason.data:
        _add_error(form.waiting_area_reason, _("Give a reason to use this room anyway."))
        ok = False
    return ok


@dataclass(frozen=True)
class Times:
    """One participant's own times at the meeting: what their messages tell them."""

    name: str
    role: str
    arrival: datetime
    departure: datetime


class _DryRun(Exception):
    def __init__(self, times: list[Times]) -> None:
        super().__init__("rolled back on purpose")
        self.times = times


def _times(appointment: Appointment) -> list[Times]:
    return [Times(a.participant.name, a.participant.role, a.arrival or appointment.start,
                  a.departure or appointment.end) for a in appointment.attendances]


def _check(req: BookingRequest, policy: BookingPolicy) -> list[Times]:
    """Book exactly as "Plan" would, then roll everything back: the times, or the engine's refusal."""
    try:
        with writing() as (session, actor):
            raise _DryRun(_times(booking.book(session, req, actor, utcnow(), policy=policy)))
    except _DryRun as done:
        return done.times


# --- free times --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SlotDay:
    day: date
    slots: list[Slot]


def _slot_days(slots: Iterable[Slot], policy: BookingPolicy) -> list[SlotDay]:
    """The free times by local day, at most SLOTS_PER_DAY a day spread over the day (not just its first hours)."""
    days: list[SlotDay] = []
    for slot in slots:
        day = slot.start.astimezone(policy.tz).date()
        if not days or days[-1].day != day:
            days.append(SlotDay(day, []))
        days[-1].slots.append(slot)
    return [SlotDay(d.day, d.slots[::-(-len(d.slots) // SLOTS_PER_DAY)]) for d in days]


def _search_from(form: MeetingForm, policy: BookingPolicy, now: datetime) -> datetime:
    after = request.form.get("after")
    if after:
        try:
            moment = datetime.fromisoformat(after)
            if moment.tzinfo is not None:
                return max(moment, now)
        except ValueError:
            pass
    if form.day.data is not None:
        return max(datetime.combine(form.day.data, time(0), policy.tz), now)
    return now


def _free_times(form: MeetingForm, policy: BookingPolicy) -> tuple[list[SlotDay], str | None]:
    runtime, now = current(), utcnow()
    begin = _search_from(form, policy, now)
    try:
        slots = find_available_slots(
            db_session(), g.user, mediator_ids=list(form.mediator_ids.data or ()), room_id=_room_id(form),
            location_id=None, duration=timedelta(minutes=form.duration.data), start=begin,
            end=begin + SEARCH_SPAN, now=now, workdays=runtime.workdays, tz=policy.tz,
            grid=timedelta(minutes=runtime.settings.slot_grid_minutes), min_notice=policy.min_notice,
            limit=None)
    except InvalidInput as exc:
        field = exc.errors[0]["field"] if exc.errors else ""
        if field == "mediator_ids":
            _add_error(form.mediator_ids, _("Choose one or two active mediators of this case, yourself among them."))
        else:
            _add_error(form.room_id, _("This room cannot be used: it is no longer available."))
        return [], None
    days = _slot_days(slots, policy)
    if len(days) <= DAYS_SHOWN:
        return days, None
    later = datetime.combine(days[DAYS_SHOWN].day, time(0), policy.tz)  # "later" starts at the next day
    return days[:DAYS_SHOWN], later.isoformat()


# --- the meeting page ------------------------------------------------------------------------------

def _render(ctx: MeetingContext, form: MeetingForm, policy: BookingPolicy, status: int = 200,
            **extra: Any) -> tuple[str, int]:
    by_id = {p.id: p for p in ctx.participants}
    arrivals = [(by_id[pid], field) for pid, field in form.arrival_fields()]
    return _page("plan.html", status, ctx=ctx, form=form, arrivals=arrivals, case_url=_case_url(ctx.case.id),
                 may_override=g.user.sees_all_cases, arrival_gap=int(policy.arrival_gap.total_seconds() // 60),
                 departure_gap=int(policy.departure_gap.total_seconds() // 60),
                 arrivals_errors=getattr(form, "arrivals_errors", []), **extra)


@desk_meeting.route("/cases/<int:case_id>/meeting", methods=["GET", "POST"])
@login_required
def plan(case_id: int) -> Any:
    session = db_session()
    try:
        case = case_for(session, g.user, case_id)
    except NotFound:
        return _not_found()
    policy = _policy()
    ctx = MeetingContext.of(session, case)
    if request.method == "GET":
        return _render(ctx, _form(ctx, policy, submitted=False), policy)
    form = _form(ctx, policy, submitted=True)
    valid = form.validate()
    slot = request.form.get("slot")
    if slot is not None:  # a free time was picked: it fills in the date and start
        try:
            picked = datetime.fromisoformat(slot).astimezone(policy.tz)
            form.day.data, form.start_time.data = picked.date(), picked.time().replace(second=0, microsecond=0)
            form.day.raw_data, form.start_time.raw_data = [form.day.data.isoformat()], [picked.strftime("%H:%M")]
            form.day.errors, form.start_time.errors = [], []
        except ValueError:
            _add_error(form.start_time, _("Choose one of the free times."))
            valid = False
    action = request.form.get("action") or ("find" if request.form.get("after") else "check")
    if not valid or action not in ("find", "check", "plan"):
        return _render(ctx, form, policy, 400)
    if action == "find":
        days, later = _free_times(form, policy)
        return _render(ctx, form, policy, 200 if not form.errors else 400, days=days, later=later, searched=True)
    if not _complete(ctx, form):
        return _render(ctx, form, policy, 400)
    start = _start(form, policy)
    assert start is not None
    req = _request(ctx, form, start)
    if action == "check":
        try:
            times = _check(req, policy)
        except Problem as exc:
            return _render(ctx, form, policy, 409 if isinstance(exc, Conflict) else 400,
                           refusal=_show_refusal(form, exc, policy))
        return _render(ctx, form, policy, times=times, checked=True)
    try:
        with writing() as (write, actor):
            appointment_id = booking.book(write, req, actor, utcnow(), policy=policy).id
    except Problem as exc:
        return _render(ctx, form, policy, 409 if isinstance(exc, Conflict) else 400,
                       refusal=_show_refusal(form, exc, policy))
    flash(_("The joint meeting is planned. Each party's messages give only their own arrival and departure."),
          "success")
    return redirect(url_for(".planned", appointment_id=appointment_id), 303)


@desk_meeting.get("/meetings/<int:appointment_id>")
@login_required
def planned(appointment_id: int) -> Any:
    """A planned meeting: each participant's own arrival and departure, as their messages give them."""
    session = db_session()
    try:
        appointment = appointment_for(session, g.user, appointment_id)
    except NotFound:
        return _not_found()
    room = session.get(Room, appointment.room_id) if appointment.room_id is not None else None
    return _page("planned.html", appointment=appointment, room=room, times=_times(appointment),
                 case_url=_case_url(appointment.case_id),
                 appointment_url=_url("desk_booking.appointment", appointment_id=appointment.id))


# the withdrawal and undo views register themselves on this blueprint
from scheduler import desk_withdrawal  # noqa: E402,F401  (import for its routes)
