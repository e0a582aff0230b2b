"""Shared set-up for the booking tests: one case, two mediators, a location with rooms."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from core.db import Database
from core.workdays import WorkingDayCalendar
from scheduler.policy import BookingPolicy
from scheduler.rules import BookingRequest
from tests import factories as f
from tests.support.days import local, working_day

TZ = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)          # Monday 09:00 in Amsterdam
TUESDAY_10 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)    # Tuesday 10:00 in Amsterdam
WORKDAYS = WorkingDayCalendar()
# The office's rules as the default settings make them (tests that go through HTTP get them from the app).
POLICY = BookingPolicy(is_working_day=WORKDAYS.is_working_day, tz=TZ, min_notice=timedelta(minutes=60),
                       arrival_gap=timedelta(minutes=15))


def future_start() -> datetime:
    """10:00 local on a working Tuesday to Thursday two to three weeks ahead, so both default reminders
    (2 days, 2 hours) fit and fall on working hours, whatever day the suite runs."""
    day = working_day(14)
    while day.weekday() not in (1, 2, 3):
        day = working_day((day - datetime.now(timezone.utc).astimezone(TZ).date()).days + 1)
    return local(day, 10).astimezone(timezone.utc)


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
