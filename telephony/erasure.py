"""Telephony's part of an erasure (scheduler.erasure): callback requests that hold an erased person's number.

On `ParticipantErasing` (their row still holds their number): the callback requests linked to their
case from or to that number go, with their attempts. Requests not linked to the case are left to the
retention purge: a shared number (a family's landline) may have been someone else's call. On
`CaseErasing`: every callback request linked to the case goes.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from scheduler.events import CaseErasing, ParticipantErasing
from scheduler.models import Participant
from telephony.models import CallbackRequest


def _theirs(participant: Participant) -> ColumnElement[bool]:
    """Callback requests linked to the participant's case, from or to their number."""
    return and_(CallbackRequest.case_id == participant.case_id,
                or_(CallbackRequest.number == participant.phone, CallbackRequest.caller_number == participant.phone))


def on_participant_erasing(session: Session, event: ParticipantErasing) -> None:
    participant = session.get(Participant, event.participant_id)
    if participant is None or not participant.phone:
        return
    session.execute(delete(CallbackRequest).where(_theirs(participant)), execution_options={"synchronize_session": False})


def on_case_erasing(session: Session, event: CaseErasing) -> None:
    session.execute(delete(CallbackRequest).where(CallbackRequest.case_id == event.case_id),
                    execution_options={"synchronize_session": False})


def export_section(session: Session, participant: Participant, tz: Any) -> dict[str, Any]:
    """For the participant's data file (scheduler.participant_export): callback requests linked to their case
    from or to their number."""
    from scheduler.participant_export import when

    if not participant.phone:
        return {"callback_requests": []}
    rows = session.scalars(select(CallbackRequest).where(_theirs(participant)).order_by(CallbackRequest.id))
    return {"callback_requests": [{"asked_at": when(r.created_at, tz), "number": r.number, "moment": r.moment,
                                   "language": r.language, "status": r.status} for r in rows]}
