"""Sync a calendar source into busy blocks (invariant 2 in docs/architecture.md).

Shape of one sync, and why:

1. Read the source in a short read transaction and let it go: no database
   transaction or row lock is held while a slow calendar server is asked.
2. Fetch: an ICS URL by conditional GET (`calendars.fetch`), an upload from
   its stored bytes, CalDAV through `calendars.caldav_source`.
3. Unchanged (a 304, or a 200 whose content hash equals the last good one):
   nothing is parsed and no block is written; only the times and status move.
4. Changed: parse, then in ONE write transaction replace the source's blocks
   and record the new hash, validators and counts. A reader sees the old
   calendar or the new one, never a mix.
5. Any failure (fetch, parse, a secret sealed under another SECRET_KEY, a
   bug) keeps the last good blocks and records a staff-fit error. Nothing
   raises out of `sync_source`, so the periodic loop and jobs never die of it.

The window moves with the clock, so "unchanged" must mean "same bytes AND
same window": the window is anchored to the UTC day and the day is part of
the content hash; the first sync of each UTC day skips the conditional
headers (a 304 would hide a body we must re-read). So a feed is parsed at
most once a day while it does not change, and never misses occurrences that
walked into the window's far end.

Between read and write the source may have been edited, deactivated or
deleted; the write phase re-reads it under a row lock and writes nothing for
a source that is no longer what was fetched (`superseded`).
"""
from __future__ import annotations

import hashlib
import inspect
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from calendars.errors import SourceError
from calendars.fetch import fetch_ics, parse_url, resolve
from calendars.ics_import import FeedError, ImportResult, parse_busy
from calendars.models import CalendarSource
from core.config import Settings
from core.db import Database
from core.secretbox import SecretUnreadable, unseal
from scheduler.busy import Block, replace_busy_blocks

MB = 1048576
CLAIM_BATCH = 500
SECRET_UNREADABLE = "stored address or password cannot be read (SECRET_KEY changed): enter it again"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncOutcome:
    source_id: int
    status: str            # ok | error | skipped (gone or inactive) | superseded (edited while fetching)
    changed: bool          # the busy blocks were replaced
    busy_count: int
    error: str | None = None


@dataclass(frozen=True)
class _Fetched:
    status: int            # 200 or 304
    body: bytes | None
    etag: str | None = None
    last_modified: str | None = None


def sync_window(now: datetime, settings: Settings) -> tuple[datetime, datetime]:
    """[day - past days, day + 1 day + future weeks), day = `now`'s UTC date: stable for a whole day."""
    day = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return (day - timedelta(days=settings.calendar_window_past_days),
            day + timedelta(days=1, weeks=settings.calendar_window_future_weeks))


def content_hash(body: bytes, window_start: datetime, all_day_busy: bool) -> str:
    """SHA-256 over what decides the blocks: the bytes, the window's day and the all-day rule."""
    digest = hashlib.sha256(f"pendel-busy-1|{window_start:%Y-%m-%d}|{int(all_day_busy)}|".encode())
    digest.update(body)
    return digest.hexdigest()


def uid_suffix(settings: Settings) -> str:
    """Our own exported UIDs end in "@<host of PUBLIC_BASE_URL>" (calendars.ics_export.event_uid)."""
    return "@" + (urlsplit(settings.public_base_url).hostname or "pendel.local")


def parse_for(source: CalendarSource, body: bytes, now: datetime, settings: Settings) -> ImportResult:
    start, end = sync_window(now, settings)
    return parse_busy(body, start, end, default_tz=settings.tz, all_day_busy=source.all_day_busy,
                      ignore_uid_suffix=uid_suffix(settings))


def store_result(session: Session, source: CalendarSource, body: bytes, result: ImportResult, now: datetime,
                 settings: Settings, etag: str | None = None, last_modified: str | None = None) -> int:
    """Replace the blocks and record a good sync, in the caller's transaction; returns the block count."""
    blocks = [Block(i.start, i.end, i.uid, i.recurrence_id) for i in result.intervals]
    count = replace_busy_blocks(session, source.id, mediator_id=source.mediator_id, room_id=source.room_id,
                                blocks=blocks)
    _mark_good(source, now, etag, last_modified)
    source.content_hash = content_hash(body, sync_window(now, settings)[0], source.all_day_busy)
    source.busy_count, source.skipped_events = count, result.skipped_events
    return count


