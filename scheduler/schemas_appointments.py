"""API models for appointments, availability and reassignment (field names as in docs/architecture.md)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import MISSING, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from core.api import QueryModel, RequestModel, ResponseModel, UtcDatetime
from core.inputs import CONTROLS, Day, Id, Time, by_id, described
from scheduler.models import APPOINTMENT_KINDS, APPOINTMENT_MODES, APPOINTMENT_STATUSES, Appointment
from scheduler.policy import OVERRIDE_REASONS
from scheduler.rules import MAX_DURATION, MAX_VIDEO_URL

Kind = Literal[APPOINTMENT_KINDS]  # type: ignore[valid-type]
Mode = Literal[APPOINTMENT_MODES]  # type: ignore[valid-type]
Status = Literal[APPOINTMENT_STATUSES]  # type: ignore[valid-type]
OverrideReason = Literal[OVERRIDE_REASONS]  # type: ignore[valid-type]
MAX_SEARCH_SPAN = timedelta(weeks=26)
# Reasons are codes, not free text: they reach the audit trail, which holds no personal data.
CancelReason = Literal["cancelled", "participant_request", "mediator_unavailable", "room_unavailable",
                       "case_closed", "other"]
Arrivals = by_id(Time)  # participant id → arrival time
VideoUrl = Annotated[str, StringConstraints(max_length=MAX_VIDEO_URL, pattern=described(
    rf"^https://[^\s/?#{CONTROLS}]+([/?#][^\s{CONTROLS}]*)?$", "must be an https:// link"))]
BUSY_TIME_HELP = ("Coordinators only: the reason to book over a mediator's imported busy time (their own "
                  "calendar); without it such a time is taken (409)")
VIDEO_URL_HELP = "A video appointment's joining link (https); without one, the mediator's standing link serves"


def check_end(end: datetime, info: ValidationInfo) -> datetime:
    """`end` after `start` and at most 8 hours later; the error lands on `end`, the field to fix."""
    start = info.data.get("start")
    if start is None:
        return end
    if end <= start:
        raise PydanticCustomError("time_order", "must be after start")
    if end - start > MAX_DURATION:
        raise PydanticCustomError("duration", "an appointment lasts at most 8 hours")
    return end


class AppointmentCreate(RequestModel):
    """`status` "held" keeps the slot for a few minutes while the booking is filled in."""

    case_id: Id
    kind: Kind
    mode: Mode
    start: Time
    end: Time
    mediator_ids: list[Id] = Field(min_length=1, max_length=2)
    room_id: Id | None = None
    participant_ids: list[Id] = Field(default=[], max_length=20)
    arrivals: Arrivals = Field(
        default={}, description="Staggered arrivals: participant id → arrival time within the appointment")
    status: Literal["held", "confirmed"] = "confirmed"
    waiting_area_override: bool = Field(
        False, description="Coordinators only: a joint meeting in a room without a separate waiting area "
                           "(needs waiting_area_reason)")
    waiting_area_reason: OverrideReason | None = Field(None, description="Why the waiting-area rule is overridden")
    outside_hours: OverrideReason | None = Field(
        None, description="Coordinators only: the reason to book outside working hours, on a closed day or "
                          "inside the minimum notice; without it such a time is refused")
    busy_time: OverrideReason | None = Field(None, description=BUSY_TIME_HELP)
    video_url: VideoUrl | None = Field(None, description=VIDEO_URL_HELP)

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: datetime, info: ValidationInfo) -> datetime:
        return check_end(end, info)


class Reschedule(RequestModel):
    """Move an appointment and, in the same step, change what the move needs. A field left out stays
    as it is; arrivals left out move with the appointment (refused if one no longer fits)."""

    start: Time
    end: Time
    mode: Mode | MISSING = MISSING
    room_id: Id | None | MISSING = MISSING
    mediator_ids: Annotated[list[Id], Field(min_length=1, max_length=2)] | MISSING = MISSING
    participant_ids: Annotated[list[Id], Field(max_length=20)] | MISSING = MISSING
    arrivals: Arrivals | MISSING = MISSING
    waiting_area_override: bool | MISSING = MISSING
    waiting_area_reason: OverrideReason | None | MISSING = MISSING
    outside_hours: OverrideReason | None = None
    busy_time: OverrideReason | None = Field(None, description=BUSY_TIME_HELP)
    video_url: VideoUrl | None | MISSING = Field(MISSING, description=VIDEO_URL_HELP + "; null removes it")

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: datetime, info: ValidationInfo) -> datetime:
        return check_end(end, info)


class Cancel(RequestModel):
    reason: CancelReason = "cancelled"


class ReplyOut(ResponseModel):
    """A participant's reply by text to a reminder (1 = coming, 2 = cannot come); the latest counts."""

    response: Literal["coming", "cannot_come"]
    responded_at: UtcDatetime


