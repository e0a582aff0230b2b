"""Availability search, the imperative shell: load only the rows needed, then ask the pure core.

Two narrow queries (live reservations, imported busy blocks) on the chosen
resources and window, using the (resource, starts_at) indexes; everything
else is computed in `scheduler.availability`.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, union_all
from sqlalchemy.orm import Session

from core.models import User
from core.problems import InvalidInput
from scheduler.access import own_mediator_id
from scheduler.availability import (Interval, MediatorCalendar, RoomCalendar, Slot, SlotQuery, WorkingHours,
                                    find_slots)
from scheduler.models import BusyBlock, Location, Mediator, Reservation, Room


def working_hours_of(mediator: Mediator) -> tuple[WorkingHours, ...]:
    return tuple(WorkingHours(int(h["weekday"]), time.fromisoformat(str(h["start"])),  # type: ignore[call-overload]
                              time.fromisoformat(str(h["end"])))
                 for h in mediator.working_hours or ())


def busy_rows(session: Session, mediator_ids: list[int], room_ids: list[int], start: datetime, end: datetime,
              now: datetime) -> list[tuple[int | None, int | None, datetime, datetime]]:
    """(mediator_id, room_id, start, end) of everything that blocks these resources in the window."""
    def owners(table: type[Reservation] | type[BusyBlock]):  # type: ignore[no-untyped-def]
        return or_(table.mediator_id.in_(mediator_ids), table.room_id.in_(room_ids))

    reservations = select(Reservation.mediator_id, Reservation.room_id, Reservation.starts_at, Reservation.ends_at) \
        .where(owners(Reservation), Reservation.live, Reservation.starts_at < end, Reservation.ends_at > start,
               or_(Reservation.expires_at.is_(None), Reservation.expires_at > now))
    imported = select(BusyBlock.mediator_id, BusyBlock.room_id, BusyBlock.starts_at, BusyBlock.ends_at) \
        .where(owners(BusyBlock), BusyBlock.starts_at < end, BusyBlock.ends_at > start)
    return [tuple(row) for row in session.execute(union_all(reservations, imported))]  # type: ignore[misc]


def _rooms(session: Session, room_id: int | None, location_id: int | None) -> list[Room] | None:
    if room_id is not None:
        room = session.get(Room, room_id)
        if room is None or not room.active:
            raise InvalidInput("room_id", f"no active room with id {room_id}")
        if location_id is not None and room.location_id != location_id:
            raise InvalidInput("room_id", f"room {room_id} is not at location {location_id}")
        return [room]
    if location_id is not None:
        if session.get(Location, location_id) is None:
            raise InvalidInput("location_id", f"no location with id {location_id}")
        return list(session.scalars(select(Room).where(Room.location_id == location_id, Room.active)
                                    .order_by(Room.id)))
    return None


def _mediators(session: Session, actor: User | None, mediator_ids: list[int]) -> list[Mediator]:
    if not 1 <= len(mediator_ids) <= 2 or len(set(mediator_ids)) != len(mediator_ids):
        raise InvalidInput("mediator_ids", "one or two different mediators")
    mediators = list(session.scalars(select(Mediator).where(Mediator.id.in_(mediator_ids)).order_by(Mediator.id)))
    for missing in sorted(set(mediator_ids) - {m.id for m in mediators}):
        raise InvalidInput("mediator_ids", f"no mediator with id {missing}")
    if any(not m.active for m in mediators):
        raise InvalidInput("mediator_ids", "a mediator is not active")
    if actor is not None and not actor.sees_all_cases and own_mediator_id(session, actor) not in mediator_ids:
        raise InvalidInput("mediator_ids", "a mediator searches with themselves among the mediators")
    return mediators


def find_available_slots(session: Session, actor: User | None, *, mediator_ids: list[int], room_id: int | None,
                         location_id: int | None, duration: timedelta, start: datetime, end: datetime,
                         now: datetime, workdays: object, tz: ZoneInfo, grid: timedelta,
                         min_notice: timedelta, limit: int | None = 50) -> list[Slot]:
    """Free slots for one or two mediators plus a room, any room at a location, or no room.

    Unknown ids are field errors (InvalidInput naming mediator_ids, room_id or location_id).
    """
    if end <= start:
        raise InvalidInput("to", "must be after from")
    mediators = _mediators(session, actor, mediator_ids)
    rooms = _rooms(session, room_id, location_id)
    room_ids = [r.id for r in rooms or ()]
    rows = busy_rows(session, mediator_ids, room_ids, start, end + timedelta(days=1), now)
    busy: dict[tuple[str, int], list[Interval]] = {}
    for m_id, r_id, s, e in rows:
        key = ("mediator", m_id) if m_id is not None else ("room", r_id)
        busy.setdefault(key, []).append(Interval(s, e))  # type: ignore[arg-type]
    calendars = [MediatorCalendar(m.id, working_hours_of(m), timedelta(minutes=m.buffer_minutes),
                                  tuple(busy.get(("mediator", m.id), ()))) for m in mediators]
    room_calendars = None if rooms is None else [RoomCalendar(r.id, tuple(busy.get(("room", r.id), ())))
                                                 for r in rooms]
    query = SlotQuery(window_start=start, window_end=end, duration=duration, earliest_start=now + min_notice,
                      grid=grid, limit=limit)
    is_working_day: Callable[[date], bool] = workdays.is_working_day  # type: ignore[attr-defined]
    return find_slots(query, calendars, room_calendars, is_working_day, tz)
