"""API models for cases, participants and mediator tasks (field names as in docs/architecture.md)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import MISSING, Field, StringConstraints

from core.api import QueryModel, RequestModel, ResponseModel, UtcDatetime
from core.inputs import Id, described
from scheduler.models import CASE_KINDS, CASE_STATUSES, LANGUAGES, PARTICIPANT_ROLES, Case, MediatorTask, Participant
from scheduler.schemas import Address, Email, Name, Phone

CaseKind = Literal[CASE_KINDS]  # type: ignore[valid-type]
CaseStatus = Literal[CASE_STATUSES]  # type: ignore[valid-type]
Role = Literal[PARTICIPANT_ROLES]  # type: ignore[valid-type]
Language = Literal[LANGUAGES]  # type: ignore[valid-type]
Reference = Annotated[str, StringConstraints(pattern=described(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$",
                                                              "must be 1 to 40 letters, digits and . _ / -, "
                                                              "starting with a letter or digit")),
                      Field(description="The office's case number; generated (HB-<year>-<n>) when left out",
                            examples=["HB-2026-0042"])]
MediatorIds = Annotated[list[Id], Field(max_length=2, description="The one or two mediators assigned to the case")]


class CaseCreate(RequestModel):
    reference: Reference | None = None
    kind: CaseKind
    status: CaseStatus = "registered"
    mediator_ids: MediatorIds = []


class CasePatch(RequestModel):
    """Mediators may change kind and status of their own cases; only coordinators reassign."""

    reference: Reference | MISSING = MISSING
    kind: CaseKind | MISSING = MISSING
    status: CaseStatus | MISSING = MISSING
    mediator_ids: MediatorIds | MISSING = MISSING


class CaseOut(ResponseModel):
    id: int
    reference: str
    kind: str
    status: str
    mediator_ids: list[int]
    created_at: UtcDatetime

    @classmethod
    def of(cls, row: Case) -> CaseOut:
        return cls(id=row.id, reference=row.reference, kind=row.kind, status=row.status,
                   mediator_ids=[m.id for m in row.mediators], created_at=row.created_at)


class CaseList(ResponseModel):
    cases: list[CaseOut]


class CaseQuery(QueryModel):
    status: CaseStatus | None = None
    mediator_id: Id | None = None


class ParticipantCreate(RequestModel):
    case_id: Id
    name: Name
    role: Role
    phone: Phone | None = None
    email: Email | None = None
    address: Address | None = None
    language: Language = "nl"
    sms_allowed: bool = Field(False, description="Texts may go to `phone`; needs a mobile number (422 otherwise)")
    email_allowed: bool = False
    full_text_opt_in: bool = Field(False, description="Messages may name the mediation (discreet otherwise)")


class ParticipantPatch(RequestModel):
    """A participant stays in their case; withdrawal has its own actions."""

    name: Name | MISSING = MISSING
    role: Role | MISSING = MISSING
    phone: Phone | None | MISSING = MISSING
    email: Email | None | MISSING = MISSING
    address: Address | None | MISSING = MISSING
    language: Language | MISSING = MISSING
    sms_allowed: bool | MISSING = MISSING
    email_allowed: bool | MISSING = MISSING
    full_text_opt_in: bool | MISSING = MISSING


class ParticipantOut(ResponseModel):
    id: int
    case_id: int
    name: str
    role: str
    phone: str | None
    email: str | None
    address: str | None
    language: str
    sms_allowed: bool
    email_allowed: bool
    full_text_opt_in: bool
    withdrawn_at: UtcDatetime | None
    erased_at: UtcDatetime | None = None  # their personal data was erased (name "—", no contact details)

    @classmethod
    def of(cls, row: Participant) -> ParticipantOut:
        return cls(id=row.id, case_id=row.case_id, name=row.name, role=row.role, phone=row.phone,
                   email=row.email, address=row.address, language=row.language, sms_allowed=row.sms_allowed,
                   email_allowed=row.email_allowed, full_text_opt_in=row.full_text_opt_in,
                   withdrawn_at=row.withdrawn_at, erased_at=row.erased_at)


class ParticipantList(ResponseModel):
    participants: list[ParticipantOut]


class ParticipantQuery(QueryModel):
    case_id: Id | None = None


class TaskOut(ResponseModel):
    id: int
    mediator_id: int
    case_id: int
    kind: str
    participant_id: int | None
    appointment_id: int | None
    note: str
    created_at: UtcDatetime
    done_at: UtcDatetime | None

    @classmethod
    def of(cls, row: MediatorTask) -> TaskOut:
        return cls(id=row.id, mediator_id=row.mediator_id, case_id=row.case_id, kind=row.kind,
                   participant_id=row.participant_id, appointment_id=row.appointment_id, note=row.note,
                   created_at=row.created_at, done_at=row.done_at)


class TaskList(ResponseModel):
    tasks: list[TaskOut]


class TaskQuery(QueryModel):
    open: bool | None = Field(None, description="true: only tasks not yet done; false: only done ones")
