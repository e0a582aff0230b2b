"""Mediators, locations and rooms: create and change them.

Plain values in (already validated and normalised by the API models, or by a
script), rows out; no Flask here. Each change leaves an audit entry with ids
only. References to other rows are checked here so the error names the
field, and the caller's transaction decides when it is committed.
"""
from __future__ import annotations

from typing import Any, Mapping, TypeVar

from sqlalchemy.orm import Session

from core import audit
from core.models import User
from core.problems import InvalidInput, NotFound
from scheduler.models import Location, Mediator, Room

R = TypeVar("R", Mediator, Location, Room)

MEDIATOR_FIELDS = ("name", "email", "phone", "working_hours", "buffer_minutes", "active")
LOCATION_FIELDS = ("name", "address", "city")
ROOM_FIELDS = ("location_id", "name", "capacity", "separate_waiting_area", "accessible", "active")


def _actor_id(actor: User | None) -> int | None:
    return actor.id if actor is not None else None


def _only(values: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """Refuse names the table does not have: a typo must not vanish silently."""
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise InvalidInput(unknown[0], "is not a field of this resource")
    return dict(values)


def _get(session: Session, model: type[R], row_id: int, what: str) -> R:
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(f"{what} {row_id} not found")
    return row


def _apply(row: object, changes: Mapping[str, Any]) -> None:
    for name, value in changes.items():
        setattr(row, name, value)


def _check_location(session: Session, location_id: int) -> None:
    if session.get(Location, location_id) is None:
        raise InvalidInput("location_id", f"no location with id {location_id}")


def create_mediator(session: Session, actor: User | None, values: Mapping[str, Any]) -> Mediator:
    row = Mediator(**_only(values, MEDIATOR_FIELDS))
    session.add(row)
    session.flush()
    audit.record(session, _actor_id(actor), "mediator.created", "mediator", row.id)
    return row


def update_mediator(session: Session, actor: User | None, mediator_id: int, changes: Mapping[str, Any]) -> Mediator:
    """Change a mediator; booked appointments keep the buffer they were booked with."""
    row = _get(session, Mediator, mediator_id, "mediator")
    _apply(row, _only(changes, MEDIATOR_FIELDS))
    session.flush()
    audit.record(session, _actor_id(actor), "mediator.updated", "mediator", row.id, ",".join(sorted(changes)))
    return row


def create_location(session: Session, actor: User | None, values: Mapping[str, Any]) -> Location:
    row = Location(**_only(values, LOCATION_FIELDS))
    session.add(row)
    session.flush()
    audit.record(session, _actor_id(actor), "location.created", "location", row.id)
    return row


def update_location(session: Session, actor: User | None, location_id: int, changes: Mapping[str, Any]) -> Location:
    row = _get(session, Location, location_id, "location")
    _apply(row, _only(changes, LOCATION_FIELDS))
    session.flush()
    audit.record(session, _actor_id(actor), "location.updated", "location", row.id, ",".join(sorted(changes)))
    return row


def create_room(session: Session, actor: User | None, values: Mapping[str, Any]) -> Room:
    values = _only(values, ROOM_FIELDS)
    _check_location(session, values["location_id"])
    row = Room(**values)
    session.add(row)
    session.flush()
    audit.record(session, _actor_id(actor), "room.created", "room", row.id)
    return row


def update_room(session: Session, actor: User | None, room_id: int, changes: Mapping[str, Any]) -> Room:
    row = _get(session, Room, room_id, "room")
    changes = _only(changes, ROOM_FIELDS)
    if "location_id" in changes:
        _check_location(session, changes["location_id"])
    _apply(row, changes)
    session.flush()
    audit.record(session, _actor_id(actor), "room.updated", "room", row.id, ",".join(sorted(changes)))
    return row
