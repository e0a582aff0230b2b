"""Shared set-up for the booking tests: one case, two mediators, a location with rooms."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from core.db import Database
from scheduler.rules import BookingRequest
from tests import factories as f

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)          # Monday 09:00 in Amsterdam
TUESDAY_10 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)    # Tuesday 10:00 in Amsterdam


def future_start() -> datetime:
    """A Tuesday 09:00 UTC two to three weeks ahead, so both default reminders (2 days, 2 hours) fit."""
    today = datetime.now(timezone.utc).date()
    day = today + timedelta(days=14 + (1 - today.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=timezone.utc)


@dataclass
class World:
    mediator_ids: list[int]
    room_ids: list[int]
    location_id: int
    case_id: int
    participant_ids: list[int]
    other_case_id: int
    other_participant_ids: list[int]


def build_world(db: Database, buffers: tuple[int, int] = (30, 0), waiting_area: bool = True) -> World:
    with db.write_session() as s:
        m1 = f.mediator(s, buffer_minutes=buffers[0])
        m2 = f.mediator(s, buffer_minutes=buffers[1])
        loc = f.location(s, rooms=2, waiting_area=waiting_area)
        case = f.case(s, [m1, m2])
        other = f.case(s, [m1, m2], reference="HB-OTHER-SECRET")
        return World([m1.id, m2.id], [r.id for r in loc.rooms], loc.id, case.id,
                     [p.id for p in case.participants], other.id, [p.id for p in other.participants])


def request(w: World, start: datetime = TUESDAY_10, minutes: int = 60, **kw: object) -> BookingRequest:
    values: dict[str, object] = dict(case_id=w.case_id, kind="intake", mode="in_person", start=start,
                                     end=start + timedelta(minutes=minutes), mediator_ids=(w.mediator_ids[0],),
                                     room_id=w.room_ids[0], participant_ids=(w.participant_ids[0],))
    values.update(kw)
    return BookingRequest(**values)  # type: ignore[arg-type]
