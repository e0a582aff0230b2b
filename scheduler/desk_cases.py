"""The case pages: the list with its filters, one case, opening a case, its participants and its details.

Who sees a case is scheduler.access's (a mediator only their own: anything
else is the same 404 as an unknown id); every write goes through casework,
in one write transaction, so a refusal changes nothing and comes back next to
the field it names. Callback requests belong to telephony: it registers
`CaseCallbacks` (telephony/case_links.py) and these pages call it, so
scheduler never imports telephony. Links to pages other areas build (plan an
intake, a joint meeting, withdraw) appear once their endpoint exists.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from math import ceil
from typing import Any, Callable

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_translations, gettext as _, lazy_gettext as _l
from sqlalchemy import String, and_, cast, func, literal, or_, select, true, union_all
from sqlalchemy.orm import Session, joinedload

from core.auth import login_required
from core.db import utcnow
from core.models import AuditEntry, User
from core.problems import NotFound, Problem
from core.runtime import current, db_session
from core.web import has_endpoint, label
from scheduler import casework
from scheduler.access import case_for, participant_for, visible_cases
from scheduler.api import writing
from scheduler.desk_case_forms import (CaseFilterForm, CaseForm, NewCaseForm, ParticipantFields, translated,
                                       mediator_choices, region_choices, service_error)
from scheduler.models import (Appointment, Attendance, Case, Mediator, MediatorTask, Region, appointment_mediators,
                              case_mediators, case_regions)
from scheduler.overdue import PLANNED_STATUSES, is_overdue, overdue_clause

desk_cases = Blueprint("desk_cases", __name__, template_folder="templates", static_folder="static",
                       static_url_path="/static/desk_cases")

PAGE_SIZE = 50
HISTORY_LIMIT = 200
CALLBACKS_KEY = "pendel_case_callbacks"


# --- what telephony tells the case pages (registered by telephony's plugin) -------------------------

@dataclass(frozen=True)
class CallbackSummary:
    id: int
    status: str
    created_at: datetime
    due_at: datetime
    endpoint: str  # the request's own page, called with callback_id


@dataclass(frozen=True)
class CallbackPrefill:
    id: int
    phone: str
    language: str
    case_id: int | None  # already linked to this case


@dataclass(frozen=True)
class CaseCallbacks:
    for_case: Callable[[Session, User, int], list[CallbackSummary]]
    prefill: Callable[[Session, User, int], CallbackPrefill | None]
    link: Callable[[Session, User, int, int], bool]


def register_case_callbacks(app: Flask, hooks: CaseCallbacks) -> None:
    app.extensions[CALLBACKS_KEY] = hooks


def _callbacks() -> CaseCallbacks | None:
    return current_app.extensions.get(CALLBACKS_KEY)


# --- small helpers ---------------------------------------------------------------------------

def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(f"scheduler/desk/cases/{template}", **context), status


def _not_found() -> tuple[str, int]:
    return _page("message.html", 404, title=_("Not found"),
                 text=_("This page does not exist, or it is not one of your cases."))


def _office_only() -> tuple[str, int] | None:
    """Opening cases, participants and a case's details are the office's (coordinators and admins)."""
    if g.user.sees_all_cases:
        return None
    return _page("message.html", 403, title=_("For the office"),
                 text=_("Opening cases and changing their participants, mediators, region and status is done by "
                        "a coordinator."))


def _choice_lists(session: Session, only_active: bool) -> tuple[list[Any], list[Any]]:
    """The mediators (id, name, active) and the regions (id, name) the forms choose from, each by name, in one
    query: every page with these forms needs both."""
    mediators = select(literal("mediator").label("list"), Mediator.id, Mediator.name, Mediator.active)
    if only_active:
        mediators = mediators.where(Mediator.active.is_(True))
    regions = select(literal("region"), Region.id, Region.name, true())
    rows = list(session.execute(union_all(mediators, regions).order_by("list", "name", "id")))
    return [r for r in rows if r.list == "mediator"], [r for r in rows if r.list == "region"]


def _with_kept(mediators: list[Any], keep: Any = ()) -> list[Any]:
    """The active mediators and, at the end, those of `keep` (a case's own) that are not active any more."""
    listed = {m.id for m in mediators}
    return mediators + [m for m in keep if m.id not in listed]


def _problem_page(form: Any, exc: Problem) -> None:
    unplaced = service_error(form, exc.errors, exc.detail)
    if unplaced is not None:
        flash(unplaced, "error")


# --- the list ---------------------------------------------------------------------------------

def filtered_cases(session: Session, user: User, form: CaseFilterForm, now: datetime) -> Any:
    """The cases `user` may see that pass the filters, newest first."""
    settings = current().settings
    query = visible_cases(session, user).order_by(None).order_by(Case.created_at.desc(), Case.id.desc())
    if form.status.data:
        query = query.where(Case.status == form.status.data)
    if form.kind.data:
        query = query.where(Case.kind == form.kind.data)
    if form.mediator.data is not None:
        query = query.where(Case.id.in_(select(case_mediators.c.case_id)
                                        .where(case_mediators.c.mediator_id == form.mediator.data)))
    if form.region.data is not None:
        query = query.where(Case.id.in_(select(case_regions.c.case_id)
                                        .where(case_regions.c.region_id == form.region.data)))
    if form.overdue.data:
        query = query.where(overdue_clause(now, settings.intake_norm_working_days, current().workdays,
                                           settings.tz))
    return query


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100000 else 1


@dataclass(frozen=True)
class CaseRow:
    """A case as the list shows it: its words are looked up from the filters' lists, not loaded per case."""
    id: int
    reference: str
    kind: str
    status: str
    created_at: datetime
    region: str
    mediators: list[str]
    overdue: bool


def _list_rows(session: Session, query: Any, now: datetime, number: int) -> list[Any]:
    """One page of the list in one query: each case with its region's id, its mediators' ids, whether it is
    overdue, and how many cases pass the filters (every row carries the count)."""
    settings = current().settings
    filtered = query.order_by(None).with_only_columns(Case.id).subquery()
    mediator_ids = (select(func.aggregate_strings(cast(case_mediators.c.mediator_id, String), ","))
                    .where(case_mediators.c.case_id == Case.id).scalar_subquery())
    region_id = select(case_regions.c.region_id).where(case_regions.c.case_id == Case.id).scalar_subquery()
    overdue = overdue_clause(now, settings.intake_norm_working_days, current().workdays, settings.tz)
    total = select(func.count()).select_from(filtered).scalar_subquery()
    return list(session.execute(query.with_only_columns(
        Case.id, Case.reference, Case.kind, Case.status, Case.created_at, region_id.label("region_id"),
        mediator_ids.label("mediator_ids"), overdue.label("overdue"), total.label("total"))
        .limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)))


