"""What the case pages (scheduler.desk_cases) load and put into words: the callback requests telephony tells
them of, a case with its people, its appointments and its history.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from flask import url_for
from flask_babel import get_translations, lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, joinedload

from core.models import AuditEntry, User
from core.web import has_endpoint, label
from scheduler.access import visible_cases
from scheduler.desk_case_forms import translated
from scheduler.models import Appointment, Attendance, Case, Mediator, MediatorTask, appointment_mediators
from scheduler.participant_models import Offer

HISTORY_LIMIT = 200

# --- what telephony tells the case pages (registered by telephony's plugin) -------------------------

@dataclass(frozen=True)
class CallbackSummary:
    id: int
    status: str
    created_at: datetime
    due_at: datetime
    endpoint: str  # the request's own page, called with callback_id


@dataclass(frozen=True)
class CallbackPrefill:
    id: int
    phone: str
    language: str
    case_id: int | None  # already linked to this case


@dataclass(frozen=True)
class CaseCallbacks:
    for_case: Callable[[Session, User, int], list[CallbackSummary]]
    prefill: Callable[[Session, User, int], CallbackPrefill | None]
    link: Callable[[Session, User, int, int], bool]



# --- one case ---------------------------------------------------------------------------------

HISTORY_WORDS = {
    "case.created": _l("Case opened"),
    "case.updated": _l("Case changed"),
    "case.mediator_added": _l("A mediator joined the case for an appointment"),
    "participant.created": _l("Participant added"),
    "participant.updated": _l("Participant's details changed"),
    "participant.withdrew": _l("Participant stopped"),
    "participant.withdrawal_undone": _l("Participant's stop undone"),
    "participant.sms_stopped": _l("Participant turned texts off (STOP)"),
    "participant.sms_started": _l("Participant turned texts on again (START)"),
    "attendance.coming": _l("A participant said on their page they will come"),
    "attendance.cannot_come": _l("A participant said on their page they cannot come"),
    "offer.made": _l("Times offered to choose from"),
    "offer.chosen": _l("An offered time was chosen"),
    "offer.withdrawn": _l("Offered times withdrawn"),
    "offer.lapsed": _l("Offered times ran out without a choice"),
    "participant.exported": _l("A file of the participant's data was made"),
    "participant.erased": _l("Participant's personal data erased"),
    "case.erased": _l("The case's personal data erased at the end of its keeping period"),
    "appointment.held": _l("Appointment reserved"),
    "appointment.booked": _l("Appointment booked"),
    "appointment.confirmed": _l("Appointment confirmed"),
    "appointment.rescheduled": _l("Appointment moved"),
    "appointment.cancelled": _l("Appointment cancelled"),
    "appointment.reassigned": _l("Appointment given to another mediator"),
    "task.done": _l("Task done"),
    "task.reassigned": _l("Task given to another mediator"),
    "callback.linked": _l("Callback request linked to this case"),
    "callback.claim": _l("Callback request taken up"),
    "callback.release": _l("Callback request put back in the queue"),
    "callback.done": _l("Callback request closed: done"),
    "callback.cancelled": _l("Callback request closed: no longer needed"),
}
# Actions with a variable last part, by their start.
HISTORY_PREFIXES = {
    "appointment.override.": _l("Booked as an exception to the rules, with a reason"),
    "callback.attempt.": _l("Called back"),
}
FIELD_WORDS = {
    "reference": _l("case number"), "kind": _l("kind"), "status": _l("status"), "mediator_ids": _l("mediators"),
    "region_id": _l("region"), "name": _l("name"), "role": _l("role"), "phone": _l("phone"), "email": _l("email"),
    "address": _l("address"), "language": _l("language"), "sms_allowed": _l("texts allowed"),
    "email_allowed": _l("emails allowed"), "full_text_opt_in": _l("consent to name the mediation"),
}


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    actor: str | None
    what: Any
    details: list[Any]
    subject: Any  # e.g. the appointment's kind or the participant's role, as words
    link: str | None


def _history_what(action: str) -> Any:
    if action in HISTORY_WORDS:
        return HISTORY_WORDS[action]
    for start, words in HISTORY_PREFIXES.items():
        if action.startswith(start):
            return words
    return _l("Other change")


def _history(session: Session, case: Case, appointments: list[AppointmentRow],
             callbacks: list[CallbackSummary]) -> list[HistoryItem]:
    """The audit trail of the case and of its participants, appointments, offers, tasks and callback requests
    (one query: an offer's entry brings whom it was for)."""
    roles = {p.id: p.role for p in case.participants}
    kinds = {a.id: a.kind for a in appointments}
    tasks = select(MediatorTask.id).where(MediatorTask.case_id == case.id).scalar_subquery()
    offers = select(Offer.id).where(Offer.case_id == case.id).scalar_subquery()
    about = or_(and_(AuditEntry.object_type == "case", AuditEntry.object_id == case.id),
                and_(AuditEntry.object_type == "offer", AuditEntry.object_id.in_(offers)),
                and_(AuditEntry.object_type == "participant", AuditEntry.object_id.in_(list(roles))),
                and_(AuditEntry.object_type == "appointment", AuditEntry.object_id.in_(list(kinds))),
                and_(AuditEntry.object_type.in_(("task", "mediator_task")), AuditEntry.object_id.in_(tasks)),
                and_(AuditEntry.object_type == "callback_request",
                     AuditEntry.object_id.in_([c.id for c in callbacks])))
    rows = session.execute(select(AuditEntry.at, AuditEntry.action, AuditEntry.object_type, AuditEntry.object_id,
                                  AuditEntry.detail, User.name.label("actor"), Offer.participant_id.label("offered_to"))
                           .outerjoin(User, User.id == AuditEntry.actor_id)
                           .outerjoin(Offer, and_(AuditEntry.object_type == "offer", Offer.id == AuditEntry.object_id))
                           .where(about).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(HISTORY_LIMIT))
    items, catalog = [], get_translations()  # the words once for the whole history, not once per entry
    appointment_links = has_endpoint("desk_booking.appointment")
    for entry in rows:
        details: list[Any] = []
        subject, link = None, None
        if entry.action in ("case.updated", "participant.updated") and entry.detail:
            details = [translated(FIELD_WORDS[name], catalog) for name in entry.detail.split(",")
                       if name in FIELD_WORDS]
        elif entry.action == "appointment.cancelled" and entry.detail:
            details = [label(entry.detail, "cancel_reason")]
        elif entry.action.startswith("callback.attempt."):
            details = [label(entry.action.rsplit(".", 1)[1], "attempt_outcome")]
        if entry.object_type in ("participant", "offer"):
            whose = entry.object_id if entry.object_type == "participant" else entry.offered_to
            subject = label(roles.get(whose), "participant_role")
        elif entry.object_type == "appointment":
            subject = label(kinds.get(entry.object_id), "appointment_kind")
            if appointment_links:
                link = url_for("desk_booking.appointment", appointment_id=entry.object_id)
        items.append(HistoryItem(entry.at, entry.actor, translated(_history_what(entry.action), catalog), details,
                                 subject, link))
    return items


def _case_with_people(session: Session, user: User, case_id: int) -> Case | None:
    """The case if `user` may see it (scheduler.access), with its region, mediators and participants: one query."""
    return session.execute(visible_cases(session, user).where(Case.id == case_id).options(
        joinedload(Case.region), joinedload(Case.mediators).load_only(Mediator.id, Mediator.name, Mediator.active),
        joinedload(Case.participants))).unique().scalar_one_or_none()


@dataclass(frozen=True)
class Attending:
    participant_id: int
    arrival: datetime | None


@dataclass
class AppointmentRow:
    """An appointment as the case page shows it: its mediators' names and who comes, from one query."""
    id: int
    kind: str
    mode: str
    start: datetime
    end: datetime
    status: str
    cancel_reason: str | None
    mediators: list[str]
    attendances: list[Attending]


def _appointment_rows(session: Session, case_id: int) -> list[AppointmentRow]:
    """The case's appointments, latest first, each with its mediators (by id) and attendances (by participant):
    one query, a row per appointment, mediator and attendance."""
    rows = session.execute(
        select(Appointment.id, Appointment.kind, Appointment.mode, Appointment.start, Appointment.end,
               Appointment.status, Appointment.cancel_reason, Mediator.id.label("mediator_id"),
               Mediator.name.label("mediator"), Attendance.participant_id, Attendance.arrival)
        .select_from(Appointment)
        .outerjoin(appointment_mediators, appointment_mediators.c.appointment_id == Appointment.id)
        .outerjoin(Mediator, Mediator.id == appointment_mediators.c.mediator_id)
        .outerjoin(Attendance, Attendance.appointment_id == Appointment.id)
        .where(Appointment.case_id == case_id)
        .order_by(Appointment.start.desc(), Appointment.id.desc(), Mediator.id, Attendance.participant_id))
    found: dict[int, tuple[AppointmentRow, set[int], set[int]]] = {}
    for r in rows:
        if r.id not in found:
            found[r.id] = (AppointmentRow(r.id, r.kind, r.mode, r.start, r.end, r.status, r.cancel_reason, [], []),
                           set(), set())
        row, mediators, attending = found[r.id]
        if r.mediator_id is not None and r.mediator_id not in mediators:
            mediators.add(r.mediator_id)
            row.mediators.append(r.mediator)
        if r.participant_id is not None and r.participant_id not in attending:
            attending.add(r.participant_id)
            row.attendances.append(Attending(r.participant_id, r.arrival))
    return [row for row, _m, _a in found.values()]
