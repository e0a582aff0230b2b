"""A mediator falls ill: choose them and the days, see who would take each appointment, apply in one go.

The preview and "apply" run the same plan (scheduler.reassign): the preview
with `plan_reassignment`, which writes nothing, and "apply" with
`reassign_future`, handed the signature of the plan the coordinator saw. If
the plan is no longer the same (a booking, a cancellation or imported busy
time in between), nothing is written and the page shows the new proposal to
check. Coordinators (and admins) only, as the service has it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.db import utcnow
from core.models import User
from core.problems import Forbidden, InvalidInput
from core.runtime import current, db_session
from core.auth import login_required
from scheduler import reassign
from scheduler.desk_reassign_forms import ApplyForm, ReassignForm
from scheduler.models import Appointment, Mediator, MediatorTask
from scheduler.policy import policy_of
from scheduler.reassign import PlanChanged, ReassignPlan, Unmovable, plan_reassignment, reassign_future

desk_reassign = Blueprint("desk_reassign", __name__, template_folder="templates")

DEFAULT_WORKING_DAYS = 5


@dataclass(frozen=True)
class Row:
    appointment: Appointment
    to: Mediator | None          # the colleague (None: it stays)
    why: list[str]               # why it stays, in words


def _office_only() -> None:
    if not g.user.sees_all_cases:  # the service's own rule (reassign._start): a mediator never gets here
        abort(403)


def _today() -> date:
    return utcnow().astimezone(current().settings.tz).date()


def _mediators(session: Session) -> list[Mediator]:
    return list(session.scalars(select(Mediator).order_by(Mediator.active.desc(), Mediator.name, Mediator.id)))


def reason_words(unmovable: Unmovable) -> list[str]:
    """Why nobody could take it, in the page's language."""
    words = []
    for code, count in unmovable.reasons:
        if code == reassign.NO_CANDIDATES:
            words.append(_("there is no other active mediator"))
        elif code == reassign.BUSY:
            words.append(ngettext("%(num)d colleague is busy then", "%(num)d colleagues are busy then", count))
        elif code == reassign.NOT_WORKING:
            words.append(ngettext("%(num)d colleague does not work at that time (or the office is closed)",
                                  "%(num)d colleagues do not work at that time (or the office is closed)", count))
        elif code == reassign.CASE_CLOSED:
            words.append(_("the case is closed"))
        elif code == reassign.PARTICIPANT_WITHDREW:
            words.append(_("a participant has stopped"))
        elif code == reassign.ROOM_RULE:
            words.append(_("the room no longer meets the rules for this meeting"))
        else:
            words.append(ngettext("%(num)d colleague cannot take it under the booking rules",
                                  "%(num)d colleagues cannot take it under the booking rules", count))
    return words


def _rows(session: Session, plan: ReassignPlan) -> list[Row]:
    ids = [a for a, _m in plan.moves] + [u.appointment_id for u in plan.unmovable]
    appointments = {a.id: a for a in session.scalars(
        select(Appointment).where(Appointment.id.in_(ids))
        .options(selectinload(Appointment.case), selectinload(Appointment.mediators)))}
    mediators = {m.id: m for m in session.scalars(select(Mediator).where(
        Mediator.id.in_({m for _a, m in plan.moves})))}
    rows = [Row(appointments[a], mediators[m], []) for a, m in plan.moves if a in appointments]
    rows += [Row(appointments[u.appointment_id], None, reason_words(u)) for u in plan.unmovable
             if u.appointment_id in appointments]
    return sorted(rows, key=lambda r: (r.appointment.start, r.appointment.id))


def _tasks(session: Session, moves: tuple[tuple[int, int], ...]) -> list[tuple[MediatorTask, Mediator]]:
    tasks = {t.id: t for t in session.scalars(select(MediatorTask).where(
        MediatorTask.id.in_([t for t, _m in moves])))}
    mediators = {m.id: m for m in session.scalars(select(Mediator).where(Mediator.id.in_({m for _t, m in moves})))}
    return [(tasks[t], mediators[m]) for t, m in moves if t in tasks]


