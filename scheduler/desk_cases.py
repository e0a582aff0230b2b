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
from typing import Any

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import String, cast, func, literal, select, true, union_all
from sqlalchemy.orm import Session

from core.auth import login_required
from core.db import utcnow
from core.models import User
from core.problems import Problem
from core.runtime import current, db_session
from scheduler import casework
from scheduler.access import visible_cases
from scheduler.desk_case_forms import CaseFilterForm, mediator_choices, region_choices, service_error
# The callback types telephony registers, and what the case page loads, live in desk_case_rows; named here too.
from scheduler.desk_case_rows import (HISTORY_LIMIT, AppointmentRow, Attending, CallbackPrefill,  # noqa: F401
                                      CallbackSummary, CaseCallbacks, HistoryItem, _appointment_rows,
                                      _case_with_people, _history)
from scheduler.models import Case, Mediator, MediatorTask, Region, case_mediators, case_regions
from scheduler.offer_rows import offer_rows
from scheduler.overdue import PLANNED_STATUSES, is_overdue, overdue_clause

desk_cases = Blueprint("desk_cases", __name__, template_folder="templates", static_folder="static",
                       static_url_path="/static/desk_cases")

PAGE_SIZE = 50
CALLBACKS_KEY = "pendel_case_callbacks"


# --- what telephony tells the case pages (registered by telephony's plugin) -------------------------

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
                 overdue=overdue, norm=settings.intake_norm_working_days, roles=roles, live=("held", "confirmed"), now=now,
                 offers=offer_rows(session, case.id, now), names={p.id: p.name for p in case.participants})


@desk_cases.get("/cases/<int:case_id>")
@login_required
def show(case_id: int) -> Any:
    return _case_page(case_id)


# The write views (a case's details, opening a case, participants) are registered on `desk_cases` there.
from scheduler import desk_case_edits  # noqa: E402,F401