@desk_cases.get("/cases")
@login_required
def index() -> Any:
    session, now = db_session(), utcnow()
    form = CaseFilterForm(request.args)
    mediators, regions = _choice_lists(session, only_active=False)
    form.mediator.choices = mediator_choices(mediators, _l("any mediator"))
    form.region.choices = region_choices(regions, _l("any region"))
    if not form.validate():  # an unknown value in the address: show everything rather than guess
        return redirect(url_for(".index"))
    query = filtered_cases(session, g.user, form, now)
    number = _page_number()
    rows = _list_rows(session, query, now, number)
    total = rows[0].total if rows else 0
    if not rows and number > 1:  # a page past the last one: the last page
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        if total:
            number = ceil(total / PAGE_SIZE)
            rows = _list_rows(session, query, now, number)
    pages = max(1, ceil(total / PAGE_SIZE))
    names = {m.id: m.name for m in mediators}
    region_names = {r.id: r.name for r in regions}
    cases = [CaseRow(r.id, r.reference, r.kind, r.status, r.created_at, region_names.get(r.region_id, ""),
                     [names[i] for i in sorted(int(i) for i in r.mediator_ids.split(","))] if r.mediator_ids else [],
                     bool(r.overdue)) for r in rows]
    kept = {k: v for k, v in request.args.items() if k != "page" and v}

    def page_url(n: int) -> str:
        return url_for(".index", **kept, page=n) if n > 1 else url_for(".index", **kept)

    return _page("index.html", form=form, cases=cases, total=total, page=number, pages=pages,
                 page_url=page_url, filtered=bool(kept), norm=current().settings.intake_norm_working_days)


