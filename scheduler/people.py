"""Mediators, locations and rooms, regions and staff accounts: create and change them.

Plain values in (already validated and normalised by the API models, the
desk's forms, or a script), rows out; no Flask here. Each change leaves an
audit entry with ids only. References to other rows are checked here so the
error names the field, and the caller's transaction decides when it is
committed. What a form cannot judge alone is checked here for every caller:
a mediator's working hours (no overlapping stretches), language (nl/en) and
standing video link (https only); a region's name is unique; the office
keeps at least one active admin.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping, TypeVar
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.auth import create_user
from core.models import ROLES, User
from core.problems import Conflict, Forbidden, InvalidInput, NotFound
from scheduler.casework import _region  # a region by id, or InvalidInput naming region_id (as for cases)
from scheduler.models import LANGUAGES, Location, Mediator, Region, Room

R = TypeVar("R", Mediator, Location, Room)

MEDIATOR_FIELDS = ("name", "email", "phone", "working_hours", "buffer_minutes", "active", "language", "video_url",
                   "region_id")
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


def check_working_hours(hours: Any) -> list[dict[str, Any]]:
    """The stretches as stored ({"weekday", "start", "end"}), or InvalidInput on `working_hours`.

    The rule is the API's (scheduler.schemas.HoursList: HH:MM times, end after
    start, stretches of one weekday may touch but not overlap), applied here so
    every caller keeps it. The error's entry carries `weekday` (0 = Monday)
    when it concerns one day, and `code`: "overlap", "time_order" or "format".
    """
    try:
        parsed = _hours_adapter().validate_python(hours)
    except ValidationError as exc:
        first = exc.errors()[0]
        code = first["type"] if first["type"] in ("overlap", "time_order") else "format"
        weekday = first.get("ctx", {}).get("day") if code == "overlap" else _weekday_at(hours, first["loc"])
        problem = InvalidInput("working_hours", first["msg"])
        problem.errors[0]["code"] = code
        if weekday is not None:
            problem.errors[0]["weekday"] = str(weekday)
        raise problem from None
    return [{"weekday": h.weekday, "start": h.start, "end": h.end} for h in parsed]


def _weekday_at(hours: Any, loc: tuple[Any, ...]) -> int | None:
    try:
        weekday = hours[loc[0]]["weekday"]
    except (IndexError, KeyError, TypeError):
        return None
    return weekday if isinstance(weekday, int) else None


@lru_cache(maxsize=1)
def _hours_adapter() -> TypeAdapter[Any]:
    from scheduler.schemas import HoursList  # the API's model of the rule (schemas imports this module's models)

    return TypeAdapter(HoursList)


VIDEO_URL_MAX = 500


def check_video_url(url: str | None) -> str | None:
    """A standing or per-appointment video link: https, a host, no spaces; None or "" for none."""
    if url is None or not url.strip():
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        raise InvalidInput("video_url", "must be an https:// link")
    if len(url) > VIDEO_URL_MAX or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise InvalidInput("video_url", f"must be one link of at most {VIDEO_URL_MAX} characters")
    return url


def _mediator_values(session: Session, values: dict[str, Any]) -> tuple[dict[str, Any], Region | None, bool]:
    """Checked values for the row's own columns, the region, and whether the region was sent."""
    if "working_hours" in values:
        values["working_hours"] = check_working_hours(values["working_hours"])
    if "language" in values and values["language"] not in LANGUAGES:
        raise InvalidInput("language", f"must be one of {', '.join(LANGUAGES)}")
    if "video_url" in values:
        values["video_url"] = check_video_url(values["video_url"])
    region_sent = "region_id" in values
    region = _region(session, values.pop("region_id", None))
    return values, region, region_sent


def create_mediator(session: Session, actor: User | None, values: Mapping[str, Any]) -> Mediator:
    columns, region, _ = _mediator_values(session, _only(values, MEDIATOR_FIELDS))
    row = Mediator(**columns)
    row.region = region
    session.add(row)
    session.flush()
    audit.record(session, _actor_id(actor), "mediator.created", "mediator", row.id)
    return row


def update_mediator(session: Session, actor: User | None, mediator_id: int, changes: Mapping[str, Any]) -> Mediator:
    """Change a mediator; booked appointments keep the buffer they were booked with."""
    row = _get(session, Mediator, mediator_id, "mediator")
    columns, region, region_sent = _mediator_values(session, _only(changes, MEDIATOR_FIELDS))
    _apply(row, columns)
    if region_sent:
        row.region = region
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


# --- regions --------------------------------------------------------------------------------

REGION_NAME_MAX = 100


