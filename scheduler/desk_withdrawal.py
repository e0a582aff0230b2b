"""A participant's withdrawal ("stopt") and its undo, for the staff desk: the desk_meeting blueprint's
/participants/<id>/withdraw and /participants/<id>/undo-withdrawal.

One confirmation each, listing what will happen, from scheduler.withdrawal's own plan (the one
`withdraw` carries out; it refuses when that changed meanwhile). Who sees what is scheduler.access's:
anything out of sight is the same 404 as an unknown id. scheduler.desk_meeting imports this module so
the routes are registered on its blueprint (endpoints stay desk_meeting.withdraw and
desk_meeting.undo_withdrawal).
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _, ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import login_required
from core.db import utcnow
from core.problems import Conflict, NotFound, Problem
from core.runtime import db_session
from scheduler import withdrawal
from scheduler.api import writing
from scheduler.desk_meeting import _case_url, _not_found, _page, desk_meeting
from scheduler.desk_meeting_forms import ConfirmForm
from scheduler.models import Mediator, Participant


def _back(participant: Participant) -> str:
    return _case_url(participant.case_id) or url_for(".withdraw", participant_id=participant.id)


def _confirmation(participant_id: int, load: Callable[[Session], Any], template: str,
                  perform: Callable[[Session, Any, ConfirmForm], None], done: Callable[[Any], str],
                  refusals: dict[type[Problem], Callable[[Any], str]], **context: Callable[[Any], Any]) -> Any:
    """One confirmation page: GET shows `load`'s plan, a valid POST runs `perform` in one write
    transaction and says `done`; a refusal in `refusals` changes nothing and comes back with its sentence."""
    try:
        plan_now = load(db_session())
    except NotFound:
        return _not_found()
    form = ConfirmForm()
    if request.method == "POST" and form.validate():
        try:
            with writing() as (write, actor):
                perform(write, actor, form)
        except NotFound:
            return _not_found()
        except tuple(refusals) as exc:
            flash(next(say for kind, say in refusals.items() if isinstance(exc, kind))(plan_now), "warning")
            return redirect(request.path, 303)
        flash(done(plan_now), "success")
        return redirect(_back(plan_now.participant), 303)
    return _page(template, 400 if request.method == "POST" else 200, plan=plan_now, form=form,
                 case_url=_case_url(plan_now.participant.case_id),
                 **{name: make(plan_now) for name, make in context.items()})


@desk_meeting.route("/participants/<int:participant_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(participant_id: int) -> Any:
    return _confirmation(
        participant_id, lambda session: withdrawal.plan_withdrawal(session, participant_id, g.user, utcnow()),
        "withdraw.html",
        lambda write, actor, form: withdrawal.withdraw(write, participant_id, actor, utcnow(),
                                                       expected=form.expected.data),
        lambda plan_now: ngettext("%(name)s has stopped. %(num)d appointment was cancelled.",
                                  "%(name)s has stopped. %(num)d appointments were cancelled.",
                                  len(plan_now.cancellations), name=plan_now.participant.name),
        {withdrawal.PlanChanged: lambda _plan: _("What would happen has changed meanwhile. Nothing was done: look "
                                                 "again at what happens now.")},
        tasks=lambda plan_now: sum(len(c.informers) for c in plan_now.cancellations))


@desk_meeting.route("/participants/<int:participant_id>/undo-withdrawal", methods=["GET", "POST"])
@login_required
def undo_withdrawal(participant_id: int) -> Any:
    return _confirmation(
        participant_id, lambda session: withdrawal.plan_undo(session, participant_id, g.user, utcnow()),
        "undo.html", lambda write, actor, _form: withdrawal.undo_withdrawal(write, participant_id, actor, utcnow()),
        lambda plan_now: _("%(name)s takes part again and can be planned.", name=plan_now.participant.name),
        {Conflict: lambda plan_now: _("%(name)s has not stopped: there is nothing to undo.",
                                      name=plan_now.participant.name)},
        mediators=lambda plan_now: _mediator_names(db_session(), [t.mediator_id for t in plan_now.open_tasks]))


def _mediator_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    return dict(session.execute(select(Mediator.id, Mediator.name).where(Mediator.id.in_(wanted))).all()) \
        if wanted else {}
