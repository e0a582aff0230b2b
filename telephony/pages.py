"""Staff pages: the callback queue, one request's page, the on-duty switch, the overview's section.

The rules live in telephony.queue, .duty and .click_to_call; these pages
show what they allow and turn a refusal (a core Problem) into a sentence in
the page's language, never a 500. Every form carries the CSRF token (checked
app-wide by core.web; a button-only form just the token, the others are
Flask-WTF forms); a form that does not validate re-renders with the message
next to its field and changes nothing. Writes end the
request's read transaction, then run one write session with the actor loaded
in it (as scheduler.api does); every successful POST answers 303. Scheduler's
overview gets its callback section from the context processor at the end, so
scheduler never imports telephony.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wtforms import BooleanField, StringField, TelField
from wtforms.validators import AnyOf, InputRequired, Length

from core.auth import login_required
from core.models import User
from core.problems import InvalidInput, NotFound, Problem
from core.runtime import current, db_session
from core.web import fmt_datetime, fmt_day, fmt_time, has_endpoint, label
from core.web_words import phone_display
from scheduler.api import writing  # end the read transaction, then write with the actor loaded
from scheduler.models import Case
from telephony import clock, duty as duty_service, queue as callback_queue
from telephony.click_to_call import calling_available, enqueue_place_call, request_call
from telephony.models import OPEN_STATUSES, OUTCOMES, CallbackAttempt, CallbackCall, CallbackRequest
from telephony.queue import CLOSING_STATUSES

callback_pages_bp = Blueprint("callback_pages", __name__, template_folder="templates",
                              static_folder="static", static_url_path="/static/telephony")

FINISHED = ("done", "unreachable", "cancelled")
VIEWS = {"open": _l("open (all)"), "mine": _l("mine"), "unassigned": _l("not picked up"),
         "finished": _l("closed")}
LIMIT = 200
WHEN = "EEE d MMM, HH:mm"  # "ma 30 nov, 10:00" / "Mon 30 Nov, 10:00": a queue's times are near


# --- shared helpers ------------------------------------------------------------------------

def when(moment: datetime | None) -> str:
    """A time in a list: weekday, day, month and time in the office's zone, in the page's language."""
    return fmt_datetime(moment, WHEN)


def window(start: datetime, end: datetime) -> str:
    """The promised window: "maandag 30 november, 07:00–10:00" (both days when it spans two)."""
    tz = current().settings.tz
    if start.astimezone(tz).date() == end.astimezone(tz).date():
        return f"{fmt_day(start)}, {fmt_time(start)}–{fmt_time(end)}"
    return f"{fmt_day(start)} {fmt_time(start)} – {fmt_day(end)} {fmt_time(end)}"


def is_overdue(row: CallbackRequest, now: Any) -> bool:
    return row.status in OPEN_STATUSES and row.due_at < now


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    query = select(User.id, User.name).where(User.id.in_({i for i in ids if i is not None}))
    return dict(session.execute(query).all())


@dataclass(frozen=True)
class CaseLink:
    reference: str
    url: str | None  # the case page, once the desk has one


def _cases(session: Session, ids: set[int | None]) -> dict[int, CaseLink]:
    query = select(Case.id, Case.reference).where(Case.id.in_({i for i in ids if i is not None}))
    linked = has_endpoint("desk_cases.show")
    return {case_id: CaseLink(ref, url_for("desk_cases.show", case_id=case_id) if linked else None)
            for case_id, ref in session.execute(query)}


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    context.update(VIEWS=VIEWS, OUTCOMES=OUTCOMES, CLOSING_STATUSES=CLOSING_STATUSES,
                   phone_display=phone_display, when=when)
    return render_template(template, **context), status


def _not_found() -> tuple[str, int]:
    return _page("telephony/not_found.html", 404)


# --- forms -----------------------------------------------------------------------------------

class AttemptForm(FlaskForm):
    outcome = StringField(_l("Outcome"), validators=[
        InputRequired(message=_l("Choose how the attempt went.")),
        AnyOf(OUTCOMES, message=_l("Choose how the attempt went."))])


class CloseForm(FlaskForm):
    status = StringField(_l("Close as"), validators=[
        InputRequired(message=_l("Choose done or no longer needed.")),
        AnyOf(CLOSING_STATUSES, message=_l("Choose done or no longer needed."))])


class DutyForm(FlaskForm):
    phone = TelField(_l("Phone number"), filters=[lambda v: v.strip() if isinstance(v, str) else v],
                     render_kw={"autocomplete": "tel"},
                     validators=[Length(max=40, message=_l("This is not a valid phone number."))])
    on_duty = BooleanField(_l("I am on duty for the phone line"))


# Words for the services' field errors (their messages are the API's, in English).
FIELD_ERRORS = {
    "phone": _l("This is not a valid phone number. For example: 06 12345678."),
    "on_duty": _l("Enter a phone number first: the line rings that number."),
}


# --- the queue -------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueRow:
    request: CallbackRequest
    overdue: bool
    attempts: int
    assignee: str | None
    case: CaseLink | None


def _rows(session: Session, requests: list[CallbackRequest]) -> list[QueueRow]:
    counts = dict(session.execute(select(CallbackAttempt.callback_id, func.count())
                                  .where(CallbackAttempt.callback_id.in_([r.id for r in requests]))
                                  .group_by(CallbackAttempt.callback_id)).all())
    names = _names(session, {r.assignee_id for r in requests})
    cases = _cases(session, {r.case_id for r in requests})
    now = clock.now()
    return [QueueRow(r, is_overdue(r, now), counts.get(r.id, 0), names.get(r.assignee_id or 0),
                     cases.get(r.case_id or 0)) for r in requests]


@callback_pages_bp.get("/callbacks")
@login_required
def queue() -> Any:
    view = request.args.get("view") if request.args.get("view") in VIEWS else "open"
    session = db_session()
    query = callback_queue.visible_callbacks(session, g.user)
    if view == "mine":
        query = query.where(CallbackRequest.status.in_(OPEN_STATUSES), CallbackRequest.assignee_id == g.user.id)
    elif view == "unassigned":
        query = query.where(CallbackRequest.status == "open", CallbackRequest.assignee_id.is_(None))
    elif view == "finished":  # newest first: the oldest finished ones are the least interesting
        query = query.where(CallbackRequest.status.in_(FINISHED)).order_by(None).order_by(
            CallbackRequest.due_at.desc(), CallbackRequest.id.desc())
    else:
        query = query.where(CallbackRequest.status.in_(OPEN_STATUSES))
    rows = _rows(session, list(session.scalars(query.limit(LIMIT))))
    return _page("telephony/queue.html", view=view, rows=rows, limit=LIMIT)


# --- one request ----------------------------------------------------------------------------

@callback_pages_bp.get("/callbacks/<int:callback_id>")
@login_required
def detail(callback_id: int) -> Any:
    return _detail(callback_id)


def _detail(callback_id: int, status: int = 200, attempt_form: AttemptForm | None = None,
            close_form: CloseForm | None = None) -> Any:
    session, user = db_session(), g.user
    try:
        row = callback_queue.callback_for(session, user, callback_id)
    except NotFound:
        return _not_found()
    attempts = callback_queue.attempts_of(session, row.id)
    calls = list(session.scalars(select(CallbackCall).where(CallbackCall.callback_id == row.id)
                                 .order_by(CallbackCall.created_at.desc(), CallbackCall.id.desc())))
    names = _names(session, {row.assignee_id} | {a.by_user_id for a in attempts} | {c.user_id for c in calls})
    return _page("telephony/detail.html", status, row=row, attempts=attempts, calls=calls, names=names,
                 case=_cases(session, {row.case_id}).get(row.case_id or 0), window=window(row.window_start, row.due_at),
                 overdue=is_overdue(row, clock.now()), may_work=_may_work(row, user), may_claim=row.status == "open",
                 may_release=row.status == "in_progress" and (row.assignee_id == user.id or user.sees_all_cases),
                 calling=calling_available(current().settings), has_phone=bool(user.phone),
                 attempt_form=attempt_form or AttemptForm(formdata=None),
                 close_form=close_form or CloseForm(formdata=None))


def _may_work(row: CallbackRequest, user: User) -> bool:
    try:
        callback_queue.ensure_may_work(row, user)
    except Problem:
        return False
    return True


def refusal(exc: Problem) -> str:
    """The queue's refusals (English, for the API) as a sentence in the page's language."""
    extra = exc.extra
    if "assignee_id" in extra:
        holder = _names(db_session(), {extra["assignee_id"]}).get(extra["assignee_id"] or 0)
        return (_("Not done: %(name)s is handling this request.", name=holder) if holder
                else _("Not done: someone else is handling this request."))
    if "callback_status" in extra:
        if extra["callback_status"] == "open":
            return _("Not done: nobody is handling this request.")
        return _("Not done: this request is already closed (%(status)s).",
                 status=label(extra["callback_status"], "callback_status"))
    if "call_id" in extra:
        return _("Not done: a call for this request is already under way.")
    if isinstance(exc, InvalidInput) and exc.errors and exc.errors[0]["field"] == "phone":
        return _("Not done: add your phone number first, under On duty.")
    return _("Not done: the request could not be changed. Reload the page and try again.")


def _act(callback_id: int, work: Callable[[Session, User], str]) -> Any:
    """Run one action; its message (or the refusal) shows on the request's page."""
    try:
        with writing() as (session, actor):
            message = work(session, actor)
    except NotFound:
        return _not_found()
    except Problem as exc:
        flash(refusal(exc), "error")
    else:
        flash(message, "success")
    return redirect(url_for(".detail", callback_id=callback_id), 303)


