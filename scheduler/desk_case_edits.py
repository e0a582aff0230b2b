"""The office's write pages of the desk_cases blueprint: a case's details, opening a case, its participants.

Registered on scheduler.desk_cases' blueprint (imported at the bottom of that module), so the endpoints stay
`desk_cases.*`. Every write goes through casework, in one write transaction.
"""
from __future__ import annotations

from typing import Any, Callable

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy.orm import Session

from core.auth import login_required
from core.db import utcnow
from core.models import User
from core.problems import NotFound, Problem
from core.runtime import db_session
from scheduler import casework, registrations
from scheduler.access import case_for, participant_for
from scheduler.api import writing
from scheduler.desk_case_forms import CaseForm, NewCaseForm, ParticipantFields, mediator_choices, region_choices
from scheduler.desk_case_rows import _case_with_people
from scheduler.desk_cases import (_callbacks, _choice_lists, _not_found, _office_only, _page, _problem_page,
                                  _with_kept, desk_cases)
from scheduler.models import Case


# --- a case's details ------------------------------------------------------------------------

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

def _query_id(name: str) -> int | None:
    raw = request.args.get(name, "")
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
    callback_id = _query_id("callback_id")
    if callback_id is not None:
        callback = hooks.prefill(session, g.user, callback_id) if hooks else None
        if callback is None:
            return _not_found()
    linked = session.get(Case, callback.case_id) if callback and callback.case_id else None
    prefill = {"phone": callback.phone, "language": callback.language} if callback else {}
    registration, registration_id = None, _query_id("registration_id")  # a registration from /aanmelden
    if registration_id is not None:
        try:
            registration = registrations.registration_for(session, g.user, registration_id)
        except NotFound:
            return _not_found()
        prefill = registrations.case_prefill(registration)
        linked = session.get(Case, registration.case_id) if registration.case_id else None
    form = NewCaseForm(participant_required=callback is not None or registration is not None, **prefill)
    mediators, regions = _choice_lists(session, only_active=True)
    form.mediator_1.choices = mediator_choices(mediators, _l("no mediator yet"))
    form.mediator_2.choices = mediator_choices(mediators, _l("none"))
    form.region.choices = region_choices(regions, _l("no region yet"))
    if request.method == "GET" or not form.validate_on_submit():
        return _page("new.html", 400 if request.method == "POST" else 200, form=form, callback=callback,
                     linked=linked, registration=registration)
    try:
        with writing() as (write, actor):
            case = casework.create_case(write, actor, form.case_values(), utcnow())
            person = None
            if form.wants_participant():
                person = casework.create_participant(write, actor, {"case_id": case.id, **form.values()})
            if callback is not None and hooks is not None:
                hooks.link(write, actor, callback.id, case.id)
            if registration is not None:  # handled once: a second case from it rolls back with this one
                registrations.mark_case_opened(write, actor, registration.id, case.id, utcnow(),
                                               person.id if person else None)
            case_id = case.id
    except registrations.AlreadyHandled:
        flash(_("This registration was already handled: no case was opened."), "warning")
        return redirect(url_for("desk_registrations.show", registration_id=registration_id), 303)
    except Problem as exc:
        _problem_page(form, exc)
        return _page("new.html", 400, form=form, callback=callback, linked=linked, registration=registration)
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
