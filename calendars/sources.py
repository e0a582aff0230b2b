"""Calendar sources: add, change, upload, deactivate, delete, and who sees which.

Plain values in (validated by the API models, or given by a script), rows
out; no Flask. The caller's transaction decides when anything is committed,
so an upload that does not parse leaves no source and no block behind.

Secrets: the URL (its path usually carries a private token) and the CalDAV
password are sealed with `core.secretbox`; only `url_hint` ("https://host/…")
is kept in clear, for staff to recognise the calendar. Audit entries carry
ids and field names only.

Sight: the office (admin, coordinator) manages every source; a mediator only
their own (Mediator.user_id), and anything else is 404 as if it did not exist.

What an edit does to the imported copy: anything that changes what the
blocks would be (address, login, the all-day rule, re-activation) forgets the
validators and the content hash and makes the source due at once, so the
next sync re-reads and re-parses it. The old blocks stay until then (a new
address that fails must not leave the owner looking free). Deactivating
removes the blocks at once: an inactive calendar does not count.
"""
from __future__ import annotations

import socket
from datetime import datetime
from typing import Any, Mapping
from urllib.parse import urlsplit

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from calendars.errors import SourceError
from calendars.fetch import HostNotFound, Lookup, parse_url, resolve
from calendars.ics_import import FeedError
from calendars.models import CalendarSource
from calendars.sync import MB, parse_for, store_result
from core import audit
from core.config import Settings
from core.models import User
from core.problems import Forbidden, InvalidInput, NotFound
from core.secretbox import seal
from scheduler.access import own_mediator_id
from scheduler.busy import remove_source_blocks
from scheduler.models import Mediator, Room

KIND_FIELDS = {"ics_url": ("url",), "caldav": ("url", "username", "password"), "upload": ("content",)}
SECRET_FIELDS = ("url", "username", "password", "content")
PATCH_FIELDS = ("label", "url", "username", "password", "all_day_busy", "active")


def validate_url(raw: str, kind: str, allow_private: bool, lookup: Lookup = socket.getaddrinfo) -> str:
    """The URL as it will be fetched, or 422 on `url`.

    The host goes through the fetch's own rule (calendars.fetch.resolve) now, so
    a private address in any spelling, or a name that resolves to one, is
    refused when the source is added or changed, not only at the first sync. A
    name that does not resolve at the moment is let through: every fetch
    resolves and checks it again, and says "host name not found" until it does.
    """
    url = raw.strip()
    try:
        target = parse_url(url)
    except SourceError as exc:
        raise InvalidInput("url", str(exc)) from None
    if kind == "caldav" and urlsplit(url).scheme.lower() not in ("http", "https"):
        raise InvalidInput("url", "a CalDAV address starts with http:// or https://")
    if allow_private:
        return url
    try:
        resolve(target.host, target.port, allow_private=False, lookup=lookup)
    except HostNotFound:
        pass
    except SourceError as exc:
        raise InvalidInput("url", str(exc)) from None
    return url