# --- one case ---------------------------------------------------------------------------------

HISTORY_WORDS = {
    "case.created": _l("Case opened"),
    "case.updated": _l("Case changed"),
    "case.mediator_added": _l("A mediator joined the case for an appointment"),
    "participant.created": _l("Participant added"),
    "participant.updated": _l("Participant's details changed"),
    "participant.withdrew": _l("Participant stopped"),
    "participant.withdrawal_undone": _l("Participant's stop undone"),
    "participant.sms_stopped": _l("Participant turned texts off (STOP)"),
    "participant.sms_started": _l("Participant turned texts on again (START)"),
    "appointment.held": _l("Appointment reserved"),
    "appointment.booked": _l("Appointment booked"),
    "appointment.confirmed": _l("Appointment confirmed"),
    "appointment.rescheduled": _l("Appointment moved"),
    "appointment.cancelled": _l("Appointment cancelled"),
    "appointment.reassigned": _l("Appointment given to another mediator"),
    "task.done": _l("Task done"),
    "task.reassigned": _l("Task given to another mediator"),
    "callback.linked": _l("Callback request linked to this case"),
    "callback.claim": _l("Callback request taken up"),
    "callback.release": _l("Callback request put back in the queue"),
    "callback.done": _l("Callback request closed: done"),
    "callback.cancelled": _l("Callback request closed: no longer needed"),
}
# Actions with a variable last part, by their start.
HISTORY_PREFIXES = {
    "appointment.override.": _l("Booked as an exception to the rules, with a reason"),
    "callback.attempt.": _l("Called back"),
}
FIELD_WORDS = {
    "reference": _l("case number"), "kind": _l("kind"), "status": _l("status"), "mediator_ids": _l("mediators"),
    "region_id": _l("region"), "name": _l("name"), "role": _l("role"), "phone": _l("phone"), "email": _l("email"),
    "address": _l("address"), "language": _l("language"), "sms_allowed": _l("texts allowed"),
    "email_allowed": _l("emails allowed"), "full_text_opt_in": _l("consent to name the mediation"),
}


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    actor: str | None
    what: Any
    details: list[Any]
    subject: Any  # e.g. the appointment's kind or the participant's role, as words
    link: str | None


def _history_what(action: str) -> Any:
    if action in HISTORY_WORDS:
        return HISTORY_WORDS[action]
    for start, words in HISTORY_PREFIXES.items():
        if action.startswith(start):
            return words
    return _l("Other change")