@callback_pages_bp.post("/callbacks/<int:callback_id>/<any(claim, release):action>")
@login_required
def claim_or_release(callback_id: int, action: str) -> Any:
    def work(session: Session, actor: User) -> str:
        if action == "claim":
            callback_queue.claim(session, actor, callback_id)
            return _("You are now handling this request.")
        callback_queue.release(session, actor, callback_id)
        return _("The request is back in the queue.")
    return _act(callback_id, work)


@callback_pages_bp.post("/callbacks/<int:callback_id>/attempts")
@login_required
def attempt(callback_id: int) -> Any:
    form = AttemptForm()
    if not form.validate():
        return _detail(callback_id, 400, attempt_form=form)
    outcome = form.outcome.data

    def work(session: Session, actor: User) -> str:
        row = callback_queue.callback_for(session, actor, callback_id, lock=True)
        callback_queue.ensure_may_work(row, actor)
        runtime = current()
        callback_queue.record_attempt(session, actor, row, outcome, clock.now(), runtime.workdays,
                                      runtime.settings.tz)
        message = _("Attempt recorded: %(outcome)s.", outcome=label(outcome, "attempt_outcome"))
        if row.status == "unreachable":
            message += " " + _("The request is now marked unreachable.")
        return message
    return _act(callback_id, work)


