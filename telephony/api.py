"""/api/v1/callbacks: the callback queue as staff work it; /api/v1/me and /api/v1/on-duty: the duty switch.

The office (admin, coordinator) sees the whole queue; a mediator sees the
requests linked to their own cases and nothing else (404, as for cases) —
telephony.queue decides that in its queries. Claiming is one conditional
UPDATE, so of two people pressing "claim" at once exactly one wins and the
other gets a 409 naming who has it.

"overdue" and the time of an attempt follow the phone line's clock
(telephony.clock), the same "now" the IVR promised the window by.

Click-to-call (`POST .../call`) writes the call in the request's
transaction and queues the job that asks Twilio to ring the staff member
only after the commit; when the queue cannot take it, the call is marked
failed and the answer is 503, and the request stays claimed.
"""
from __future__ import annotations

from flask import Blueprint, Response, g, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.api import registry, respond
from core.models import User
from core.problems import Conflict, Problem
from core.runtime import current, db_session
from scheduler.api import OFFICE, STAFF, writing
from telephony import clock, duty, queue
from telephony.click_to_call import calling_available, enqueue_place_call, request_call
from telephony.models import OPEN_STATUSES, CallbackAttempt, CallbackCall, CallbackRequest
from telephony.schemas import (AttemptCreate, AttemptCreated, AttemptOut, CallbackClose, CallbackDetail,
                               CallbackList, CallbackOut, CallbackQuery, CallOut, CallStarted, MeOut, MePatch,
                               OnDutyList, OnDutyOut)

telephony_api_bp = Blueprint("telephony_api", __name__)
route = registry.route
TAG = "callbacks"


class ServiceUnavailable(Problem):
    status = 503
    title = "Service unavailable"