def _history(session: Session, case: Case, appointments: list[AppointmentRow],
             callbacks: list[CallbackSummary]) -> list[HistoryItem]:
    """The audit trail of the case and of its participants, appointments, tasks and callback requests."""
    roles = {p.id: p.role for p in case.participants}
    kinds = {a.id: a.kind for a in appointments}
    tasks = select(MediatorTask.id).where(MediatorTask.case_id == case.id).scalar_subquery()
    about = or_(and_(AuditEntry.object_type == "case", AuditEntry.object_id == case.id),
                and_(AuditEntry.object_type == "participant", AuditEntry.object_id.in_(list(roles))),
                and_(AuditEntry.object_type == "appointment", AuditEntry.object_id.in_(list(kinds))),
                and_(AuditEntry.object_type.in_(("task", "mediator_task")), AuditEntry.object_id.in_(tasks)),
                and_(AuditEntry.object_type == "callback_request",
                     AuditEntry.object_id.in_([c.id for c in callbacks])))
    rows = session.execute(select(AuditEntry.at, AuditEntry.action, AuditEntry.object_type, AuditEntry.object_id,
                                  AuditEntry.detail, User.name.label("actor"))
                           .outerjoin(User, User.id == AuditEntry.actor_id)
                           .where(about).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(HISTORY_LIMIT))
    items, catalog = [], get_translations()  # the words once for the whole history, not once per entry
    appointment_links = has_endpoint("desk_booking.appointment")
    for entry in rows:
        details: list[Any] = []
        subject, link = None, None
        if entry.action in ("case.updated", "participant.updated") and entry.detail:
            details = [translated(FIELD_WORDS[name], catalog) for name in entry.detail.split(",")
                       if name in FIELD_WORDS]
        elif entry.action == "appointment.cancelled" and entry.detail:
            details = [label(entry.detail, "cancel_reason")]
        elif entry.action.startswith("callback.attempt."):
            details = [label(entry.action.rsplit(".", 1)[1], "attempt_outcome")]
        if entry.object_type == "participant":
            subject = label(roles.get(entry.object_id), "participant_role")
        elif entry.object_type == "appointment":
            subject = label(kinds.get(entry.object_id), "appointment_kind")
            if appointment_links:
                link = url_for("desk_booking.appointment", appointment_id=entry.object_id)
        items.append(HistoryItem(entry.at, entry.actor, translated(_history_what(entry.action), catalog), details,
                                 subject, link))
    return items


def _case_with_people(session: Session, user: User, case_id: int) -> Case | None:
    """The case if `user` may see it (scheduler.access), with its region, mediators and participants: one query."""
    return session.execute(visible_cases(session, user).where(Case.id == case_id).options(
        joinedload(Case.region), joinedload(Case.mediators).load_only(Mediator.id, Mediator.name, Mediator.active),
        joinedload(Case.participants))).unique().scalar_one_or_none()


@dataclass(frozen=True)
class Attending:
    participant_id: int
    arrival: datetime | None


@dataclass
class AppointmentRow:
    """An appointment as the case page shows it: its mediators' names and who comes, from one query."""
    id: int
    kind: str
    mode: str
    start: datetime
    end: datetime
    status: str
    cancel_reason: str | None
    mediators: list[str]
    attendances: list[Attending]


def _appointment_rows(session: Session, case_id: int) -> list[AppointmentRow]:
    """The case's appointments, latest first, each with its mediators (by id) and attendances (by participant):
    one query, a row per appointment, mediator and attendance."""
    rows = session.execute(
        select(Appointment.id, Appointment.kind, Appointment.mode, Appointment.start, Appointment.end,
               Appointment.status, Appointment.cancel_reason, Mediator.id.label("mediator_id"),
               Mediator.name.label("mediator"), Attendance.participant_id, Attendance.arrival)
        .select_from(Appointment)
        .outerjoin(appointment_mediators, appointment_mediators.c.appointment_id == Appointment.id)
        .outerjoin(Mediator, Mediator.id == appointment_mediators.c.mediator_id)
        .outerjoin(Attendance, Attendance.appointment_id == Appointment.id)
        .where(Appointment.case_id == case_id)
        .order_by(Appointment.start.desc(), Appointment.id.desc(), Mediator.id, Attendance.participant_id))
    found: dict[int, tuple[AppointmentRow, set[int], set[int]]] = {}
    for r in rows:
        if r.id not in found:
            found[r.id] = (AppointmentRow(r.id, r.kind, r.mode, r.start, r.end, r.status, r.cancel_reason, [], []),
                           set(), set())
        row, mediators, attending = found[r.id]
        if r.mediator_id is not None and r.mediator_id not in mediators:
            mediators.add(r.mediator_id)
            row.mediators.append(r.mediator)
        if r.participant_id is not None and r.participant_id not in attending:
            attending.add(r.participant_id)
            row.attendances.append(Attending(r.participant_id, r.arrival))
    return [row for row, _m, _a in found.values()]