@callback_pages_bp.post("/callbacks/<int:callback_id>/close")
@login_required
def close(callback_id: int) -> Any:
    form = CloseForm()
    if not form.validate():
        return _detail(callback_id, 400, close_form=form)
    status = form.status.data

    def work(session: Session, actor: User) -> str:
        callback_queue.close(session, actor, callback_id, status)
        return _("Request closed: %(status)s.", status=label(status, "callback_status"))
    return _act(callback_id, work)


@callback_pages_bp.post("/callbacks/<int:callback_id>/call")
@login_required
def call(callback_id: int) -> Any:
    runtime = current()
    if not calling_available(runtime.settings):
        flash(_("Not done: calling through Pendel is not set up."), "error")
        return redirect(url_for(".detail", callback_id=callback_id), 303)
    try:
        with writing() as (session, actor):
            call_id = request_call(session, actor, callback_id).id
    except NotFound:
        return _not_found()
    except Problem as exc:
        flash(refusal(exc), "error")
    else:  # queued only after the commit, so the job finds its row
        if enqueue_place_call(runtime.redis, call_id):
            flash(_("Your phone will ring shortly; press 1 to call the caller."), "success")
        else:
            with runtime.db.write_session() as session:
                row = session.get(CallbackCall, call_id, with_for_update=True)
                if row is not None and row.state == "requested":
                    row.state, row.error = "failed", "queue unavailable"
            flash(_("The call could not be started; please try again."), "error")
    return redirect(url_for(".detail", callback_id=callback_id), 303)


