"""Staff pages: the callback queue, one request's page, the on-duty switch, the overview's section.

The rules live in telephony.queue, .duty and .click_to_call; these pages
show what they allow and turn a refusal (a core Problem) into a message on
the next page, never a 500. Writes end the request's read transaction, then
run one write session with the actor loaded in it (as scheduler.api does);
every POST answers 303. Scheduler's overview gets its callback section from
the context processor at the end, so scheduler never imports telephony.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import phonenumbers
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth import login_required
from core.models import User
from core.problems import Conflict, NotFound, Problem
from core.runtime import current, db_session
from scheduler.api import writing  # end the read transaction, then write with the actor loaded
from scheduler.models import Case
from telephony import clock, duty as duty_service, queue as callback_queue
from telephony.click_to_call import calling_available, enqueue_place_call, request_call
from telephony.models import OPEN_STATUSES, CallbackAttempt, CallbackCall, CallbackRequest

callback_pages_bp = Blueprint("callback_pages", __name__, template_folder="templates")

FINISHED = ("done", "unreachable", "cancelled")
VIEWS = {"open": ("open (alle)", "open (all)"), "mine": ("van mij", "mine"),
         "unassigned": ("niet opgepakt", "unassigned"), "finished": ("afgesloten", "finished")}
LIMIT = 200
STATUS = {"open": ("open", "open"), "in_progress": ("in behandeling", "in progress"),
          "done": ("afgerond", "done"), "unreachable": ("onbereikbaar", "unreachable"),
          "cancelled": ("vervallen", "cancelled")}
MOMENT = {"morning": ("ochtend", "morning"), "afternoon": ("middag", "afternoon"),
          "no_preference": ("geen voorkeur", "no preference")}
OUTCOME = {"reached": ("bereikt", "reached"), "no_answer": ("geen gehoor", "no answer"),
           "busy": ("in gesprek", "busy"), "wrong_number": ("verkeerd nummer", "wrong number")}
CALL_STATE = {"requested": ("aangevraagd", "requested"), "ringing_staff": ("medewerker wordt gebeld", "ringing staff"),
              "connecting": ("beller wordt gebeld", "calling the caller"), "finished": ("afgelopen", "finished"),
              "staff_missed": ("medewerker nam niet op", "staff did not answer"), "failed": ("mislukt", "failed")}


# --- shared helpers ------------------------------------------------------------------------

def phone_display(number: str | None) -> str:
    """Readable: Dutch numbers as dialled in the Netherlands, others with their country code."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, "NL")
    except phonenumbers.NumberParseException:
        return number
    fmt = (phonenumbers.PhoneNumberFormat.NATIONAL if phonenumbers.region_code_for_number(parsed) == "NL"
           else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(parsed, fmt)


def local_time(moment: Any, fmt: str = "%d-%m-%Y %H:%M") -> str:
    return moment.astimezone(current().settings.tz).strftime(fmt) if moment is not None else ""


def is_overdue(row: CallbackRequest, now: Any) -> bool:
    return row.status in OPEN_STATUSES and row.due_at < now


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    query = select(User.id, User.name).where(User.id.in_({i for i in ids if i is not None}))
    return dict(session.execute(query).all())


def _case_labels(session: Session, ids: set[int | None]) -> dict[int, str]:
    """No case page exists (yet): "dossier <id> · <reference>", as text."""
    query = select(Case.id, Case.reference).where(Case.id.in_({i for i in ids if i is not None}))
    return {case_id: f"dossier {case_id} · {ref}" for case_id, ref in session.execute(query)}


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    context.update(STATUS=STATUS, MOMENT=MOMENT, OUTCOME=OUTCOME, CALL_STATE=CALL_STATE,
                   VIEWS=VIEWS, phone_display=phone_display, local_time=local_time)
    return render_template(template, **context), status


def _not_found() -> tuple[str, int]:
    return _page("telephony/not_found.html", 404)


# --- the queue -------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueRow:
    request: CallbackRequest
    overdue: bool
    attempts: int
    assignee: str | None
    case: str | None


def _rows(session: Session, requests: list[CallbackRequest]) -> list[QueueRow]:
    counts = dict(session.execute(select(CallbackAttempt.callback_id, func.count())
                                  .where(CallbackAttempt.callback_id.in_([r.id for r in requests]))
                                  .group_by(CallbackAttempt.callback_id)).all())
    names = _names(session, {r.assignee_id for r in requests})
    cases = _case_labels(session, {r.case_id for r in requests})
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
    session, user = db_session(), g.user
    try:
        row = callback_queue.callback_for(session, user, callback_id)
    except NotFound:
        return _not_found()
    attempts = callback_queue.attempts_of(session, row.id)
    calls = list(session.scalars(select(CallbackCall).where(CallbackCall.callback_id == row.id)
                                 .order_by(CallbackCall.created_at.desc(), CallbackCall.id.desc())))
    names = _names(session, {row.assignee_id} | {a.by_user_id for a in attempts} | {c.user_id for c in calls})
    may_work = _may_work(row, user)
    return _page("telephony/detail.html", row=row, attempts=attempts, calls=calls, names=names,
                 case=_case_labels(session, {row.case_id}).get(row.case_id or 0),
                 overdue=is_overdue(row, clock.now()), may_work=may_work, may_claim=row.status == "open",
                 may_release=row.status == "in_progress" and (row.assignee_id == user.id or user.sees_all_cases),
                 calling=calling_available(current().settings), has_phone=bool(user.phone))


def _may_work(row: CallbackRequest, user: User) -> bool:
    try:
        callback_queue.ensure_may_work(row, user)
    except Problem:
        return False
    return True


def _act(callback_id: int, work: Callable[[Session, User], str]) -> Any:
    """Run one action; its message (or the refusal) shows on the request's page."""
    try:
        with writing() as (session, actor):
            message = work(session, actor)
    except NotFound:
        return _not_found()
    except Problem as exc:
        flash(f"Niet gelukt / Not done: {exc.detail}", "error")
    else:
        flash(message, "ok")
    return redirect(url_for(".detail", callback_id=callback_id), 303)


@callback_pages_bp.post("/callbacks/<int:callback_id>/<any(claim, release):action>")
@login_required
def claim_or_release(callback_id: int, action: str) -> Any:
    def work(session: Session, actor: User) -> str:
        if action == "claim":
            callback_queue.claim(session, actor, callback_id)
            return "U behandelt dit verzoek nu. / You are now handling this request."
        callback_queue.release(session, actor, callback_id)
        return "Het verzoek staat weer open in de lijst. / The request is back in the queue."
    return _act(callback_id, work)


@callback_pages_bp.post("/callbacks/<int:callback_id>/attempts")
@login_required
def attempt(callback_id: int) -> Any:
    outcome = request.form.get("outcome", "")

    def work(session: Session, actor: User) -> str:
        row = callback_queue.callback_for(session, actor, callback_id, lock=True)
        callback_queue.ensure_may_work(row, actor)
        runtime = current()
        callback_queue.record_attempt(session, actor, row, outcome, clock.now(), runtime.workdays,
                                      runtime.settings.tz)
        nl, en = OUTCOME[outcome]
        message = f"Poging vastgelegd: {nl}. / Attempt recorded: {en}."
        if row.status == "unreachable":
            message += " Het verzoek staat nu op onbereikbaar. / The request is now unreachable."
        return message
    return _act(callback_id, work)


@callback_pages_bp.post("/callbacks/<int:callback_id>/close")
@login_required
def close(callback_id: int) -> Any:
    status = request.form.get("status", "")

    def work(session: Session, actor: User) -> str:
        callback_queue.close(session, actor, callback_id, status)
        nl, en = STATUS[status]
        return f"Verzoek afgesloten: {nl}. / Request closed: {en}."
    return _act(callback_id, work)


@callback_pages_bp.post("/callbacks/<int:callback_id>/call")
@login_required
def call(callback_id: int) -> Any:
    runtime = current()
    try:
        if not calling_available(runtime.settings):
            raise Conflict("calling needs Twilio to be configured")
        with writing() as (session, actor):
            call_id = request_call(session, actor, callback_id).id
    except NotFound:
        return _not_found()
    except Problem as exc:
        flash(f"Niet gelukt / Not done: {exc.detail}", "error")
    else:  # queued only after the commit, so the job finds its row
        if enqueue_place_call(runtime.redis, call_id):
            flash("Uw telefoon gaat zo over; druk 1 om de beller te bellen. "
                  "/ Your phone will ring shortly; press 1 to call the caller.", "ok")
        else:
            with runtime.db.write_session() as session:
                row = session.get(CallbackCall, call_id, with_for_update=True)
                if row is not None and row.state == "requested":
                    row.state, row.error = "failed", "queue unavailable"
            flash("Het gesprek kon niet worden gestart; probeer het opnieuw. "
                  "/ The call could not be started; please try again.", "error")
    return redirect(url_for(".detail", callback_id=callback_id), 303)


# --- on duty ----------------------------------------------------------------------------------

@callback_pages_bp.route("/duty", methods=["GET", "POST"])
@login_required
def duty() -> Any:
    errors: dict[str, str] = {}
    form = {"phone": phone_display(g.user.phone), "on_duty": g.user.on_duty}
    if request.method == "POST":
        form = {"phone": (request.form.get("phone") or "").strip(), "on_duty": request.form.get("on_duty") == "on"}
        try:
            with writing() as (session, actor):
                duty_service.set_duty(session, actor, actor, dict(form))
        except Problem as exc:  # rolled back: nothing saved
            errors = {e["field"]: e["message"] for e in exc.errors} or {"form": exc.detail}
        else:
            flash("Opgeslagen. / Saved.", "ok")
            return redirect(url_for(".duty"), 303)
    on_duty = duty_service.on_duty(db_session()) if g.user.sees_all_cases else None
    return _page("telephony/duty.html", 422 if errors else 200, form=form, errors=errors, on_duty=on_duty)


# --- the overview's callback section -------------------------------------------------------

@dataclass(frozen=True)
class Overview:
    queue_url: str
    open_count: int
    overdue_count: int
    rows: list[dict[str, Any]] | None  # a mediator's own requests; None for the office (counts only)


def callback_overview() -> Overview | None:
    """Open requests in the signed-in user's sight: the office gets counts, a mediator the list."""
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
    shown = [{"url": url_for("callback_pages.detail", callback_id=r.request.id), "due": local_time(r.request.due_at), "overdue": r.overdue, "moment": MOMENT[r.request.moment],
              "number": phone_display(r.request.number), "case": r.case or "", "status": STATUS[r.request.status],
              "assignee": r.assignee or ""} for r in rows]
    return Overview(url, len(rows), sum(r.overdue for r in rows), shown)


@callback_pages_bp.app_context_processor
def _inject_overview() -> dict[str, Any]:
    return {"callback_overview": callback_overview}