def _mark_good(source: CalendarSource, now: datetime, etag: str | None, last_modified: str | None) -> None:
    source.status, source.last_error = "ok", None
    source.last_synced_at = source.last_attempt_at = now
    source.etag, source.last_modified = etag, last_modified


def is_stale(source: CalendarSource, now: datetime, settings: Settings) -> bool:
    """An active source whose last good sync is missing or older than CALENDAR_STALE_HOURS."""
    if not source.active:
        return False
    limit = timedelta(hours=settings.calendar_stale_hours)
    return source.last_synced_at is None or now - source.last_synced_at > limit


def _fingerprint(source: CalendarSource) -> tuple[object, ...]:
    """What the fetched data depends on; if it changed meanwhile, the result belongs to the old source."""
    return (source.kind, source.url_sealed, source.username, source.password_sealed, source.upload_data,
            source.all_day_busy, source.mediator_id, source.room_id, source.active)


def _fetch(source: CalendarSource, now: datetime, settings: Settings) -> _Fetched:
    allow_private = settings.calendar_allow_private_addresses
    if source.kind == "upload":
        if source.upload_data is None:
            raise SourceError("no file has been uploaded")
        return _Fetched(200, source.upload_data)
    if source.url_sealed is None:
        raise SourceError("the source has no address")
    url = unseal(settings.secret_key, source.url_sealed)
    if source.kind == "caldav":
        return _Fetched(200, _fetch_caldav(source, url, now, settings))
    same_day = source.last_synced_at is not None and source.last_synced_at.date() == now.astimezone(timezone.utc).date()
    conditional = source.content_hash is not None and same_day
    got = fetch_ics(url, etag=source.etag if conditional else None,
                    last_modified=source.last_modified if conditional else None,
                    timeout=settings.calendar_fetch_timeout, total=2 * settings.calendar_fetch_timeout,
                    max_bytes=settings.calendar_max_mb * MB, allow_private=allow_private)
    return _Fetched(got.status, got.body, got.etag, got.last_modified)


def _fetch_caldav(source: CalendarSource, url: str, now: datetime, settings: Settings) -> bytes:
    """The colleague's adapter, imported late so the ICS path works without it."""
    try:
        from calendars.caldav_source import fetch_caldav
    except ImportError:
        raise SourceError("CalDAV not available") from None
    target = parse_url(url)
    params = inspect.signature(fetch_caldav).parameters
    extra = {"allow_private": settings.calendar_allow_private_addresses} if "allow_private" in params else {}
    if not extra:  # the adapter does not check addresses itself: at least refuse a private host up front
        resolve(target.host, target.port, settings.calendar_allow_private_addresses)
    password = unseal(settings.secret_key, source.password_sealed) if source.password_sealed else None
    start, end = sync_window(now, settings)
    body = fetch_caldav(url, source.username, password, start, end, float(settings.calendar_fetch_timeout), **extra)
    if len(body) > settings.calendar_max_mb * MB:
        raise SourceError(f"calendar is larger than {settings.calendar_max_mb} MB")
    return body