# --- on duty ----------------------------------------------------------------------------------

@callback_pages_bp.route("/duty", methods=["GET", "POST"])
@login_required
def duty() -> Any:
    if request.method == "GET":
        form = DutyForm(data={"phone": phone_display(g.user.phone), "on_duty": g.user.on_duty})
    else:
        form = DutyForm()
        if form.validate() and _save_duty(form):
            flash(_("Saved."), "success")
            return redirect(url_for(".duty"), 303)
    on_duty = duty_service.on_duty(db_session()) if g.user.sees_all_cases else None
    return _page("telephony/duty.html", 400 if form.errors else 200, form=form, on_duty=on_duty)


def _save_duty(form: DutyForm) -> bool:
    """The duty rules are duty_service's; its refusals become messages next to their fields."""
    try:
        with writing() as (session, actor):
            duty_service.set_duty(session, actor, actor, {"phone": form.phone.data or "",
                                                          "on_duty": bool(form.on_duty.data)})
    except Problem as exc:  # rolled back: nothing saved
        for error in exc.errors or [{"field": "phone", "message": exc.detail}]:
            field = getattr(form, error["field"], form.phone)
            field.errors = [*field.errors, str(FIELD_ERRORS.get(error["field"], FIELD_ERRORS["phone"]))]
        return False
    return True


# --- the overview's callback section -------------------------------------------------------

@dataclass(frozen=True)
class Overview:
    queue_url: str
    open_count: int
    overdue_count: int
    rows: list[dict[str, Any]] | None  # a mediator's own requests; None for the office (counts only)


def callback_overview() -> Overview | None:
    """Open requests in the signed-in user's sight: the office gets counts, a mediator the list.

    The rows hold text in the page's language (times, words for stored values), ready to show.
    """
    user = g.get("user")
    if user is None:
        return None
    session, now = db_session(), clock.now()
    query = callback_queue.visible_callbacks(session, user).where(CallbackRequest.status.in_(OPEN_STATUSES))
    url = url_for("callback_pages.queue")
    if user.sees_all_cases:
        counted = query.order_by(None).with_only_columns(func.count())
        return Overview(url, session.scalar(counted) or 0,
                        session.scalar(counted.where(CallbackRequest.due_at < now)) or 0, None)
    rows = _rows(session, list(session.scalars(query.limit(50))))
    shown = [{"url": url_for("callback_pages.detail", callback_id=r.request.id), "due": when(r.request.due_at),
              "overdue": r.overdue, "moment": label(r.request.moment, "callback_moment"),
              "number": phone_display(r.request.number), "case": r.case.reference if r.case else "",
              "case_url": r.case.url if r.case else None,
              "status": label(r.request.status, "callback_status"), "assignee": r.assignee or ""} for r in rows]
    return Overview(url, len(rows), sum(r.overdue for r in rows), shown)


@callback_pages_bp.app_context_processor
def _inject_overview() -> dict[str, Any]:
    return {"callback_overview": callback_overview}


