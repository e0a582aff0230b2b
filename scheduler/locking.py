"""The booking transaction's ground work: locks, expired holds, what is taken.

Order matters to avoid deadlocks between concurrent bookings on PostgreSQL:
mediator rows by id, then room rows by id, then reservation rows by id. On
SQLite the whole transaction already runs under BEGIN IMMEDIATE.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import and_, null, or_, select, union_all, update
from sqlalchemy.orm import Session

from scheduler.conflicts import Resource, Span
from scheduler.models import Appointment, BusyBlock, Mediator, Reservation, Room


def lock_resources(session: Session, mediator_ids: Iterable[int], room_ids: Iterable[int]) -> None:
    """Serialise bookers of these mediators and rooms (PostgreSQL), in id order.

    FOR NO KEY UPDATE, not FOR UPDATE: bookers still queue behind one another,
    but a row that merely refers to a mediator (a mediator notice written by a
    send job that holds its outbox row) does not wait for a booking, which
    could be waiting for that very outbox row: a deadlock with FOR UPDATE.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    mediators = sorted(set(mediator_ids))
    rooms = sorted(set(room_ids))
    if mediators:
        session.execute(select(Mediator.id).where(Mediator.id.in_(mediators)).order_by(Mediator.id).with_for_update(key_share=True))
    if rooms:
        session.execute(select(Room.id).where(Room.id.in_(rooms)).order_by(Room.id).with_for_update(key_share=True))


def _resource_filter(columns: type[Reservation] | type[BusyBlock], mediator_ids: list[int], room_ids: list[int],  # type: ignore[no-untyped-def]
                     participant_ids: list[int] | None = None):
    clauses = []
    if mediator_ids:
        clauses.append(columns.mediator_id.in_(mediator_ids))
    if room_ids:
        clauses.append(columns.room_id.in_(room_ids))
    if participant_ids:
        clauses.append(Reservation.participant_id.in_(participant_ids))
    return or_(*clauses) if clauses else None


def clear_expired_holds(session: Session, mediator_ids: Iterable[int], room_ids: Iterable[int],
                        now: datetime, participant_ids: Iterable[int] = ()) -> list[int]:
    """Cancel holds that have run out on these resources, inside the caller's transaction."""
    where = _resource_filter(Reservation, sorted(set(mediator_ids)), sorted(set(room_ids)),
                             sorted(set(participant_ids)))
    if where is None:
        return []
    expired = session.scalars(
        select(Reservation.appointment_id).where(Reservation.live, Reservation.expires_at.is_not(None),
                                                 Reservation.expires_at <= now, where).distinct()
    ).all()
    if not expired:
        return []
    ids = sorted(set(expired))
    rows = select(Reservation.id).where(Reservation.appointment_id.in_(ids)).order_by(Reservation.id)
    session.execute(rows.with_for_update())
    session.execute(update(Reservation).where(Reservation.appointment_id.in_(ids)).values(live=False))
    session.execute(update(Appointment).where(Appointment.id.in_(ids), Appointment.status == "held")
                    .values(status="cancelled", cancel_reason="hold_expired"))
    return ids


def taken_spans(session: Session, mediator_ids: Iterable[int], room_ids: Iterable[int],
                start: datetime, end: datetime, now: datetime,
                exclude_appointment_id: int | None = None, participant_ids: Iterable[int] = (),
                mediator_busy: bool = True, exclude_appointment_ids: Iterable[int] = ()) -> list[Span]:
    """Live reservations (of mediators, rooms, participants) and imported busy blocks (of mediators and
    rooms) touching [start, end); without the mediators' busy blocks when `mediator_busy` is False (a
    coordinator's override, scheduler.booking_checks)."""
    mediators, rooms, participants = sorted(set(mediator_ids)), sorted(set(room_ids)), sorted(set(participant_ids))
    spans: list[Span] = []
    where = _resource_filter(Reservation, mediators, rooms, participants)
    if where is None:
        return spans
    reservations = select(Reservation.mediator_id, Reservation.room_id, Reservation.participant_id,
                          Reservation.starts_at, Reservation.ends_at).where(
        where, Reservation.live, Reservation.starts_at < end, Reservation.ends_at > start,
        or_(Reservation.expires_at.is_(None), Reservation.expires_at > now))
    excluded = sorted({*exclude_appointment_ids, *([exclude_appointment_id] if exclude_appointment_id is not None else [])})
    if excluded:
        reservations = reservations.where(Reservation.appointment_id.not_in(excluded))
    busy_where = _resource_filter(BusyBlock, mediators if mediator_busy else [], rooms)
    if busy_where is not None:  # one round trip for both (every booking and offer page asks this)
        busy = select(BusyBlock.mediator_id, BusyBlock.room_id, null().label("participant_id"),
                      BusyBlock.starts_at, BusyBlock.ends_at).where(
            and_(busy_where, BusyBlock.starts_at < end, BusyBlock.ends_at > start))
        reservations = union_all(reservations, busy)  # type: ignore[assignment]
    for mediator_id, room_id, participant_id, s, e in session.execute(reservations):
        spans.append(Span(_resource(mediator_id, room_id, participant_id), s, e))
    return spans


def _resource(mediator_id: int | None, room_id: int | None, participant_id: int | None) -> Resource:
    if mediator_id is not None:
        return Resource("mediator", mediator_id)
    if room_id is not None:
        return Resource("room", room_id)
    return Resource("participant", participant_id)  # type: ignore[arg-type]