def _users(session: Session, ids: set[int | None]) -> dict[int, User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def _summaries(session: Session, rows: list[CallbackRequest]) -> list[CallbackOut]:
    """Rows with their assignee, attempt count and last attempt: three queries for the whole page."""
    ids = [r.id for r in rows]
    counts: dict[int, int] = {}
    last: dict[int, CallbackAttempt] = {}
    if ids:
        counts = dict(session.execute(select(CallbackAttempt.callback_id, func.count())  # type: ignore[arg-type]
                                      .where(CallbackAttempt.callback_id.in_(ids))
                                      .group_by(CallbackAttempt.callback_id)).all())
        newest = (select(CallbackAttempt.id,
                         func.row_number().over(partition_by=CallbackAttempt.callback_id,
                                                order_by=(CallbackAttempt.at.desc(), CallbackAttempt.id.desc()))
                         .label("n"))
                  .where(CallbackAttempt.callback_id.in_(ids)).subquery())
        last = {a.callback_id: a for a in session.scalars(
            select(CallbackAttempt).join(newest, newest.c.id == CallbackAttempt.id).where(newest.c.n == 1))}
    users = _users(session, {r.assignee_id for r in rows})
    now = clock.now()
    return [CallbackOut(**CallbackOut.fields_of(
        r, overdue=r.status in OPEN_STATUSES and r.due_at < now, assignee=users.get(r.assignee_id or 0),
        attempts_count=counts.get(r.id, 0), last_attempt=last.get(r.id))) for r in rows]


def _detail(session: Session, row: CallbackRequest) -> CallbackDetail:
    attempts = queue.attempts_of(session, row.id)
    calls = list(session.scalars(select(CallbackCall).where(CallbackCall.callback_id == row.id)
                                 .order_by(CallbackCall.created_at, CallbackCall.id)))
    users = _users(session, {a.by_user_id for a in attempts} | {c.user_id for c in calls} | {row.assignee_id})
    now = clock.now()
    return CallbackDetail(
        **CallbackOut.fields_of(row, overdue=row.status in OPEN_STATUSES and row.due_at < now,
                                assignee=users.get(row.assignee_id or 0), attempts_count=len(attempts),
                                last_attempt=attempts[-1] if attempts else None),
        attempts=[AttemptOut.of(a, users.get(a.by_user_id or 0)) for a in attempts],
        calls=[CallOut.of(c, users.get(c.user_id or 0)) for c in calls])


@route(telephony_api_bp, "GET", "/callbacks", summary="List callback requests", tag=TAG, roles=STAFF,
       query=CallbackQuery, response=CallbackList)
def list_callbacks(query: CallbackQuery) -> Response:
    """Soonest due first (then by id). Default: the open ones (open, in_progress).

    The office sees every request; a mediator sees those linked to their own cases.
    """
    session = db_session()
    stmt = queue.visible_callbacks(session, g.user).where(CallbackRequest.status.in_(query.status))
    if query.assignee == "me":
        stmt = stmt.where(CallbackRequest.assignee_id == g.user.id)
    elif query.assignee == "none":
        stmt = stmt.where(CallbackRequest.assignee_id.is_(None))
    elif query.assignee is not None:
        stmt = stmt.where(CallbackRequest.assignee_id == int(query.assignee))
    if query.case_id is not None:
        stmt = stmt.where(CallbackRequest.case_id == query.case_id)
    if query.due_before is not None:
        stmt = stmt.where(CallbackRequest.due_at < query.due_before)
    total = session.scalar(stmt.order_by(None).with_only_columns(func.count(CallbackRequest.id))) or 0
    rows = list(session.scalars(stmt.limit(query.limit).offset(query.offset)))
    return respond(CallbackList(callbacks=_summaries(session, rows), total=total))


@route(telephony_api_bp, "GET", "/callbacks/<int:callback_id>", summary="Get a callback request with its attempts "
       "and calls", tag=TAG, roles=STAFF, response=CallbackDetail)
def get_callback(callback_id: int) -> Response:
    session = db_session()
    return respond(_detail(session, queue.callback_for(session, g.user, callback_id)))


@route(telephony_api_bp, "POST", "/callbacks/<int:callback_id>/claim", summary="Claim a callback request",
       tag=TAG, roles=STAFF, response=CallbackDetail, errors=(409,))
def claim_callback(callback_id: int) -> Response:
    """Take an open request (claiming your own again is fine). Someone else's: 409 naming who has it."""
    with writing() as (session, actor):
        out = _detail(session, queue.claim(session, actor, callback_id))
    return respond(out)


@route(telephony_api_bp, "POST", "/callbacks/<int:callback_id>/release", summary="Give a claimed request back",
       tag=TAG, roles=STAFF, response=CallbackDetail, errors=(409,))
def release_callback(callback_id: int) -> Response:
    """Back to the queue, unclaimed. Its holder may release it; the office may release anyone's."""
    with writing() as (session, actor):
        out = _detail(session, queue.release(session, actor, callback_id))
    return respond(out)


@route(telephony_api_bp, "POST", "/callbacks/<int:callback_id>/attempts", summary="Record a call attempt",
       tag=TAG, roles=STAFF, body=AttemptCreate, response=AttemptCreated, status=201, errors=(409,))
def record_attempt(callback_id: int, body: AttemptCreate) -> Response:
    """Recording an attempt on an unclaimed request claims it. The third unsuccessful attempt spread over
    two working days makes the request unreachable (and, where the caller allowed texts, sends a discreet
    text to the number that called). Refused (409) when the request is closed or someone else's."""
    runtime = current()
    with writing() as (session, actor):
        row = queue.callback_for(session, actor, callback_id, lock=True)
        queue.ensure_may_work(row, actor)
        attempt = queue.record_attempt(session, actor, row, body.outcome, clock.now(), runtime.workdays,
                                       runtime.settings.tz)
        session.flush()
        out = _detail(session, row)
        created = next(a for a in out.attempts if a.id == attempt.id)
    return respond(AttemptCreated(attempt=created, callback=out), 201,
                   {"Location": url_for(".get_callback", callback_id=callback_id)})


@route(telephony_api_bp, "POST", "/callbacks/<int:callback_id>/close", summary="Close a callback request",
       tag=TAG, roles=STAFF, body=CallbackClose, response=CallbackDetail, errors=(409,))
def close_callback(callback_id: int, body: CallbackClose) -> Response:
    """done: we spoke, or it is settled; cancelled: no longer needed. Refused when already closed."""
    with writing() as (session, actor):
        out = _detail(session, queue.close(session, actor, callback_id, body.status))
    return respond(out)


@route(telephony_api_bp, "POST", "/callbacks/<int:callback_id>/call", summary="Call the caller back "
       "through Twilio (click-to-call)", tag=TAG, roles=STAFF, response=CallStarted, status=202,
       errors=(409, 422, 503))
def call_callback(callback_id: int) -> Response:
    """Twilio first rings your phone (press 1 to accept), then the caller, showing the office number
    on both legs. Claims the request for you. 409 when Twilio is not configured or a call is already
    under way; 422 (`phone`) when your account has no phone; 503 when the call could not be queued
    (the call is then marked failed: try again)."""
    runtime = current()
    if not calling_available(runtime.settings):
        raise Conflict("calling needs Twilio to be configured")
    with writing() as (session, actor):
        call = request_call(session, actor, callback_id)
        out = CallStarted(id=call.id, callback_id=callback_id, state=call.state)
    if not enqueue_place_call(runtime.redis, out.id):
        with runtime.db.write_session() as session:
            row = session.get(CallbackCall, out.id, with_for_update=True)
            if row is not None and row.state == "requested":
                row.state, row.error = "failed", "queue unavailable"
        raise ServiceUnavailable("the call could not be started; try again", call_id=out.id)
    return respond(out, 202, {"Location": url_for(".get_callback", callback_id=callback_id)})


@route(telephony_api_bp, "GET", "/me", summary="Your account and duty status", tag="me", roles=STAFF,
       response=MeOut)
def get_me() -> Response:
    return respond(MeOut.of(g.user))


@route(telephony_api_bp, "PATCH", "/me", summary="Change your phone number or go on/off duty", tag="me",
       roles=STAFF, body=MePatch, response=MeOut)
def patch_me(body: MePatch) -> Response:
    """Only the fields sent change. On duty, the line rings your phone when a caller asks for staff;
    going on duty needs a phone number (422 naming on_duty); `phone: null` also takes you off duty."""
    with writing() as (session, actor):
        out = MeOut.of(duty.set_duty(session, actor, actor, body.model_dump()))
    return respond(out)


@route(telephony_api_bp, "GET", "/on-duty", summary="Staff on duty now", tag="me", roles=OFFICE,
       response=OnDutyList)
def list_on_duty() -> Response:
    """The staff whose phones ring when a caller asks for staff, in ringing order (at most ten)."""
    rows = duty.on_duty(db_session())
    return respond(OnDutyList(on_duty=[OnDutyOut(id=u.id, name=u.name, phone=u.phone or "") for u in rows]))