class AppointmentOut(ResponseModel):
    id: int
    case_id: int
    kind: str
    mode: str
    start: UtcDatetime
    end: UtcDatetime
    mediator_ids: list[int]
    room_id: int | None
    participant_ids: list[int]
    arrivals: dict[int, UtcDatetime]
    departures: dict[int, UtcDatetime] = Field(
        description="Participant id → departure time, set at an in-person joint meeting: the party who arrived "
                    "first leaves DEPARTURE_GAP_MINUTES before the end, the other at the end")
    status: str
    hold_expires_at: UtcDatetime | None
    cancel_reason: str | None
    waiting_area_override: bool
    waiting_area_reason: str | None
    outside_hours_reason: str | None
    busy_time_reason: str | None
    video_url: str | None = Field(description="The appointment's own joining link, if it has one")
    replies: dict[int, ReplyOut] = Field(description="Participant id → their reply to a reminder by text, if "
                                                     "any; a reschedule clears it")

    @classmethod
    def of(cls, row: Appointment) -> AppointmentOut:
        return cls(id=row.id, case_id=row.case_id, kind=row.kind, mode=row.mode, start=row.start, end=row.end,
                   mediator_ids=[m.id for m in row.mediators], room_id=row.room_id,
                   participant_ids=[a.participant_id for a in row.attendances],
                   arrivals={a.participant_id: a.arrival for a in row.attendances if a.arrival is not None},
                   departures={a.participant_id: a.departure for a in row.attendances if a.departure is not None},
                   status=row.status, hold_expires_at=row.hold_expires_at, cancel_reason=row.cancel_reason,
                   waiting_area_override=row.waiting_area_override, waiting_area_reason=row.waiting_area_reason,
                   outside_hours_reason=row.outside_hours_reason, busy_time_reason=row.busy_time_reason,
                   video_url=row.video_url,
                   replies={a.participant_id: ReplyOut(response=a.response, responded_at=a.responded_at)
                            for a in row.attendances if a.response is not None and a.responded_at is not None})


class AppointmentList(ResponseModel):
    appointments: list[AppointmentOut]


class AppointmentQuery(QueryModel):
    """`from`/`to` select appointments that overlap the window."""

    case_id: Id | None = None
    mediator_id: Id | None = None
    status: Status | None = None
    from_: Time | None = Field(None, alias="from")
    to: Time | None = None
    limit: int = Field(500, ge=1, le=2000)

    @field_validator("to")
    @classmethod
    def _after_from(cls, to: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("from_")
        if to is not None and start is not None and to <= start:
            raise PydanticCustomError("time_order", "must be after from")
        return to


class AvailabilityQuery(QueryModel):
    """room_id: that room; location_id: any suitable room there; neither: no room (phone, video, home)."""

    mediator_ids: list[Id] = Field(min_length=1, max_length=2,
                                   description="One or two ids, comma-separated or repeated")
    room_id: Id | None = None
    location_id: Id | None = None
    duration_minutes: int = Field(ge=1, le=480)
    from_: Time = Field(alias="from")
    to: Time
    limit: int = Field(50, ge=1, le=500)

    @field_validator("to")
    @classmethod
    def _window(cls, to: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("from_")
        if start is not None and to <= start:
            raise PydanticCustomError("time_order", "must be after from")
        if start is not None and to - start > MAX_SEARCH_SPAN:
            raise PydanticCustomError("window", "the search window spans at most 26 weeks")
        return to


class SlotOut(ResponseModel):
    start: UtcDatetime
    end: UtcDatetime
    room_id: int | None


class Availability(ResponseModel):
    slots: list[SlotOut]


class ReassignFuture(RequestModel):
    """A mediator is away from `from` through `to` (local dates, both included; open-ended when left out)."""

    from_: Day | None = Field(None, alias="from", description="First day away (default: today)")
    to: Day | None = Field(None, description="Last day away (default: no end)")
    to_mediator_ids: Annotated[list[Id], Field(min_length=1, max_length=50)] | None = Field(
        None, description="Candidates to move to; all other active mediators when left out")

    @field_validator("to")
    @classmethod
    def _not_before_from(cls, to: date | None, info: ValidationInfo) -> date | None:
        first = info.data.get("from_")
        if to is not None and first is not None and to < first:
            raise PydanticCustomError("date_order", "must not be before from")
        return to


class Moved(ResponseModel):
    appointment_id: int
    mediator_id: int


class TaskMoved(ResponseModel):
    task_id: int
    mediator_id: int


class ReassignResultOut(ResponseModel):
    moved: list[Moved]
    unmovable: list[int]
    tasks_moved: list[TaskMoved]