def _case_page(case_id: int) -> Any:
    session, user, now = db_session(), g.user, utcnow()
    case = _case_with_people(session, user, case_id)
    if case is None:
        return _not_found()
    appointments = _appointment_rows(session, case.id)
    tasks = list(session.execute(
        casework.visible_tasks(session, user).where(MediatorTask.case_id == case.id, MediatorTask.done_at.is_(None))
        .with_only_columns(MediatorTask.kind, MediatorTask.created_at, MediatorTask.appointment_id,
                           Mediator.name.label("mediator"))
        .join_from(MediatorTask, Mediator, Mediator.id == MediatorTask.mediator_id, isouter=True)))
    hooks = _callbacks()
    callbacks = hooks.for_case(session, user, case.id) if hooks else []
    settings = current().settings
    planned = any(a.kind == "intake" and a.status in PLANNED_STATUSES for a in appointments)
    overdue = is_overdue(case.status, planned, case.created_at, now, settings.intake_norm_working_days,
                         current().workdays, settings.tz)
    roles = {p.id: p.role for p in case.participants}
    return _page("show.html", case=case, appointments=appointments, tasks=tasks, callbacks=callbacks,
                 history=_history(session, case, appointments, callbacks),
                 overdue=overdue, norm=settings.intake_norm_working_days, roles=roles, live=("held", "confirmed"), now=now)


def _edit_page(session: Session, case: Case, form: CaseForm, status: int = 200) -> Any:
    """The office's form for the case's kind, status, region and mediators: a page of its own, so the case page,
    opened far more often than its details change, neither loads nor renders every mediator and region."""
    _case_form_choices(session, form, case)
    return _page("edit.html", status, case=case, form=form)


def _case_form_choices(session: Session, form: CaseForm, case: Case) -> None:
    mediators, regions = _choice_lists(session, only_active=True)
    mediators = _with_kept(mediators, case.mediators)
    form.mediator_1.choices = mediator_choices(mediators, _l("no mediator yet"))
    form.mediator_2.choices = mediator_choices(mediators, _l("none"))
    form.region.choices = region_choices(regions, _l("no region yet"))


@desk_cases.get("/cases/<int:case_id>")
@login_required
def show(case_id: int) -> Any:
    return _case_page(case_id)


def _case_for_office(case_id: int) -> Case | tuple[str, int]:
    """The case, for the office's form: the 404 of a case out of sight first, then the 403 of a mediator's."""
    case = _case_with_people(db_session(), g.user, case_id)
    if case is None:
        return _not_found()
    return _office_only() or case


@desk_cases.get("/cases/<int:case_id>/edit")
@login_required
def edit(case_id: int) -> Any:
    case = _case_for_office(case_id)
    if not isinstance(case, Case):
        return case
    form = CaseForm(formdata=None, kind=case.kind, status=case.status, region=case.region.id if case.region else None,
                    mediator_1=case.mediators[0].id if case.mediators else None,
                    mediator_2=case.mediators[1].id if len(case.mediators) > 1 else None)
    return _edit_page(db_session(), case, form)


@desk_cases.post("/cases/<int:case_id>")
@login_required
def change(case_id: int) -> Any:
    """The coordinator's changes to the case: kind, status, region, mediators (only what changed is sent)."""
    session, case = db_session(), _case_for_office(case_id)
    if not isinstance(case, Case):
        return case
    form = CaseForm()
    _case_form_choices(session, form, case)
    if not form.validate_on_submit():
        return _edit_page(session, case, form, 400)
    wanted = form.case_values()
    now_values = {"kind": case.kind, "status": case.status, "region_id": case.region.id if case.region else None,
                  "mediator_ids": [m.id for m in case.mediators]}
    changes = {k: v for k, v in wanted.items() if v != now_values[k]}
    if not changes:
        flash(_("Nothing was changed."), "warning")
        return redirect(url_for(".show", case_id=case_id), 303)
    try:
        with writing() as (write, actor):
            casework.update_case(write, actor, case_id, changes, utcnow())
    except NotFound:
        return _not_found()
    except Problem as exc:
        _problem_page(form, exc)
        return _edit_page(session, case, form, 400)
    flash(_("The case was changed."), "success")
    return redirect(url_for(".show", case_id=case_id), 303)


