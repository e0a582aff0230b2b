"""What a reschedule asks for, and what it changed.

A reschedule may move the time and, in the same transaction, change the
mode, the room, the mediators, the participants and the arrivals. The change
is turned into the appointment as it would be afterwards (a BookingRequest),
so that it passes exactly the checks a new booking passes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from scheduler import events
from scheduler.models import Appointment
from scheduler.rules import BookingRequest, shifted_arrivals


class _Keep:
    """Marks a field the reschedule leaves as it is (None is a value: "no room")."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


@dataclass(frozen=True)
class AppointmentChange:
    start: datetime
    end: datetime
    mode: str | _Keep = KEEP
    room_id: int | None | _Keep = KEEP
    mediator_ids: tuple[int, ...] | _Keep = KEEP
    participant_ids: tuple[int, ...] | _Keep = KEEP
    arrivals: dict[int, datetime] | _Keep = KEEP
    waiting_area_override: bool | _Keep = KEEP
    waiting_area_reason: str | None | _Keep = KEEP
    outside_hours: str | None = None
    busy_time: str | None = None
    video_url: str | None | _Keep = KEEP

    def applied_to(self, appointment: Appointment) -> BookingRequest:
        """The appointment as it would be after this change.

        Arrivals not given move with the appointment (refused if one would fall outside it). An
        override of the waiting area stays while the room and the parties stay; an outside-hours or
        busy-time override never carries over: a new time needs its own reason. The joining link stays
        while the appointment stays a video one.
        """
        def pick(value, current):  # type: ignore[no-untyped-def]
            return current if value is KEEP else value

        participant_ids = tuple(pick(self.participant_ids, tuple(a.participant_id for a in appointment.attendances)))
        if isinstance(self.arrivals, _Keep):
            current = {a.participant_id: a.arrival for a in appointment.attendances
                       if a.arrival is not None and a.participant_id in participant_ids}
            arrivals = shifted_arrivals(current, appointment.start, self.start, self.end)
        else:
            arrivals = dict(self.arrivals)
        mode = pick(self.mode, appointment.mode)
        video_url = pick(self.video_url, appointment.video_url if mode == "video" else None)
        same_room_and_parties = (self.room_id is KEEP or self.room_id == appointment.room_id) and \
            self.participant_ids is KEEP
        keep_override = appointment.waiting_area_override and same_room_and_parties
        return BookingRequest(
            case_id=appointment.case_id, kind=appointment.kind, mode=mode,
            start=self.start, end=self.end,
            mediator_ids=tuple(pick(self.mediator_ids, tuple(m.id for m in appointment.mediators))),
            room_id=pick(self.room_id, appointment.room_id), participant_ids=participant_ids, arrivals=arrivals,
            waiting_area_override=pick(self.waiting_area_override, keep_override),
            waiting_area_reason=pick(self.waiting_area_reason,
                                     appointment.waiting_area_reason if keep_override else None),
            outside_hours=self.outside_hours, busy_time=self.busy_time, video_url=video_url)


@dataclass(frozen=True)
class Shape:
    """An appointment's shape before a change: to tell who joined, who left and what moved."""

    start: datetime
    end: datetime
    mode: str
    room_id: int | None
    mediator_ids: frozenset[int] = field(default_factory=frozenset)
    participant_ids: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def of(cls, appointment: Appointment) -> Shape:
        return cls(appointment.start, appointment.end, appointment.mode, appointment.room_id,
                   frozenset(m.id for m in appointment.mediators),
                   frozenset(a.participant_id for a in appointment.attendances))

    def changes_to(self, appointment: Appointment) -> str:
        """Audit detail: which parts changed (names of fields only, no personal data)."""
        after = Shape.of(appointment)
        parts = [name for name in ("start", "end", "mode", "room_id", "mediator_ids", "participant_ids")
                 if getattr(self, name) != getattr(after, name)]
        return ",".join(parts)

    def event(self, appointment: Appointment, actor_id: int | None) -> events.AppointmentRescheduled:
        after = Shape.of(appointment)
        return events.AppointmentRescheduled(
            appointment.id, appointment.version, self.start, self.end, actor_id,
            added_participant_ids=tuple(sorted(after.participant_ids - self.participant_ids)),
            removed_participant_ids=tuple(sorted(self.participant_ids - after.participant_ids)),
            added_mediator_ids=tuple(sorted(after.mediator_ids - self.mediator_ids)),
            removed_mediator_ids=tuple(sorted(self.mediator_ids - after.mediator_ids)))
