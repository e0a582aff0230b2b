"""Availability search, the imperative shell: load only the rows needed, then ask the pure core.

Two narrow queries (live reservations, imported busy blocks) on the chosen
resources and window, using the (resource, starts_at) indexes; everything
else is computed in `scheduler.availability`.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, CompoundSelect, bindparam, cast, func, or_, select, union_all
from sqlalchemy.orm import Session

from core.db import UTCDateTime
from core.models import User
from core.problems import InvalidInput
from scheduler.access import own_mediator_id
from scheduler.availability import (MediatorCalendar, RoomCalendar, Slot, SlotQuery, WorkingHours,
                                    find_slots)
from scheduler.intervals import dt_us
from scheduler.models import BusyBlock, Location, Mediator, Reservation, Room


def working_hours_of(mediator: Mediator) -> tuple[WorkingHours, ...]:
    return tuple(WorkingHours(int(h["weekday"]), time.fromisoformat(str(h["start"])),  # type: ignore[call-overload]
                              time.fromisoformat(str(h["end"])))
                 for h in mediator.working_hours or ())


def _busy_statement(epoch_microseconds: bool) -> CompoundSelect:
    """Live reservations plus imported busy blocks of some resources in a window, built once.

    With `epoch_microseconds` (PostgreSQL) the database hands back times as
    UTC epoch microseconds, what the pure core computes with; that spares
    building thousands of datetime objects per search. date_part gives float8
    seconds (cheap, unlike extract's numeric) and is exact to the microsecond
    for the next ~285 years; the cast rounds.
    """
    def owners(table: type[Reservation] | type[BusyBlock]):  # type: ignore[no-untyped-def]
        return or_(table.mediator_id.in_(bindparam("mediator_ids", expanding=True)),
                   table.room_id.in_(bindparam("room_ids", expanding=True)))

    def span(table: type[Reservation] | type[BusyBlock]):  # type: ignore[no-untyped-def]
        if not epoch_microseconds:
            return table.starts_at, table.ends_at
        return tuple(cast(func.date_part("epoch", column) * 1_000_000, BigInteger)
                     for column in (table.starts_at, table.ends_at))

    window_start, window_end = bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())
    reservations = select(Reservation.mediator_id, Reservation.room_id, *span(Reservation)).where(
        owners(Reservation), Reservation.live, Reservation.starts_at < window_end, Reservation.ends_at > window_start,
        or_(Reservation.expires_at.is_(None), Reservation.expires_at > bindparam("now", type_=UTCDateTime())))
    imported = select(BusyBlock.mediator_id, BusyBlock.room_id, *span(BusyBlock)).where(
        owners(BusyBlock), BusyBlock.starts_at < window_end, BusyBlock.ends_at > window_start)
    return union_all(reservations, imported)


_BUSY = {True: _busy_statement(True), False: _busy_statement(False)}


def busy_rows(session: Session, mediator_ids: list[int], room_ids: list[int], start: datetime, end: datetime,
              now: datetime) -> list[tuple[int | None, int | None, int, int]]:
    """(mediator_id, room_id, start, end) of everything blocking these resources in the window,
    times as UTC epoch microseconds."""
    postgres = session.get_bind().dialect.name == "postgresql"
    rows = session.execute(_BUSY[postgres], {"mediator_ids": mediator_ids, "room_ids": room_ids,
                                             "start": start, "end": end, "now": now}).all()
    if postgres:
        return rows  # type: ignore[return-value]
    return [(m, r, dt_us(s), dt_us(e)) for m, r, s, e in rows]


# Built once: constructing statements costs as much as running these small ones.
_ROOMS_AT = select(Room).where(Room.location_id == bindparam("location_id"), Room.active).order_by(Room.id)
_MEDIATORS = select(Mediator).where(Mediator.id.in_(bindparam("ids", expanding=True))).order_by(Mediator.id)


def _rooms(session: Session, room_id: int | None, location_id: int | None) -> list[Room] | None:
    if room_id is not None:
        room = session.get(Room, room_id)
        if room is None or not room.active:
            raise InvalidInput("room_id", f"no active room with id {room_id}")
        if location_id is not None and room.location_id != location_id:
            raise InvalidInput("room_id", f"room {room_id} is not at location {location_id}")
        return [room]
    if location_id is not None:
        rooms = list(session.scalars(_ROOMS_AT, {"location_id": location_id}))
        if not rooms and session.get(Location, location_id) is None:
            raise InvalidInput("location_id", f"no location with id {location_id}")
        return rooms
    return None


def _mediators(session: Session, actor: User | None, mediator_ids: list[int]) -> list[Mediator]:
    if not 1 <= len(mediator_ids) <= 2 or len(set(mediator_ids)) != len(mediator_ids):
        raise InvalidInput("mediator_ids", "one or two different mediators")
    mediators = list(session.scalars(_MEDIATORS, {"ids": mediator_ids}))
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
    # A slot's mediator must also be free for their buffer after it, which may reach past the window.
    reach = timedelta(minutes=max(m.buffer_minutes for m in mediators))
    rows = busy_rows(session, mediator_ids, room_ids, start, end + reach, now)
    calendars, room_calendars = _calendars(rows, mediators, rooms)
    query = SlotQuery(window_start=start, window_end=end, duration=duration, earliest_start=now + min_notice,
                      grid=grid, limit=limit)
    is_working_day: Callable[[date], bool] = workdays.is_working_day  # type: ignore[attr-defined]
    return find_slots(query, calendars, room_calendars, is_working_day, tz)


def _calendars(rows: list[tuple[int | None, int | None, int, int]], mediators: list[Mediator],
               rooms: list[Room] | None) -> tuple[list[MediatorCalendar], list[RoomCalendar] | None]:
    mediator_busy: dict[int, list[tuple[int, int]]] = {m.id: [] for m in mediators}
    room_busy: dict[int, list[tuple[int, int]]] = {r.id: [] for r in rooms or ()}
    for m_id, r_id, s, e in rows:
        (mediator_busy[m_id] if m_id is not None else room_busy[r_id]).append((s, e))  # type: ignore[index]
    calendars = [MediatorCalendar(m.id, working_hours_of(m), timedelta(minutes=m.buffer_minutes), (),
                                  tuple(mediator_busy[m.id])) for m in mediators]
    room_calendars = None if rooms is None else [RoomCalendar(r.id, (), tuple(room_busy[r.id])) for r in rooms]
    return calendars, room_calendars
