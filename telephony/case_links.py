"""What the case pages (scheduler.desk_cases) may know of callback requests, without importing telephony.

The plugin registers `HOOKS` with scheduler's case pages; they call it for a
case's linked requests, to prefill a new case from a request (its number and
language) and to link the request to the case just opened, in the page's own
write transaction. Sight follows telephony.queue: a mediator sees only the
requests of their own cases; anything else is as unknown as a wrong id.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from core.audit import record
from core.models import User
from core.problems import NotFound
from scheduler.desk_cases import CallbackPrefill, CallbackSummary, CaseCallbacks
from telephony.models import CallbackRequest
from telephony.queue import callback_for, visible_callbacks


def for_case(session: Session, user: User, case_id: int) -> list[CallbackSummary]:
    rows = session.scalars(visible_callbacks(session, user).where(CallbackRequest.case_id == case_id)
                           .order_by(None).order_by(CallbackRequest.created_at.desc(), CallbackRequest.id.desc()))
    return [CallbackSummary(r.id, r.status, r.created_at, r.due_at, "callback_pages.detail") for r in rows]


def prefill(session: Session, user: User, callback_id: int) -> CallbackPrefill | None:
    try:
        row = callback_for(session, user, callback_id)
    except NotFound:
        return None
    return CallbackPrefill(row.id, row.number, row.language, row.case_id)


def link(session: Session, actor: User, callback_id: int, case_id: int) -> bool:
    """Link the request to the case if it has no case yet; True when linked now. Audited by ids only."""
    row = session.scalar(visible_callbacks(session, actor).where(CallbackRequest.id == callback_id)
                         .with_for_update(of=CallbackRequest))
    if row is None:
        raise NotFound(f"callback request {callback_id} not found")
    if row.case_id is not None:
        return False
    row.case_id = case_id
    record(session, actor.id, "callback.linked", "callback_request", row.id, f"case={case_id}")
    return True


HOOKS = CaseCallbacks(for_case=for_case, prefill=prefill, link=link)
