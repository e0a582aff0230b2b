"""Erasing personal data: one participant at once (right to erasure), a closed case after a period.

What goes: a participant's name, phone number, email address and street address; the texts of the
messages sent to them or about their appointments; the notes of tasks about them; their links; the
registrations and callback requests linked to their case from them. What stays is what the office's
statistics need and nothing that names anyone: the case's kind, region, dates and status, each
participant's role, language and whether they stopped, the appointments (kind, mode, times, outcome)
and the audit trail (ids and action names only, which records the erasure itself).

The packages that keep copies (notifications' outbox, telephony's callback requests) drop them on
`events.ParticipantErasing` / `events.CaseErasing`, published in the same transaction before the
participant's row is cleared, so a failure anywhere rolls the whole erasure back.

One participant may be erased once they stopped (their appointments are cancelled and their unsent
messages withdrawn by the withdrawal, with its own confirmation) or once their case is closed: an
erased participant can never be planned again (booking_checks, offers), nor their stop undone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from core import audit
from core.events import publish
from core.models import User
from core.problems import Conflict, Forbidden
from scheduler import events
from scheduler.access import participant_for
from scheduler.models import Case, MediatorTask, Participant
from scheduler.participant_locks import locked_for_details_change
from scheduler.participant_models import ParticipantLink
from scheduler.registration_models import Registration

ERASED_NAME = "—"  # what lists show in place of an erased participant's name (language-neutral)


class NotErasable(Conflict):
    """The participant takes part in an open case and has not stopped, or is erased already."""


@dataclass(frozen=True)
class ErasurePlan:
    """Whether the participant can be erased now, and if not, why (a sentence for staff)."""

    participant: Participant
    refusal: str | None

    @property
    def possible(self) -> bool:
        return self.refusal is None


def plan_erasure(session: Session, participant_id: int, actor: User) -> ErasurePlan:
    """Only a coordinator erases; the same 404 as an unknown id for anyone who cannot see the participant."""
    participant = participant_for(session, actor, participant_id)
    if not actor.sees_all_cases:
        raise Forbidden("only a coordinator erases a participant's data")
    return ErasurePlan(participant, _refusal(participant, participant.case.status))


def _refusal(participant: Participant, case_status: str) -> str | None:
    if participant.erased_at is not None:
        return "the participant's data was erased already"
    if participant.withdrawn_at is None and case_status != "closed":
        return "the participant takes part in an open case: record that they stop first"
    return None


def erase_participant(session: Session, participant_id: int, actor: User, now: datetime) -> Participant:
    """Erase one participant's personal data now, audited without any of it.

    The refusal is decided again on the locked rows: an undo of their stop, a reopening of the case or
    another erasure committed meanwhile is seen, not overwritten. The case row is held FOR SHARE, so its
    status cannot change until this commits."""
    plan = plan_erasure(session, participant_id, actor)
    if plan.refusal is not None:
        raise NotErasable(plan.refusal)
    _require_subscribers(session)
    participant = locked_for_details_change(session, participant_id, now)
    case_status = session.scalars(select(Case.status).where(Case.id == participant.case_id)
                                  .with_for_update(read=True)).one()
    refusal = _refusal(participant, case_status)
    if refusal is not None:
        raise NotErasable(refusal)
    _erase(session, participant, now)
    audit.record(session, actor.id, "participant.erased", "participant", participant.id)
    return participant


def _require_subscribers(session: Session) -> None:
    """The outbox and the callback queue drop their copies on the events: without the app's subscribers
    (a bare session) an erasure would clear the participant's row and leave those copies for good."""
    bus = session.info.get("event_bus")
    if bus is None or not bus.has_subscribers(events.ParticipantErasing) \
            or not bus.has_subscribers(events.CaseErasing):
        raise RuntimeError("erasure needs the packages' event subscribers on this session (composition)")


def erase_closed_cases(session: Session, now: datetime, after: timedelta, batch: int,
                       count: Callable[[str, int], int] | None = None) -> int:
    """Erase the personal data of cases closed longer than `after` ago; return how many cases.

    At most `batch` per call, oldest first, rows locked with SKIP LOCKED so a case someone is reopening
    right now waits for the next tick. `count(kind, n)` hears cases and participants (`flask purge`).
    """
    _require_subscribers(session)
    # FOR NO KEY UPDATE, as a case change locks it (casework.update_case): a reopening waits, or is skipped.
    cases = session.scalars(
        select(Case).where(Case.status == "closed", Case.closed_at < now - after, Case.erased_at.is_(None))
        .order_by(Case.closed_at, Case.id).limit(batch)
        .with_for_update(skip_locked=True, key_share=True, of=Case)).all()
    participants = 0
    for case in cases:
        for participant_id in sorted(p.id for p in case.participants):
            participant = locked_for_details_change(session, participant_id, now)
            if participant.erased_at is None:  # one a coordinator erased meanwhile is not erased twice
                _erase(session, participant, now)
                participants += 1
        publish(session, events.CaseErasing(case.id))
        session.execute(update(MediatorTask).where(MediatorTask.case_id == case.id).values(note=""))
        session.execute(delete(Registration).where(Registration.case_id == case.id))
        case.erased_at = now
        audit.record(session, None, "case.erased", "case", case.id)
    session.flush()
    if count is not None:
        count("cases' personal data", len(cases))
        count("participants' details", participants)
    return len(cases)


def registrations_of(participant: Participant) -> ColumnElement[bool]:
    """The registration a case was opened with for this participant; one from before that link was kept
    (migration 0020) by the case and the exact name, never by a number or address another may share."""
    return or_(Registration.participant_id == participant.id,
               and_(Registration.participant_id.is_(None), Registration.case_id == participant.case_id,
                    Registration.name == participant.name))


def _erase(session: Session, participant: Participant, now: datetime) -> None:
    publish(session, events.ParticipantErasing(participant.id, participant.case_id))
    session.execute(update(MediatorTask).where(MediatorTask.participant_id == participant.id).values(note=""))
    session.execute(delete(ParticipantLink).where(ParticipantLink.participant_id == participant.id))
    session.execute(delete(Registration).where(registrations_of(participant)))
    participant.name, participant.phone, participant.email, participant.address = ERASED_NAME, None, None, None
    participant.sms_allowed = participant.email_allowed = participant.full_text_opt_in = False
    participant.erased_at = now
    session.flush()