# --- opening a case ------------------------------------------------------------------------

def _callback_id() -> int | None:
    raw = request.args.get("callback_id", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None


@desk_cases.route("/cases/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    refused = _office_only()
    if refused:
        return refused
    session = db_session()
    hooks = _callbacks()
    callback = None
    callback_id = _callback_id()
    if callback_id is not None:
        callback = hooks.prefill(session, g.user, callback_id) if hooks else None
        if callback is None:
            return _not_found()
    linked = session.get(Case, callback.case_id) if callback and callback.case_id else None
    prefill = {"phone": callback.phone, "language": callback.language} if callback else {}
    form = NewCaseForm(participant_required=callback is not None, **prefill)
    mediators, regions = _choice_lists(session, only_active=True)
    form.mediator_1.choices = mediator_choices(mediators, _l("no mediator yet"))
    form.mediator_2.choices = mediator_choices(mediators, _l("none"))
    form.region.choices = region_choices(regions, _l("no region yet"))
    if request.method == "GET" or not form.validate_on_submit():
        return _page("new.html", 400 if request.method == "POST" else 200, form=form, callback=callback,
                     linked=linked)
    try:
        with writing() as (write, actor):
            case = casework.create_case(write, actor, form.case_values(), utcnow())
            if form.wants_participant():
                casework.create_participant(write, actor, {"case_id": case.id, **form.values()})
            if callback is not None and hooks is not None:
                hooks.link(write, actor, callback.id, case.id)
            case_id = case.id
    except Problem as exc:
        _problem_page(form, exc)
        return _page("new.html", 400, form=form, callback=callback, linked=linked)
    flash(_("The case was opened."), "success")
    return redirect(url_for(".show", case_id=case_id), 303)


# --- participants ------------------------------------------------------------------------------

def _participant_page(form: ParticipantFields, case: Case, participant: Any,
                      save: Callable[[Session, User], Any]) -> Any:
    """The participant form; on a valid post `save` runs in one write transaction and says what it did."""
    if request.method == "GET" or not form.validate_on_submit():
        return _page("participant.html", 400 if request.method == "POST" else 200, form=form, case=case,
                     participant=participant)
    case_id = case.id
    try:
        with writing() as (write, actor):
            message = save(write, actor)
    except NotFound:
        return _not_found()
    except Problem as exc:
        _problem_page(form, exc)
        return _page("participant.html", 400, form=form, case=case, participant=participant)
    flash(*message)
    return redirect(url_for(".show", case_id=case_id, _anchor="participants"), 303)


@desk_cases.route("/cases/<int:case_id>/participants/new", methods=["GET", "POST"])
@login_required
def add_participant(case_id: int) -> Any:
    try:
        case = case_for(db_session(), g.user, case_id)
    except NotFound:
        return _not_found()
    form = ParticipantFields()

    def save(write: Session, actor: User) -> tuple[str, str]:
        casework.create_participant(write, actor, {"case_id": case_id, **form.values()})
        return _("The participant was added."), "success"
    return _office_only() or _participant_page(form, case, None, save)


@desk_cases.route("/participants/<int:participant_id>/edit", methods=["GET", "POST"])
@login_required
def edit_participant(participant_id: int) -> Any:
    try:
        participant = participant_for(db_session(), g.user, participant_id)
    except NotFound:
        return _not_found()
    form = ParticipantFields(obj=participant)
    stored = {name: getattr(participant, name) for name in form.values()}

    def save(write: Session, actor: User) -> tuple[str, str]:
        changes = {k: v for k, v in form.values().items() if v != stored[k]}
        if not changes:
            return _("Nothing was changed."), "warning"
        casework.update_participant(write, actor, participant_id, changes)
        return _("The participant's details were saved."), "success"
    return _office_only() or _participant_page(form, participant.case, participant, save)
