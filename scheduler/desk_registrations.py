"""The office's queue of registrations from /aanmelden: the list, one registration, closing it without a case.

For coordinators and admins only: a mediator gets the office's 403 (registrations are intake, before any case
is theirs). Opening a case is the case pages' own form (/cases/new?registration_id=…, scheduler.desk_case_edits),
prefilled from the registration and linking it in the same write transaction. The queue shows how long each
registration has waited in working days, since the page promises a reply by the next working day.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired

from core.auth import login_required
from core.db import utcnow
from core.models import User
from core.problems import NotFound
from core.runtime import current, db_session
from scheduler import registrations
from scheduler.api import writing
from scheduler.models import Case
from scheduler.public_registration_form import WORDS
from scheduler.registration_models import CLOSE_REASONS, Registration

desk_registrations = Blueprint("desk_registrations", __name__, template_folder="templates")

LIMIT = 200
VIEWS = {"new": _l("not yet handled"), "handled": _l("handled")}
CLOSE_WORDS = {"duplicate": _l("registered twice"), "not_for_us": _l("not something for mediation"),
               "no_longer_wanted": _l("no longer wanted"), "unreachable": _l("could not be reached"),
               "not_serious": _l("not a real registration"), "other": _l("other reason")}


class CloseForm(FlaskForm):
    reason = RadioField(_l("Why is it closed without a case?"), choices=[SelectChoice(k, v) for k, v in CLOSE_WORDS.items()],
                        validate_choice=False,
                        validators=[InputRequired(message=_l("Choose a reason.")),
                                    AnyOf(CLOSE_REASONS, message=_l("Choose a reason."))])


@dataclass(frozen=True)
class QueueRow:
    row: Registration
    waiting_days: int  # working days since the day it came in (0: it came in today)


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(f"scheduler/desk/registrations/{template}", words=WORDS, close_words=CLOSE_WORDS,
                           **context), status


def _refusal() -> tuple[str, int] | None:
    if g.user.sees_all_cases:
        return None
    return render_template("scheduler/desk/cases/message.html", title=_("For the office"),
                           text=_("Registrations are read and handled by the coordinators.")), 403


def _not_found() -> tuple[str, int]:
    return render_template("scheduler/desk/cases/message.html", title=_("Not found"),
                           text=_("This registration does not exist (any more).")), 404


def _waiting_days(created_at: datetime, now: datetime) -> int:
    runtime = current()
    tz = runtime.settings.tz
    return runtime.workdays.working_days_between(created_at.astimezone(tz).date(), now.astimezone(tz).date())


@desk_registrations.get("/registrations")
@login_required
def index() -> Any:
    refused = _refusal()
    if refused:
        return refused
    view = request.args.get("view", "new")
    if view not in VIEWS:
        return redirect(url_for(".index"))
    session, now = db_session(), utcnow()
    query = registrations.waiting(g.user, LIMIT) if view == "new" else registrations.handled(g.user, LIMIT)
    rows = [QueueRow(r, _waiting_days(r.created_at, now)) for r in session.scalars(query)]
    return _page("index.html", rows=rows, view=view, views=VIEWS, limit=LIMIT)


def _handler_and_case(row: Registration) -> tuple[str | None, Case | None]:
    session = db_session()
    handler = session.scalar(select(User.name).where(User.id == row.handled_by_id)) if row.handled_by_id else None
    case = session.get(Case, row.case_id) if row.case_id else None
    return handler, case


def _show(row: Registration, form: CloseForm, status: int = 200) -> tuple[str, int]:
    handler, case = _handler_and_case(row)
    return _page("show.html", status, r=row, form=form, handler=handler, case=case,
                 waiting_days=_waiting_days(row.created_at, utcnow()))


def _registration(registration_id: int) -> Registration | tuple[str, int]:
    """The registration for the office: a mediator's 403 first, then the 404 of an unknown id."""
    refused = _refusal()
    if refused:
        return refused
    try:
        return registrations.registration_for(db_session(), g.user, registration_id)
    except NotFound:
        return _not_found()


@desk_registrations.get("/registrations/<int:registration_id>")
@login_required
def show(registration_id: int) -> Any:
    row = _registration(registration_id)
    return _show(row, CloseForm(formdata=None)) if isinstance(row, Registration) else row


@desk_registrations.post("/registrations/<int:registration_id>/close")
@login_required
def close(registration_id: int) -> Any:
    row = _registration(registration_id)
    if not isinstance(row, Registration):
        return row
    form = CloseForm()
    if not form.validate_on_submit():
        return _show(row, form, 400)
    try:
        with writing() as (write, actor):
            registrations.close(write, actor, registration_id, form.reason.data, utcnow())
    except registrations.AlreadyHandled:
        flash(_("This registration was already handled."), "warning")
        return redirect(url_for(".show", registration_id=registration_id), 303)
    flash(_("The registration was closed without a case."), "success")
    return redirect(url_for(".index"), 303)