def url_hint(url: str) -> str:
    """scheme://host/… — enough to recognise a calendar, nothing of its path, token or login."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}/…"[:120]


def visible_sources(session: Session, user: User) -> Select[tuple[CalendarSource]]:
    query = select(CalendarSource).order_by(CalendarSource.id)
    if user.sees_all_cases:
        return query
    own = own_mediator_id(session, user)
    return query.where(CalendarSource.mediator_id == own if own is not None else false())


def source_for(session: Session, user: User | None, source_id: int, *, lock: bool = False) -> CalendarSource:
    stmt = (visible_sources(session, user) if user is not None else select(CalendarSource)) \
        .where(CalendarSource.id == source_id)
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        raise NotFound(f"calendar source {source_id} not found")
    return row


def _check_owner(session: Session, actor: User | None, mediator_id: int | None, room_id: int | None) -> None:
    if actor is not None and not actor.sees_all_cases and (
            mediator_id is None or mediator_id != own_mediator_id(session, actor)):
        raise Forbidden("a mediator adds calendar sources for themselves only",
                        errors=[{"field": "owner", "message": "must be your own mediator id"}])
    if mediator_id is not None and session.get(Mediator, mediator_id) is None:
        raise InvalidInput("owner.mediator_id", f"no mediator with id {mediator_id}")
    if room_id is not None and session.get(Room, room_id) is None:
        raise InvalidInput("owner.room_id", f"no room with id {room_id}")


def _check_kind_fields(kind: str, values: Mapping[str, Any]) -> None:
    for name in SECRET_FIELDS:
        if values.get(name) is not None and name not in KIND_FIELDS[kind]:
            raise InvalidInput(name, f"is not used by a source of kind {kind}")


def _upload_bytes(content: str | bytes, settings: Settings) -> bytes:
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    if len(data) > settings.calendar_max_mb * MB:
        raise InvalidInput("content", f"the file is larger than {settings.calendar_max_mb} MB")
    if not data.strip():
        raise InvalidInput("content", "the file is empty")
    return data


def _store_upload(session: Session, row: CalendarSource, data: bytes, now: datetime, settings: Settings) -> None:
    """Parse first (a bad file is a 422 on `content`), then keep the bytes and, if active, the blocks."""
    try:
        result = parse_for(row, data, now, settings)
    except FeedError as exc:
        raise InvalidInput("content", f"not a usable iCalendar file: {exc}") from None
    row.upload_data = data
    if row.active:
        store_result(session, row, data, result, now, settings)


def _forget_copy(row: CalendarSource) -> None:
    """The next sync must re-read and re-parse: drop validators and hash, make the source due now."""
    row.etag = row.last_modified = row.content_hash = None
    row.last_attempt_at = None


def create_source(session: Session, actor: User | None, values: Mapping[str, Any], now: datetime,
                  settings: Settings) -> CalendarSource:
    owner = values.get("owner") or {}
    mediator_id, room_id = owner.get("mediator_id"), owner.get("room_id")
    if (mediator_id is None) == (room_id is None):
        raise InvalidInput("owner", "give exactly one of mediator_id and room_id")
    _check_owner(session, actor, mediator_id, room_id)
    kind = values["kind"]
    _check_kind_fields(kind, values)
    row = CalendarSource(mediator_id=mediator_id, room_id=room_id, kind=kind, label=values.get("label") or "",
                         all_day_busy=values.get("all_day_busy", True), active=values.get("active", True),
                         status="never_synced", busy_count=0, skipped_events=0)
    if kind == "upload":
        if values.get("content") is None:
            raise InvalidInput("content", "an upload source needs the file's text")
        data = _upload_bytes(values["content"], settings)
    else:
        if not values.get("url"):
            raise InvalidInput("url", f"a source of kind {kind} needs an address")
        url = validate_url(values["url"], kind, settings.calendar_allow_private_addresses)
        row.url_sealed, row.url_hint = seal(settings.secret_key, url), url_hint(url)
        row.username = values.get("username") or None
        if values.get("password"):
            row.password_sealed = seal(settings.secret_key, values["password"])
    session.add(row)
    session.flush()
    if kind == "upload":
        _store_upload(session, row, data, now, settings)
    audit.record(session, actor.id if actor else None, "calendar_source.created", "calendar_source", row.id, kind)
    return row


def update_source(session: Session, actor: User | None, source_id: int, changes: Mapping[str, Any],
                  now: datetime, settings: Settings) -> CalendarSource:
    """Only the fields given change; `password: null` removes the password."""
    unknown = sorted(set(changes) - set(PATCH_FIELDS))
    if unknown:
        raise InvalidInput(unknown[0], "is not a field that can be changed")
    row = source_for(session, actor, source_id, lock=True)
    _check_kind_fields(row.kind, {k: v for k, v in changes.items() if k in SECRET_FIELDS and v is not None})
    refetch = False
    if "label" in changes:
        row.label = changes["label"] or ""
    if changes.get("url") is not None:
        url = validate_url(changes["url"], row.kind, settings.calendar_allow_private_addresses)
        row.url_sealed, row.url_hint, refetch = seal(settings.secret_key, url), url_hint(url), True
    if "username" in changes and row.kind == "caldav":
        row.username, refetch = changes["username"] or None, True
    if "password" in changes and row.kind == "caldav":
        row.password_sealed = seal(settings.secret_key, changes["password"]) if changes["password"] else None
        refetch = True
    if "all_day_busy" in changes and changes["all_day_busy"] != row.all_day_busy:
        row.all_day_busy, refetch = changes["all_day_busy"], True
    if "active" in changes and changes["active"] != row.active:
        row.active = changes["active"]
        if row.active:
            refetch = True
        else:
            remove_source_blocks(session, row.id)
            _forget_copy(row)
            row.status, row.last_synced_at, row.last_error = "never_synced", None, None
            row.busy_count = row.skipped_events = 0
    if refetch and row.active:
        _forget_copy(row)
        if row.kind == "upload" and row.upload_data is not None:
            _store_upload(session, row, row.upload_data, now, settings)
    session.flush()
    audit.record(session, actor.id if actor else None, "calendar_source.updated", "calendar_source", row.id,
                 ",".join(sorted(changes)))
    return row


def replace_upload(session: Session, actor: User | None, source_id: int, content: str | bytes, now: datetime,
                   settings: Settings) -> CalendarSource:
    """A new file for an upload source: all or nothing, like every sync."""
    row = source_for(session, actor, source_id, lock=True)
    if row.kind != "upload":
        raise InvalidInput("content", f"a source of kind {row.kind} takes no file")
    data = _upload_bytes(content, settings)
    _forget_copy(row)
    _store_upload(session, row, data, now, settings)
    session.flush()
    audit.record(session, actor.id if actor else None, "calendar_source.uploaded", "calendar_source", row.id)
    return row


def delete_source(session: Session, actor: User | None, source_id: int) -> None:
    """The source and its busy blocks go together, in the caller's transaction."""
    row = source_for(session, actor, source_id, lock=True)
    remove_source_blocks(session, row.id)
    session.delete(row)
    audit.record(session, actor.id if actor else None, "calendar_source.deleted", "calendar_source", source_id)
