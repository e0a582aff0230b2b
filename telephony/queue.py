"""Working the callback queue: who sees which request, claiming, attempts, closing.

Coordinators and admins see the whole queue; a mediator sees the requests
linked to their own cases (a participant called from their own number), and
may work those too. Anything out of sight is "not found", as for cases.

Claiming is one conditional UPDATE, so of two coordinators pressing "claim"
at the same moment exactly one wins; the other hears who has it. Every
change is audited by id only, never with the number.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from core.audit import record
from core.events import publish
from core.models import User
from core.problems import Conflict, InvalidInput, NotFound
from core.workdays import WorkingDayCalendar
from scheduler.access import visible_cases
from scheduler.events import CallbackUnreachable
from scheduler.models import Case
from telephony.models import OPEN_STATUSES, OUTCOMES, CallbackAttempt, CallbackRequest
from telephony.queue_rules import is_unreachable

CLOSING_STATUSES = ("done", "cancelled")


def visible_callbacks(session: Session, user: User) -> Select[tuple[CallbackRequest]]:
    """The requests `user` may see, soonest due first."""
    query = select(CallbackRequest).order_by(CallbackRequest.due_at, CallbackRequest.id)
    if user.sees_all_cases:
        return query
    case_ids = visible_cases(session, user).with_only_columns(Case.id).order_by(None)
    return query.where(CallbackRequest.case_id.in_(case_ids))


def callback_for(session: Session, user: User, callback_id: int, lock: bool = False) -> CallbackRequest:
    query = visible_callbacks(session, user).where(CallbackRequest.id == callback_id)
    row = session.scalar(query.with_for_update(of=CallbackRequest) if lock else query)
    if row is None:
        raise NotFound(f"callback request {callback_id} not found")
    return row


def attempts_of(session: Session, callback_id: int) -> list[CallbackAttempt]:
    return list(session.scalars(select(CallbackAttempt).where(CallbackAttempt.callback_id == callback_id)
                                .order_by(CallbackAttempt.at, CallbackAttempt.id)))


def claim(session: Session, actor: User, callback_id: int) -> CallbackRequest:
    """Take an open request (or keep one already yours); someone else's is a 409 naming them."""
    callback_for(session, actor, callback_id)  # 404 when out of sight
    won = session.execute(
        update(CallbackRequest)
        .where(CallbackRequest.id == callback_id,
               (CallbackRequest.status == "open")
               | ((CallbackRequest.status == "in_progress") & (CallbackRequest.assignee_id == actor.id)))
        .values(status="in_progress", assignee_id=actor.id)
        .execution_options(synchronize_session=False)).rowcount
    row = callback_for(session, actor, callback_id)
    session.refresh(row)
    if not won:
        _refuse_taken(session, row, actor)
    record(session, actor.id, "callback.claim", "callback_request", callback_id)
    return row


def _refuse_taken(session: Session, row: CallbackRequest, actor: User) -> None:
    if row.status == "in_progress" and row.assignee_id != actor.id:
        holder = session.get(User, row.assignee_id) if row.assignee_id else None
        raise Conflict(f"callback request {row.id} is being handled by {holder.name if holder else 'someone else'}",
                       assignee_id=row.assignee_id)
    raise Conflict(f"callback request {row.id} is already {row.status.replace('_', ' ')}", callback_status=row.status)


def release(session: Session, actor: User, callback_id: int) -> CallbackRequest:
    """Give a claimed request back to the queue (its holder, or the office for anyone's)."""
    row = callback_for(session, actor, callback_id, lock=True)
    if row.status != "in_progress":
        raise Conflict(f"callback request {callback_id} is not claimed", callback_status=row.status)
    if row.assignee_id != actor.id and not actor.sees_all_cases:
        raise Conflict(f"callback request {callback_id} is claimed by someone else", assignee_id=row.assignee_id)
    row.status, row.assignee_id = "open", None
    record(session, actor.id, "callback.release", "callback_request", callback_id)
    return row


def record_attempt(session: Session, actor: User | None, row: CallbackRequest, outcome: str, at: datetime,
                   calendar: WorkingDayCalendar, tz: object, call_sid: str | None = None) -> CallbackAttempt:
    """Add one attempt to a request still being worked; the third failure over two working days ends it.

    `actor` is None when Twilio reported the outcome of a click-to-call (the
    staff member who placed the call is on the CallbackCall row).
    """
    if outcome not in OUTCOMES:
        raise InvalidInput("outcome", f"must be one of {', '.join(OUTCOMES)}")
    if row.status not in OPEN_STATUSES:
        raise Conflict(f"callback request {row.id} is already {row.status.replace('_', ' ')}",
                       callback_status=row.status)
    attempt = CallbackAttempt(callback_id=row.id, at=at, outcome=outcome, call_sid=call_sid,
                              by_user_id=actor.id if actor else None)
    session.add(attempt)
    session.flush()
    if row.status == "open" and actor is not None:  # whoever tries it is working it
        row.status, row.assignee_id = "in_progress", actor.id
    history = [(a.at, a.outcome) for a in attempts_of(session, row.id)]
    if is_unreachable(history, calendar, tz):  # type: ignore[arg-type]
        _mark_unreachable(session, row)
    record(session, actor.id if actor else None, f"callback.attempt.{outcome}", "callback_request", row.id)
    return attempt


def ensure_may_work(row: CallbackRequest, actor: User) -> None:
    """A request still being worked, and not someone else's (the office may step in on anyone's)."""
    if row.status not in OPEN_STATUSES:
        raise Conflict(f"callback request {row.id} is already {row.status.replace('_', ' ')}",
                       callback_status=row.status)
    if row.status == "in_progress" and row.assignee_id not in (None, actor.id) and not actor.sees_all_cases:
        raise Conflict(f"callback request {row.id} is claimed by someone else", assignee_id=row.assignee_id)


def _mark_unreachable(session: Session, row: CallbackRequest) -> None:
    row.status = "unreachable"
    # A text only ever goes to the number that called, and only when the caller allowed texts.
    publish(session, CallbackUnreachable(callback_id=row.id, caller_number=row.caller_number,
                                         language=row.language,
                                         texts_allowed=row.wants_confirmation and row.caller_number is not None))


def close(session: Session, actor: User, callback_id: int, status: str) -> CallbackRequest:
    """Finish a request: done (we spoke, or it is settled) or cancelled (no longer needed)."""
    if status not in CLOSING_STATUSES:
        raise InvalidInput("status", f"must be one of {', '.join(CLOSING_STATUSES)}")
    row = callback_for(session, actor, callback_id, lock=True)
    ensure_may_work(row, actor)
    row.status = status
    if row.assignee_id is None:
        row.assignee_id = actor.id
    record(session, actor.id, f"callback.{status}", "callback_request", callback_id)
    return row
