"""Booking rules that need no database: checked before anything is locked.

Each failure names the field, so the API can say exactly what to fix.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.problems import InvalidInput
from scheduler.models import APPOINTMENT_KINDS, APPOINTMENT_MODES

MAX_DURATION = timedelta(hours=8)
ROOM_MODES = ("in_person",)


@dataclass(frozen=True)
class BookingRequest:
    case_id: int
    kind: str
    mode: str
    start: datetime
    end: datetime
    mediator_ids: tuple[int, ...]
    room_id: int | None = None
    participant_ids: tuple[int, ...] = ()
    arrivals: dict[int, datetime] = field(default_factory=dict)
    waiting_area_override: bool = False


def check_times(start: datetime, end: datetime, now: datetime, start_field: str = "start",
                end_field: str = "end") -> None:
    for name, value in ((start_field, start), (end_field, end)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInput(name, "must carry a UTC offset, e.g. 2026-12-01T10:00:00+01:00")
    if end <= start:
        raise InvalidInput(end_field, "must be after start")
    if end - start > MAX_DURATION:
        raise InvalidInput(end_field, "an appointment lasts at most 8 hours")
    if start < now:
        raise InvalidInput(start_field, "lies in the past")


def check_request(req: BookingRequest, now: datetime) -> None:
    if req.kind not in APPOINTMENT_KINDS:
        raise InvalidInput("kind", f"must be one of {', '.join(APPOINTMENT_KINDS)}")
    if req.mode not in APPOINTMENT_MODES:
        raise InvalidInput("mode", f"must be one of {', '.join(APPOINTMENT_MODES)}")
    check_times(req.start, req.end, now)
    if not 1 <= len(req.mediator_ids) <= 2 or len(set(req.mediator_ids)) != len(req.mediator_ids):
        raise InvalidInput("mediator_ids", "one or two different mediators")
    if req.mode in ROOM_MODES and req.room_id is None:
        raise InvalidInput("room_id", "an in-person appointment needs a room")
    if req.mode not in ROOM_MODES and req.room_id is not None:
        raise InvalidInput("room_id", f"a {req.mode} appointment takes no room")
    if len(set(req.participant_ids)) != len(req.participant_ids):
        raise InvalidInput("participant_ids", "lists a participant twice")
    for participant_id, arrival in req.arrivals.items():
        if participant_id not in req.participant_ids:
            raise InvalidInput("arrivals", f"participant {participant_id} is not in participant_ids")
        if arrival.tzinfo is None or arrival.utcoffset() is None:
            raise InvalidInput("arrivals", "times must carry a UTC offset")
        if not req.start <= arrival < req.end:
            raise InvalidInput("arrivals", "each arrival must lie within the appointment")


def is_joint(roles_by_side: list[str]) -> bool:
    """Both parties present: someone harmed and someone who caused it."""
    harmed = {"victim", "next_of_kin"}
    caused = {"suspect", "offender", "causer"}
    roles = set(roles_by_side)
    return bool(roles & harmed) and bool(roles & caused)