def sync_source(db: Database, source_id: int, now: datetime, settings: Settings) -> SyncOutcome:
    """One sync of one source; never raises (a failure is recorded on the source and returned)."""
    try:
        with db.session() as session:
            source = session.get(CalendarSource, source_id)
            if source is not None:
                session.expunge(source)
    except Exception:  # noqa: BLE001 - the database is away: nothing to record it in either
        log.exception("calendar source %d: could not be read", source_id)
        return SyncOutcome(source_id, "error", False, 0, "database not reachable")
    if source is None or not source.active:
        return SyncOutcome(source_id, "skipped", False, source.busy_count if source else 0)
    try:
        fetched = _fetch(source, now, settings)
        if fetched.status == 304:
            return _record_unchanged(db, source, now, fetched.etag, fetched.last_modified)
        assert fetched.body is not None
        digest = content_hash(fetched.body, sync_window(now, settings)[0], source.all_day_busy)
        if digest == source.content_hash:
            return _record_unchanged(db, source, now, fetched.etag, fetched.last_modified)
        result = parse_for(source, fetched.body, now, settings)
        with db.write_session() as session:
            row = _locked_if_same(session, source)
            if row is None:
                return SyncOutcome(source_id, "superseded", False, source.busy_count)
            count = store_result(session, row, fetched.body, result, now, settings, fetched.etag,
                                 fetched.last_modified)
        return SyncOutcome(source_id, "ok", True, count)
    except (SourceError, FeedError) as exc:
        message = str(exc)
    except SecretUnreadable:
        message = SECRET_UNREADABLE
    except Exception:  # noqa: BLE001 - a bug must not take the loop down; the traceback holds no URL
        log.exception("calendar source %d: sync failed unexpectedly", source_id)
        message = "unexpected error while syncing (see the server log)"
    return _record_error(db, source, now, message)


def _locked_if_same(session: Session, source: CalendarSource) -> CalendarSource | None:
    row = session.get(CalendarSource, source.id, with_for_update=True, populate_existing=True)
    return row if row is not None and _fingerprint(row) == _fingerprint(source) else None


def _record_unchanged(db: Database, source: CalendarSource, now: datetime, etag: str | None,
                      last_modified: str | None) -> SyncOutcome:
    with db.write_session() as session:
        row = _locked_if_same(session, source)
        if row is None:
            return SyncOutcome(source.id, "superseded", False, source.busy_count)
        _mark_good(row, now, etag or row.etag, last_modified or row.last_modified)
        return SyncOutcome(source.id, "ok", False, row.busy_count)


def _record_error(db: Database, source: CalendarSource, now: datetime, message: str) -> SyncOutcome:
    """Keep the blocks and the validators; say what went wrong (no URL, no event text)."""
    log.warning("calendar source %d: sync failed: %s", source.id, message)
    try:
        with db.write_session() as session:
            row = _locked_if_same(session, source)
            if row is not None:
                row.status, row.last_error, row.last_attempt_at = "error", message[:300], now
    except Exception:  # noqa: BLE001
        log.exception("calendar source %d: could not record the sync error", source.id)
    return SyncOutcome(source.id, "error", False, source.busy_count, message)


def claim_due(session: Session, now: datetime, settings: Settings, limit: int = CLAIM_BATCH) -> list[int]:
    """Mark active sources not attempted for CALENDAR_SYNC_MINUTES as attempted now; return their ids.

    Claiming in the caller's transaction (SKIP LOCKED) lets several workers
    share the work: a claimed source is not due again for another interval.
    """
    cutoff = now - timedelta(minutes=settings.calendar_sync_minutes)
    s = CalendarSource
    ids = list(session.scalars(
        select(s.id).where(s.active.is_(True), or_(s.last_attempt_at.is_(None), s.last_attempt_at <= cutoff))
        .order_by(s.last_attempt_at.asc().nulls_first(), s.id).limit(limit).with_for_update(skip_locked=True)))
    if ids:
        session.execute(update(s).where(s.id.in_(ids)).values(last_attempt_at=now))
    return ids


def sync_due(db: Database, now: datetime, settings: Settings) -> list[SyncOutcome]:
    """Sync every source that is due, one after another (the RQ job `sync_all_job` runs this)."""
    with db.write_session() as session:
        ids = claim_due(session, now, settings)
    return [sync_source(db, source_id, now, settings) for source_id in ids]


def sync_all(db: Database, now: datetime, settings: Settings) -> list[SyncOutcome]:
    """Sync every active source now, due or not (`flask --app app sync-calendars`)."""
    with db.session() as session:
        ids = list(session.scalars(select(CalendarSource.id).where(CalendarSource.active.is_(True))
                                   .order_by(CalendarSource.id)))
    return [sync_source(db, source_id, now, settings) for source_id in ids]
