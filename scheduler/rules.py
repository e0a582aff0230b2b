"""Booking rules that need no database: checked before anything is locked.

Each failure names the field, so the API can say exactly what to fix. Every
path that creates or changes an appointment runs these through
`scheduler.booking_checks.load_and_check`, never on its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from core.problems import InvalidInput
from scheduler.availability import WorkingHours, working_intervals
from scheduler.models import APPOINTMENT_KINDS, APPOINTMENT_MODES
from scheduler.policy import OVERRIDE_REASONS, BookingPolicy

MAX_DURATION = timedelta(hours=8)
ROOM_MODES = ("in_person",)
MAX_VIDEO_URL = 500


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
    # Coordinator overrides carry a reason code (scheduler.policy.OVERRIDE_REASONS), stored and audited.
    waiting_area_reason: str | None = None
    outside_hours: str | None = None
    # A coordinator's reason to book over the mediators' imported busy time (their own calendars).
    busy_time: str | None = None
    # A video appointment's joining link; without one, the mediator's standing link serves.
    video_url: str | None = None


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
    for name, reason in (("waiting_area_reason", req.waiting_area_reason), ("outside_hours", req.outside_hours),
                         ("busy_time", req.busy_time)):
        if reason is not None and reason not in OVERRIDE_REASONS:
            raise InvalidInput(name, f"must be one of {', '.join(OVERRIDE_REASONS)}")
    if req.waiting_area_override and req.waiting_area_reason is None:
        raise InvalidInput("waiting_area_reason", "an override of the separate waiting area needs a reason")
    if req.video_url is not None:
        if req.mode != "video":
            raise InvalidInput("video_url", "only a video appointment has a joining link")
        check_video_url(req.video_url)


def check_video_url(url: str) -> None:
    """An https link to a host, one line, at most 500 characters: what a participant's message may carry."""
    try:
        host = urlsplit(url).hostname if url.startswith("https://") and len(url) <= MAX_VIDEO_URL else None
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        host = None
    if not host or any(c.isspace() or ord(c) < 32 or 0x7f <= ord(c) <= 0x9f for c in url):
        raise InvalidInput("video_url", f"must be an https:// link of at most {MAX_VIDEO_URL} characters")


HARMED = frozenset({"victim", "next_of_kin"})
CAUSED = frozenset({"suspect", "offender", "causer"})


def is_joint(roles_by_side: Iterable[str]) -> bool:
    """Both parties present: someone harmed and someone who caused it."""
    roles = set(roles_by_side)
    return bool(roles & HARMED) and bool(roles & CAUSED)


def office_time_problem(start: datetime, end: datetime, mediators: Sequence[tuple[str, Sequence[WorkingHours]]],
                        policy: BookingPolicy, now: datetime) -> str | None:
    """Why [start, end) is not a time the office books, or None: the rule the slot search applies.

    Inside the minimum notice, on a day the office is closed (weekend, public
    holiday, closure day), or not within each mediator's working hours of that
    local day (a buffer may run past them, as in the search).
    """
    if start < now + policy.min_notice:
        minutes = int(policy.min_notice.total_seconds() // 60)
        return f"lies inside the minimum notice of {minutes} minutes"
    day = start.astimezone(policy.tz).date()
    if not policy.is_working_day(day):
        return f"the office is closed on {day.isoformat()}"
    for name, hours in mediators:
        if not any(iv.start <= start and end <= iv.end for iv in working_intervals(day, hours, policy.tz)):
            return f"lies outside the working hours of {name}"
    return None


def check_arrivals(start: datetime, end: datetime, roles: Mapping[int, str], arrivals: Mapping[int, datetime],
                   gap: timedelta, in_person: bool) -> None:
    """Each arrival lies within the appointment; at an in-person joint meeting the two sides arrive
    at least `gap` apart (someone without an arrival time arrives at the start), so they never meet
    at the door or in the waiting area."""
    for participant_id, arrival in arrivals.items():
        if participant_id not in roles:
            raise InvalidInput("arrivals", f"participant {participant_id} is not in participant_ids")
        if not start <= arrival < end:
            raise InvalidInput("arrivals", "each arrival must lie within the appointment")
    if not in_person or not is_joint(roles.values()):
        return
    harmed = [arrivals.get(pid, start) for pid, role in roles.items() if role in HARMED]
    caused = [arrivals.get(pid, start) for pid, role in roles.items() if role in CAUSED]
    if any(abs(h - c) < gap for h in harmed for c in caused):
        minutes = int(gap.total_seconds() // 60)
        raise InvalidInput("arrivals", f"the parties of a joint meeting arrive at least {minutes} minutes apart")


def shifted_arrivals(arrivals: Mapping[int, datetime], old_start: datetime, new_start: datetime,
                     new_end: datetime) -> dict[int, datetime]:
    """A move takes every arrival along; one that would fall outside the new time is refused, not clamped."""
    delta = new_start - old_start
    moved = {pid: arrival + delta for pid, arrival in arrivals.items()}
    if any(not new_start <= a < new_end for a in moved.values()):
        raise InvalidInput("arrivals", "the arrivals no longer fit in the new time; give new arrivals")
    return moved


def staggered_departures(start: datetime, end: datetime, roles: Mapping[int, str], arrivals: Mapping[int, datetime],
                         gap: timedelta, in_person: bool) -> dict[int, datetime]:
    """Each participant's departure from an in-person joint meeting: the party who arrived first leaves first.

    The side (harmed or caused, see `is_joint`) whose earliest arrival comes first leaves `gap` before
    the end; the other side, and anyone of neither side (role "other"), leaves at the end. The choice
    mirrors the arrivals: the party who walked in alone first walks out first, the other has the same
    few minutes alone with the mediators at the end, so the two never meet at the door, and when the
    departure gap equals the arrival gap both spend equally long in the room. A gap of 0 sends
    everyone out at the end (DEPARTURE_GAP_MINUTES=0 turns the stagger off).

    Any other appointment (one side only, or not in person: nothing to keep apart at a door) gets no
    departures ({}): everyone leaves at the end. As in `check_arrivals`, someone without an arrival time
    arrives at the start. Refused (field "arrivals"): the first party would leave before everyone of
    both parties has arrived, which would be no joint meeting at all.
    """
    if not in_person or not is_joint(roles.values()):
        return {}
    first_in = {side: min(arrivals.get(pid, start) for pid, role in roles.items() if role in members)
                for side, members in (("harmed", HARMED), ("caused", CAUSED))}
    leaving_early = (HARMED if first_in["harmed"] < first_in["caused"]
                     else CAUSED if first_in["caused"] < first_in["harmed"] else frozenset())
    early = end - gap
    if leaving_early and gap > timedelta(0):
        last_in = max(arrivals.get(pid, start) for pid, role in roles.items() if role in HARMED | CAUSED)
        if early <= last_in:
            minutes = int(gap.total_seconds() // 60)
            raise InvalidInput("arrivals", f"the party who arrives first leaves {minutes} minutes before the end; "
                                           "both parties must have arrived before then")
    return {pid: early if role in leaving_early else end for pid, role in roles.items()}