def _links() -> dict[str, bool]:
    """Which neighbouring pages exist yet (each area's helper adds its own)."""
    views = current_app.view_functions
    return {"case": "desk_cases.show" in views, "appointment": "desk_booking.appointment" in views}


def _page(form: ReassignForm, plan: ReassignPlan | None = None, status: int = 200, **extra: Any) -> Any:
    session = db_session()
    context: dict[str, Any] = {"form": form, "plan": plan, "links": _links(), **extra}
    if plan is not None:
        apply_form = ApplyForm(_mediators(session), _today(), formdata=None,
                               mediator_id=plan.mediator_id, first_day=form.first_day.data,
                               last_day=form.last_day.data, expected=plan.signature())
        context.update(apply_form=apply_form, rows=_rows(session, plan), tasks=_tasks(session, plan.tasks),
                       sick=session.get(Mediator, plan.mediator_id))
    return render_template("scheduler/desk/reassign/index.html", **context), status


def _policy():  # type: ignore[no-untyped-def]
    runtime = current()
    return policy_of(runtime.settings, runtime.workdays)


@desk_reassign.get("/reassign")
@login_required
def index() -> Any:
    """The choice, and once it is made (GET, so it can be bookmarked or reloaded), the preview."""
    _office_only()
    session, today = db_session(), _today()
    if "mediator_id" not in request.args:
        last = current().workdays.add_working_days(today, DEFAULT_WORKING_DAYS)
        return _page(ReassignForm(_mediators(session), today, formdata=None, first_day=today, last_day=last))
    form = ReassignForm(_mediators(session), today, formdata=request.args)
    if not form.validate():
        return _page(form, status=400)
    try:
        plan = plan_reassignment(session, form.mediator_id.data, g.user, utcnow(), policy=_policy(),
                                 first_day=form.first_day.data, last_day=form.last_day.data)
    except Forbidden:
        abort(403)
    except InvalidInput:  # the mediator was removed meanwhile
        form.mediator_id.errors = [_("Choose a mediator.")]
        return _page(form, status=400)
    return _page(form, plan)


@desk_reassign.post("/reassign")
@login_required
def apply() -> Any:
    """Carry out the plan that was shown, or, if it changed meanwhile, nothing (and show the new one)."""
    _office_only()
    session, today = db_session(), _today()
    form = ApplyForm(_mediators(session), today)
    if not form.validate():
        return _page(form, status=400)
    session.commit()  # no read transaction held open while the write transaction locks
    try:
        with current().db.write_session() as write:
            actor = write.get(User, g.user.id)
            result = reassign_future(write, form.mediator_id.data, actor, utcnow(), policy=_policy(),
                                     first_day=form.first_day.data, last_day=form.last_day.data,
                                     expected=form.expected.data)
    except Forbidden:
        abort(403)
    except InvalidInput:
        form.mediator_id.errors = [_("Choose a mediator.")]
        return _page(form, status=400)
    except PlanChanged as changed:
        flash(_("Something changed since the preview (a booking, a cancellation or a calendar), so nothing "
                "was moved. Here is the new proposal: check it and apply again."), "warning")
        return _page(form, changed.plan, status=409)
    session.expire_all()
    plan = result.plan
    assert plan is not None
    moved, stayed = len(plan.moves), len(plan.unmovable)
    if moved:
        flash(ngettext("%(num)d appointment moved.", "%(num)d appointments moved.", moved), "success")
    if stayed:
        flash(ngettext("%(num)d appointment could not move.", "%(num)d appointments could not move.", stayed),
              "warning")
    return render_template("scheduler/desk/reassign/done.html", rows=_rows(session, plan),
                           tasks=_tasks(session, plan.tasks), sick=session.get(Mediator, plan.mediator_id),
                           first_day=form.first_day.data, last_day=form.last_day.data, links=_links())
