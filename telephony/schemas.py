"""Request and response models of the callback queue API and the staff duty switch.

What a request shows staff: the number to call (they need it), whether it
was typed in (then verify who answers before saying who we are), and whether
a text may go to the caller. The number that actually called is never shown:
it matters only for texts, and Pendel sends those itself.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import MISSING, Field, StringConstraints

from core.api import QueryModel, RequestModel, ResponseModel, UtcDatetime
from core.inputs import Id, Time, described
from core.models import User
from scheduler.schemas import Phone
from telephony.models import CALL_STATES, LANGUAGES, MOMENTS, OPEN_STATUSES, OUTCOMES, SAFE_DEFAULTS, STATUSES, \
    CallbackAttempt, CallbackCall, CallbackRequest
from telephony.queue import CLOSING_STATUSES

Status = Literal[STATUSES]  # type: ignore[valid-type]
Outcome = Literal[OUTCOMES]  # type: ignore[valid-type]
Closing = Literal[CLOSING_STATUSES]  # type: ignore[valid-type]
Language = Literal[LANGUAGES]  # type: ignore[valid-type]
Moment = Literal[MOMENTS]  # type: ignore[valid-type]
CallState = Literal[CALL_STATES]  # type: ignore[valid-type]
Defaultable = Literal[tuple(SAFE_DEFAULTS)]  # type: ignore[valid-type]


Assignee = Annotated[str, StringConstraints(pattern=described(r"^(me|none|[1-9][0-9]{0,8})$",
                                                             'must be "me", "none" or a user id')),
                     Field(description='"me", "none" (nobody has claimed it) or a user id', examples=["me"])]


class CallbackQuery(QueryModel):
    status: Annotated[list[Status], Field(min_length=1, max_length=len(STATUSES),
                                          description="One or more, comma-separated or repeated; "
                                                      "default the open ones (open,in_progress)")] \
        = list(OPEN_STATUSES)
    assignee: Assignee | None = None
    case_id: Id | None = None
    due_before: Time | None = Field(None, description="Only requests due before this moment")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


class UserRef(ResponseModel):
    id: int
    name: str

    @classmethod
    def of(cls, user: User | None) -> UserRef | None:
        return cls(id=user.id, name=user.name) if user is not None else None


class LastAttempt(ResponseModel):
    at: UtcDatetime
    outcome: Outcome


class CallbackOut(ResponseModel):
    """One callback request as the queue shows it."""

    id: int
    number: str = Field(description="The number to call, E.164")
    number_typed_in: bool = Field(description="The caller typed this number in: it is not the one that called")
    verify_identity: bool = Field(description="Check who answers before saying who we are (typed-in number)")
    caller_number_known: bool = Field(description="Whether the number that called was shown (not withheld); "
                                                  "the number itself is not exposed")
    texts_to_caller_allowed: bool = Field(description="A text (e.g. after failed attempts) may go to the number "
                                                      "that called")
    language: Language
    moment: Moment = Field(description="Preferred part of the day")
    may_identify: bool = Field(description="Whether we may say who we are if someone else answers")
    wants_confirmation: bool
    defaulted: list[Defaultable] = Field(description="The answers the caller never gave (they hung up, or three "
                                                     "times no usable key), whose safe default stands: moment "
                                                     "no_preference, may_identify and wants_confirmation false")
    case_id: int | None
    created_at: UtcDatetime
    window_start: UtcDatetime = Field(description="Start of the promised window")
    due_at: UtcDatetime = Field(description="End of the promised window (SLA)")
    overdue: bool = Field(description="Still open and past due_at")
    status: Status
    assignee: UserRef | None
    attempts_count: int
    last_attempt: LastAttempt | None

    @classmethod
    def fields_of(cls, row: CallbackRequest, *, overdue: bool, assignee: User | None, attempts_count: int,
                  last_attempt: CallbackAttempt | None) -> dict[str, object]:
        return dict(
            id=row.id, number=row.number, number_typed_in=row.number_typed_in, verify_identity=row.number_typed_in,
            caller_number_known=row.caller_number is not None,
            texts_to_caller_allowed=bool(row.wants_confirmation and row.caller_number is not None),
            language=row.language, moment=row.moment, may_identify=row.may_identify,
            wants_confirmation=row.wants_confirmation, defaulted=row.defaulted_answers, case_id=row.case_id,
            created_at=row.created_at,
            window_start=row.window_start, due_at=row.due_at, overdue=overdue, status=row.status,
            assignee=UserRef.of(assignee), attempts_count=attempts_count,
            last_attempt=LastAttempt(at=last_attempt.at, outcome=last_attempt.outcome) if last_attempt else None)


class CallbackList(ResponseModel):
    callbacks: list[CallbackOut]
    total: int = Field(description="How many match the filters, before limit and offset")


class AttemptOut(ResponseModel):
    id: int
    at: UtcDatetime
    outcome: Outcome
    by: UserRef | None = Field(description="Who recorded it; null when Twilio reported a click-to-call's outcome "
                                           "and the staff member is gone")
    via_call: bool = Field(description="Recorded from a click-to-call")

    @classmethod
    def of(cls, row: CallbackAttempt, by: User | None) -> AttemptOut:
        return cls(id=row.id, at=row.at, outcome=row.outcome, by=UserRef.of(by), via_call=row.call_sid is not None)


class CallOut(ResponseModel):
    """A click-to-call and where it stands."""

    id: int
    state: CallState
    by: UserRef | None
    created_at: UtcDatetime
    error: str | None = Field(description="Why it failed; never a number")

    @classmethod
    def of(cls, row: CallbackCall, by: User | None) -> CallOut:
        return cls(id=row.id, state=row.state, by=UserRef.of(by), created_at=row.created_at, error=row.error)


class CallbackDetail(CallbackOut):
    attempts: list[AttemptOut]
    calls: list[CallOut]


class AttemptCreate(RequestModel):
    outcome: Outcome


class AttemptCreated(ResponseModel):
    attempt: AttemptOut
    callback: CallbackDetail = Field(description="The request afterwards: its status may now be unreachable")


class CallbackClose(RequestModel):
    status: Closing = Field(description="done: settled; cancelled: no longer needed")


class CallStarted(ResponseModel):
    id: int
    callback_id: int
    state: CallState


class MeOut(ResponseModel):
    id: int
    name: str
    email: str
    role: str
    phone: str | None = Field(description="The phone the line rings when you are on duty, E.164")
    on_duty: bool

    @classmethod
    def of(cls, user: User) -> MeOut:
        return cls(id=user.id, name=user.name, email=user.email, role=user.role, phone=user.phone,
                   on_duty=user.on_duty)


class MePatch(RequestModel):
    """Only the fields sent change; `phone: null` removes the number and takes you off duty."""

    phone: Phone | None | MISSING = MISSING
    on_duty: bool | MISSING = Field(MISSING, description="Going on duty needs a phone number")


class OnDutyOut(ResponseModel):
    id: int
    name: str
    phone: str


class OnDutyList(ResponseModel):
    on_duty: list[OnDutyOut]
