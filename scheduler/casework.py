"""Cases and participants: open and change them, assign mediators, close tasks.

Who may see a case is decided by scheduler.access; who may assign mediators
(coordinators and admins) is decided here, so no caller can forget it. A case
keeps its live future appointments consistent: a mediator with appointments
still ahead in it cannot be taken off, and such a case cannot be closed —
those appointments must be reassigned or cancelled first, on purpose.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.db import utcnow
from core.events import publish
from core.models import User
from core.problems import Conflict, Forbidden, InvalidInput, NotFound
from scheduler import events
from scheduler.access import case_for, own_mediator_id, participant_for, visible_cases
from scheduler.contact import can_receive_texts
from scheduler.models import (LIVE_STATUSES, Appointment, Case, Mediator, MediatorTask, Participant, Region,
                              appointment_mediators)
from scheduler.participant_locks import locked_for_details_change

CASE_FIELDS = ("reference", "kind", "status", "mediator_ids", "region_id")
MAX_MEDIATORS = 2  # a case has one or two mediators (co-mediation)
PARTICIPANT_FIELDS = ("case_id", "name", "role", "phone", "email", "address", "language", "sms_allowed",
                      "email_allowed", "full_text_opt_in")
# What a participant's messages are written from: a change to any of these reaches messages not yet sent.
MESSAGE_FIELDS = ("name", "phone", "email", "language", "sms_allowed", "email_allowed", "full_text_opt_in")


def _only(values: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise InvalidInput(unknown[0], "is not a field of this resource")
    return dict(values)


def _mediators(session: Session, ids: list[int]) -> list[Mediator]:
    if len(set(ids)) != len(ids):
        raise InvalidInput("mediator_ids", "lists a mediator twice")
    if len(ids) > MAX_MEDIATORS:
        raise InvalidInput("mediator_ids", f"at most {MAX_MEDIATORS} mediators")
    rows = list(session.scalars(select(Mediator).where(Mediator.id.in_(ids)).order_by(Mediator.id)))
    missing = sorted(set(ids) - {m.id for m in rows})
    if missing:
        raise InvalidInput("mediator_ids", f"no mediator with id {missing[0]}")
    inactive = [m.id for m in rows if not m.active]
    if inactive:
        raise InvalidInput("mediator_ids", f"mediator {inactive[0]} is not active")
    return rows


def _region(session: Session, region_id: int | None) -> Region | None:
    if region_id is None:
        return None
    region = session.get(Region, region_id)
    if region is None:
        raise InvalidInput("region_id", f"no region with id {region_id}")
    return region


def _next_reference(session: Session, now: datetime) -> str:
    prefix = f"HB-{now.year}-"
    count = session.scalar(select(func.count()).select_from(Case).where(Case.reference.startswith(prefix))) or 0
    number = count + 1
    while session.scalar(select(Case.id).where(Case.reference == f"{prefix}{number:04d}")) is not None:
        number += 1
    return f"{prefix}{number:04d}"


def _check_reference_free(session: Session, reference: str, case_id: int | None = None) -> None:
    other = session.scalar(select(Case.id).where(Case.reference == reference))
    if other is not None and other != case_id:
        raise Conflict(f"reference {reference} is already in use",
                       errors=[{"field": "reference", "message": "is already in use"}])


def _live_future(session: Session, case_id: int, now: datetime, mediator_id: int | None = None) -> bool:
    query = select(Appointment.id).where(Appointment.case_id == case_id, Appointment.status.in_(LIVE_STATUSES),
                                         Appointment.end > now)
    if mediator_id is not None:
        query = query.join(appointment_mediators).where(appointment_mediators.c.mediator_id == mediator_id)
    return session.scalar(query.limit(1)) is not None


def create_case(session: Session, actor: User, values: Mapping[str, Any], now: datetime) -> Case:
    values = _only(values, CASE_FIELDS)
    if not actor.sees_all_cases:
        raise Forbidden("only a coordinator opens cases")
    reference = values.get("reference") or _next_reference(session, now)
    _check_reference_free(session, reference)
    status = values.get("status", "registered")
    case = Case(reference=reference, kind=values["kind"], status=status,
                mediators=_mediators(session, list(values.get("mediator_ids", []))), created_at=now,
                closed_at=now if status == "closed" else None, region=_region(session, values.get("region_id")))
    session.add(case)
    session.flush()
    audit.record(session, actor.id, "case.created", "case", case.id)
    return case


def update_case(session: Session, actor: User, case_id: int, changes: Mapping[str, Any], now: datetime) -> Case:
    changes = _only(changes, CASE_FIELDS)
    case = case_for(session, actor, case_id)
    # Locked and read afresh (FOR NO KEY UPDATE): an erasure of the case (scheduler.erasure) that committed
    # meanwhile is seen, and one that starts now skips the case until this commits.
    case = session.scalars(select(Case).where(Case.id == case.id).with_for_update(key_share=True)
                           .execution_options(populate_existing=True)).one()
    if ({"mediator_ids", "reference", "region_id"} & set(changes)) and not actor.sees_all_cases:
        raise Forbidden("only a coordinator assigns mediators, sets the region or renumbers a case")
    if "reference" in changes:
        _check_reference_free(session, changes["reference"], case.id)
        case.reference = changes["reference"]
    if "mediator_ids" in changes:
        _reassign(session, case, list(changes["mediator_ids"]), now)
    if "region_id" in changes:
        case.region = _region(session, changes["region_id"])
    if "kind" in changes:
        case.kind = changes["kind"]
    if "status" in changes and changes["status"] != case.status:
        if changes["status"] == "closed" and _live_future(session, case.id, now):
            raise Conflict("the case still has appointments ahead; cancel them before closing",
                           errors=[{"field": "status", "message": "the case still has appointments ahead"}])
        if case.erased_at is not None:
            raise Conflict("the case's personal data was erased; it cannot be reopened",
                           errors=[{"field": "status", "message": "the case's personal data was erased"}])
        case.status = changes["status"]
        case.closed_at = now if case.status == "closed" else None  # its erasure counts from here
    session.flush()
    audit.record(session, actor.id, "case.updated", "case", case.id, ",".join(sorted(changes)))
    return case


def _reassign(session: Session, case: Case, mediator_ids: list[int], now: datetime) -> None:
    new = _mediators(session, mediator_ids)
    for gone in {m.id for m in case.mediators} - set(mediator_ids):
        if _live_future(session, case.id, now, gone):
            raise Conflict(f"mediator {gone} has appointments ahead in this case; reassign or cancel them first",
                           errors=[{"field": "mediator_ids", "message": f"mediator {gone} has appointments ahead"}])
    case.mediators = new


def _check_channels(participant: Participant, sent: Mapping[str, Any]) -> None:
    """Consent to a channel needs an address on it, or the consent is a promise we cannot keep.

    Texts need a number that can receive them (phonenumbers knows a landline);
    checked when `sms_allowed` or `phone` is sent, naming the one sent.
    """
    if participant.sms_allowed and not participant.phone:
        raise InvalidInput("sms_allowed", "needs a phone number")
    if participant.email_allowed and not participant.email:
        raise InvalidInput("email_allowed", "needs an email address")
    if participant.sms_allowed and participant.phone and ({"sms_allowed", "phone"} & set(sent)) \
            and not can_receive_texts(participant.phone):
        if "sms_allowed" in sent:
            raise InvalidInput("sms_allowed", "needs a mobile number: this phone number cannot receive texts")
        raise InvalidInput("phone", "cannot receive texts, which this participant allows: turn sms_allowed off")


def create_participant(session: Session, actor: User, values: Mapping[str, Any]) -> Participant:
    values = _only(values, PARTICIPANT_FIELDS)
    try:
        case = case_for(session, actor, values["case_id"])
    except NotFound:
        raise InvalidInput("case_id", f"no case with id {values['case_id']}") from None
    if case.status == "closed":
        raise InvalidInput("case_id", "the case is closed")
    participant = Participant(**values)
    _check_channels(participant, values)
    session.add(participant)
    session.flush()
    audit.record(session, actor.id, "participant.created", "participant", participant.id)
    return participant


def update_participant(session: Session, actor: User, participant_id: int, changes: Mapping[str, Any]) -> Participant:
    changes = _only(changes, PARTICIPANT_FIELDS)
    if "case_id" in changes:
        raise InvalidInput("case_id", "a participant cannot move to another case")
    participant = locked_for_details_change(session, participant_for(session, actor, participant_id).id, utcnow())
    if participant.erased_at is not None:
        raise Conflict("the participant's personal data was erased; nothing can be changed")
    changed = tuple(name for name in MESSAGE_FIELDS
                    if name in changes and changes[name] != getattr(participant, name))
    for name, value in changes.items():
        setattr(participant, name, value)
    _check_channels(participant, changes)
    session.flush()
    audit.record(session, actor.id, "participant.updated", "participant", participant.id, ",".join(sorted(changes)))
    if changed:
        publish(session, events.ParticipantDetailsChanged(participant.id, participant.case_id, changed, actor.id))
    return participant


def visible_tasks(session: Session, actor: User) -> Any:
    """Coordinators see every task; a mediator sees their own, on cases still assigned to them."""
    query = select(MediatorTask).order_by(MediatorTask.created_at, MediatorTask.id)
    if actor.sees_all_cases:
        return query
    case_ids = visible_cases(session, actor).with_only_columns(Case.id).order_by(None)
    return query.where(MediatorTask.mediator_id == own_mediator_id(session, actor), MediatorTask.case_id.in_(case_ids))


def complete_task(session: Session, actor: User, task_id: int, now: datetime) -> MediatorTask:
    task = session.scalar(visible_tasks(session, actor).where(MediatorTask.id == task_id))
    if task is None:
        raise NotFound(f"task {task_id} not found")
    if task.done_at is None:
        task.done_at = now
        audit.record(session, actor.id, "task.done", "task", task.id)
    session.flush()
    return task