def _region_name(session: Session, name: str, region_id: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("name", "is required")
    if len(name) > REGION_NAME_MAX:
        raise InvalidInput("name", f"is longer than {REGION_NAME_MAX} characters")
    other = session.scalar(select(Region.id).where(func.lower(Region.name) == name.lower()))
    if other is not None and other != region_id:
        raise Conflict(f"a region named {name} exists", errors=[{"field": "name", "message": "is already in use"}])
    return name


def create_region(session: Session, actor: User | None, name: str) -> Region:
    row = Region(name=_region_name(session, name))
    session.add(row)
    session.flush()
    audit.record(session, _actor_id(actor), "region.created", "region", row.id)
    return row


def rename_region(session: Session, actor: User | None, region_id: int, name: str) -> Region:
    row = session.get(Region, region_id)
    if row is None:
        raise NotFound(f"region {region_id} not found")
    row.name = _region_name(session, name, region_id)
    session.flush()
    audit.record(session, _actor_id(actor), "region.renamed", "region", row.id)
    return row


# --- staff accounts -------------------------------------------------------------------------
# Only an admin manages accounts and roles: a coordinator cannot make anyone (themselves included) an admin.

def _admin_only(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden("only an admin manages staff accounts")


def _active_admins(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)
                          .where(User.role == "admin", User.active.is_(True))) or 0


def create_account(session: Session, actor: User, email: str, name: str, role: str, password: str,
                   language: str = "nl") -> User:
    """A staff account (core.auth.create_user: role, password of at least 10 characters, unique email)."""
    _admin_only(actor)
    if not (name or "").strip():
        raise InvalidInput("name", "is required")
    if language not in LANGUAGES:
        raise InvalidInput("language", f"must be one of {', '.join(LANGUAGES)}")
    try:
        user = create_user(session, email, name.strip(), role, password)
    except ValueError as exc:
        text = str(exc)
        field = "role" if text.startswith("role") else "password" if text.startswith("password") else "email"
        if "already exists" in text:
            raise Conflict(text, errors=[{"field": "email", "message": "is already in use"}]) from None
        raise InvalidInput(field, text) from None
    user.language = language
    session.flush()
    audit.record(session, actor.id, "user.created", "user", user.id, f"role={role}")
    return user


def _account(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def change_role(session: Session, actor: User, user_id: int, role: str) -> User:
    _admin_only(actor)
    if role not in ROLES:
        raise InvalidInput("role", f"must be one of {', '.join(ROLES)}")
    user = _account(session, user_id)
    if user.role == role:
        return user
    if user.role == "admin" and user.active and _active_admins(session) <= 1:
        raise Conflict("the office needs an active admin",
                       errors=[{"field": "role", "message": "is the last active admin"}])
    user.role = role
    session.flush()
    audit.record(session, actor.id, "user.role_changed", "user", user.id, f"role={role}")
    return user


def set_account_active(session: Session, actor: User, user_id: int, active: bool) -> User:
    """Deactivate (they cannot sign in, their sessions and tokens open nothing) or reactivate an account."""
    _admin_only(actor)
    user = _account(session, user_id)
    if user.active == active:
        return user
    if not active:
        if user.id == actor.id:
            raise Conflict("you cannot deactivate your own account",
                           errors=[{"field": "active", "message": "is your own account"}])
        if user.role == "admin" and _active_admins(session) <= 1:
            raise Conflict("the office needs an active admin",
                           errors=[{"field": "active", "message": "is the last active admin"}])
        user.on_duty = False  # the phone line must not ring someone who left
    user.active = active
    session.flush()
    audit.record(session, actor.id, "user.activated" if active else "user.deactivated", "user", user.id)
    return user


def link_account(session: Session, actor: User, user_id: int, mediator_id: int | None) -> User:
    """The mediator record this account signs in as (None: none). One account per mediator and vice versa."""
    _admin_only(actor)
    user = _account(session, user_id)
    current = session.scalar(select(Mediator).where(Mediator.user_id == user.id))
    if mediator_id is not None:
        mediator = session.get(Mediator, mediator_id)
        if mediator is None:
            raise InvalidInput("mediator_id", f"no mediator with id {mediator_id}")
        if mediator.user_id is not None and mediator.user_id != user.id:
            raise Conflict(f"mediator {mediator_id} has another account",
                           errors=[{"field": "mediator_id", "message": "is linked to another account"}])
    if current is not None and current.id != mediator_id:
        current.user_id = None
        session.flush()  # the unique user_id must be free before another mediator takes it
    if mediator_id is not None:
        mediator.user_id = user.id
    session.flush()
    audit.record(session, actor.id, "user.linked", "user", user.id,
                 f"mediator={mediator_id}" if mediator_id is not None else "mediator=none")
    return user
