"""Registrations: received from the public page, worked by the office (coordinators and admins only).

A registration is handled once: a coordinator opens a case from it (the case page's own write transaction
calls `mark_case_opened` after creating the case, so the case, its first participant and the link commit or
roll back together) or closes it without one. Both are one conditional UPDATE on a registration still `new`:
of two coordinators pressing at once, exactly one wins, and the other's transaction (with the case it was
about to open) is rolled back. Every write is audited by ids and codes only, never with what was written.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from core.audit import record
from core.models import User
from core.web_words import phone_display
from core.problems import Conflict, Forbidden, InvalidInput, NotFound
from scheduler.registration_models import CLOSE_REASONS, Registration

FIELDS = ("registrant", "registrant_name", "registrant_organisation", "registrant_phone", "registrant_email",
          "name", "phone", "email", "address", "language", "role", "kind", "other_party_known", "contact_call",
          "contact_sms", "contact_email", "contact_letter", "moment", "may_identify", "note")
HANDLED = ("case_opened", "closed")


class AlreadyHandled(Conflict):
    """The registration was opened as a case or closed in the meantime (by someone else, or a second click)."""

    def __init__(self, registration: Registration) -> None:
        super().__init__(f"registration {registration.id} is already {registration.status.replace('_', ' ')}",
                         registration_status=registration.status)
        self.registration_id = registration.id
        self.case_id = registration.case_id


def submit(session: Session, values: Mapping[str, Any], now: datetime) -> Registration:
    """Store a registration the public form has checked; audited without an actor and without its contents."""
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise InvalidInput(unknown[0], "is not a field of a registration")
    row = Registration(**values, status="new", created_at=now)
    session.add(row)
    session.flush()
    record(session, None, "registration.received", "registration", row.id)
    return row


def office_registrations(actor: User) -> Select[tuple[Registration]]:
    """Every registration, for the office; a mediator never sees one (the queue is intake, not casework)."""
    if not actor.sees_all_cases:
        raise Forbidden("registrations are for coordinators")
    return select(Registration)


def waiting(actor: User, limit: int) -> Select[tuple[Registration]]:
    """The queue: registrations not yet handled, the longest waiting first."""
    return (office_registrations(actor).where(Registration.status == "new")
            .order_by(Registration.created_at, Registration.id).limit(limit))


def handled(actor: User, limit: int) -> Select[tuple[Registration]]:
    """Handled registrations, the most recently handled first."""
    return (office_registrations(actor).where(Registration.status.in_(HANDLED))
            .order_by(Registration.handled_at.desc(), Registration.id.desc()).limit(limit))


def registration_for(session: Session, actor: User, registration_id: int) -> Registration:
    row = session.scalar(office_registrations(actor).where(Registration.id == registration_id))
    if row is None:
        raise NotFound(f"registration {registration_id} not found")
    return row


def case_prefill(row: Registration) -> dict[str, Any]:
    """The new-case form's values from a registration: its kind, and the person as first participant with the
    channels they chose (a call needs no consent flag: the phone number is there to be called)."""
    return {"kind": row.kind, "name": row.name, "role": row.role, "phone": phone_display(row.phone) or None,
            "email": row.email,
            "address": row.address, "language": row.language, "sms_allowed": row.contact_sms,
            "email_allowed": row.contact_email}


def _handle(session: Session, actor: User, registration_id: int, now: datetime, **values: Any) -> Registration:
    """Mark a registration still `new` as handled, in one conditional UPDATE; AlreadyHandled otherwise."""
    row = registration_for(session, actor, registration_id)  # 403 for a mediator, 404 for an unknown id
    won = session.execute(
        update(Registration).where(Registration.id == registration_id, Registration.status == "new")
        .values(handled_by_id=actor.id, handled_at=now, **values)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(row)
    if not won:
        raise AlreadyHandled(row)
    return row


def mark_case_opened(session: Session, actor: User, registration_id: int, case_id: int,
                     now: datetime, participant_id: int | None = None) -> Registration:
    """Link the registration to the case just opened from it (and the participant it was opened with), in the
    same transaction as the case."""
    row = _handle(session, actor, registration_id, now, status="case_opened", case_id=case_id,
                  participant_id=participant_id)
    record(session, actor.id, "registration.case_opened", "registration", row.id, f"case={case_id}")
    return row


def close(session: Session, actor: User, registration_id: int, reason: str, now: datetime) -> Registration:
    """Close a registration without a case, with one of the office's reasons (a code, never free text)."""
    if reason not in CLOSE_REASONS:
        raise InvalidInput("reason", f"must be one of {', '.join(CLOSE_REASONS)}")
    row = _handle(session, actor, registration_id, now, status="closed", close_reason=reason)
    record(session, actor.id, "registration.closed", "registration", row.id, f"reason={reason}")
    return row


def purge_handled(session: Session, now: datetime, retention_days: int) -> int:
    """Delete registrations handled more than `retention_days` ago (what a case needs is in the case by then)."""
    return session.execute(
        delete(Registration).where(Registration.status.in_(HANDLED),
                                   Registration.handled_at < now - timedelta(days=retention_days)),
        execution_options={"synchronize_session": False}).rowcount or 0
