"""/api/v1/calendar-sources: the shared calendars whose busy time Pendel respects.

The full address (ICS URLs carry a private token) and the CalDAV password are
write-only: responses show `url_hint` ("https://host/…"), `username` and
`has_password`, never the secret. The owner is an object with exactly one of
`mediator_id` and `room_id`. An upload travels as JSON text (`content`: the
.ics file as a string, UTF-8), so it is validated and documented like every
other body; iCalendar is text (RFC 5545), base64 would only add a third.

Who: the office (admin, coordinator) manages every source; a mediator manages
their own and sees nothing else (404). `POST .../sync` runs the sync inside
the request and returns the source with its outcome; a failed sync is still
a 200 whose `status` is "error" and `last_error` says why — the busy time of
the last good sync stays in force.
"""
from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, Response, g, request, url_for
from pydantic import MISSING, Field, StringConstraints, model_validator

from calendars.jobs import request_sync
from calendars.models import SOURCE_STATUSES, CalendarSource
from calendars.sources import create_source, delete_source, replace_upload, source_for, update_source, \
    visible_sources
from calendars.sync import MB, is_stale, sync_source
from core.api import QueryModel, RequestModel, ResponseModel, UtcDatetime, registry, respond
from core.config import Settings
from core.db import utcnow
from core.inputs import Id, multi_line, single_line
from core.problems import Conflict
from core.runtime import current, db_session
from scheduler.api import writing

calendars_api_bp = Blueprint("calendars_api", __name__)

STAFF = ("admin", "coordinator", "mediator")  # as scheduler.api.STAFF; narrowed per source in calendars.sources
Kind = Literal["ics_url", "caldav", "upload"]
Status = Literal[SOURCE_STATUSES]  # type: ignore[valid-type]
Label = single_line(100, required=False)
Url = Annotated[single_line(2048),
                Field(description="Write-only. ics_url: http, https or webcal; caldav: the calendar collection")]
Username = single_line(200, required=False, strip=False)
Password = Annotated[single_line(500, required=False, strip=False), StringConstraints(min_length=1),
                    Field(description="Write-only (caldav)")]
Content = Annotated[multi_line(), Field(description="upload: the .ics file's text (UTF-8), at most CALENDAR_MAX_MB")]


class SourceOwner(RequestModel):
    """Exactly one of the two."""

    mediator_id: Id | None = None
    room_id: Id | None = None

    @model_validator(mode="after")
    def _one(self) -> SourceOwner:
        if (self.mediator_id is None) == (self.room_id is None):
            raise ValueError("give exactly one of mediator_id and room_id")
        return self


class CalendarSourceCreate(RequestModel):
    owner: SourceOwner
    kind: Kind
    label: Label = ""
    url: Url | None = None
    username: Username | None = None
    password: Password | None = None
    content: Content | None = None
    all_day_busy: bool = Field(default=True, description="Whether all-day events block the whole day")
    active: bool = True


class CalendarSourcePatch(RequestModel):
    label: Label | MISSING = MISSING
    url: Url | MISSING = MISSING
    username: Username | None | MISSING = MISSING
    password: Password | None | MISSING = MISSING
    all_day_busy: bool | MISSING = MISSING
    active: bool | MISSING = MISSING


class CalendarUpload(RequestModel):
    content: Content


class SourceOwnerOut(ResponseModel):
    mediator_id: int | None
    room_id: int | None


class CalendarSourceOut(ResponseModel):
    id: int
    owner: SourceOwnerOut
    kind: Kind
    label: str
    url_hint: str | None = Field(description="scheme://host/… only; the address itself is never returned")
    username: str | None
    has_password: bool
    all_day_busy: bool
    active: bool
    status: Status
    stale: bool = Field(description="Active, and the last good sync is missing or older than CALENDAR_STALE_HOURS")
    last_synced_at: UtcDatetime | None = Field(description="The last GOOD sync: its busy time is what counts")
    last_attempt_at: UtcDatetime | None
    last_error: str | None = Field(description="Why the last attempt failed; never an address or event text")
    busy_count: int
    skipped_events: int = Field(description="Events left out of the last good sync because they were broken")
    created_at: UtcDatetime

    @classmethod
    def of(cls, row: CalendarSource, settings: Settings) -> CalendarSourceOut:
        return cls(id=row.id, owner=SourceOwnerOut(mediator_id=row.mediator_id, room_id=row.room_id),
                   kind=row.kind, label=row.label, url_hint=row.url_hint, username=row.username,
                   has_password=row.password_sealed is not None, all_day_busy=row.all_day_busy, active=row.active,
                   status=row.status, stale=is_stale(row, utcnow(), settings), last_synced_at=row.last_synced_at,
                   last_attempt_at=row.last_attempt_at, last_error=row.last_error, busy_count=row.busy_count,
                   skipped_events=row.skipped_events, created_at=row.created_at)


class CalendarSourceList(ResponseModel):
    calendar_sources: list[CalendarSourceOut]


class CalendarSourceQuery(QueryModel):
    mediator_id: Id | None = None
    room_id: Id | None = None
    active: bool | None = None
    status: Status | None = None
    stale: bool | None = None


@calendars_api_bp.before_request
def _room_for_files() -> None:
    """A file rides in the JSON body: allow CALENDAR_MAX_MB (twice, for JSON escaping) on these two routes."""
    if request.endpoint in ("calendars_api.create_calendar_source", "calendars_api.upload_calendar_file"):
        request.max_content_length = current().settings.calendar_max_mb * MB * 2 + 65536


def _settings() -> Settings:
    return current().settings


route = registry.route


@route(calendars_api_bp, "GET", "/calendar-sources", summary="List calendar sources", tag="calendar-sources",
       roles=STAFF, query=CalendarSourceQuery, response=CalendarSourceList)
def list_calendar_sources(query: CalendarSourceQuery) -> Response:
    """The office sees every source; a mediator their own."""
    stmt = visible_sources(db_session(), g.user)
    for column, value in ((CalendarSource.mediator_id, query.mediator_id), (CalendarSource.room_id, query.room_id),
                          (CalendarSource.active, query.active), (CalendarSource.status, query.status)):
        if value is not None:
            stmt = stmt.where(column == value)
    rows = [CalendarSourceOut.of(row, _settings()) for row in db_session().scalars(stmt)]
    if query.stale is not None:
        rows = [row for row in rows if row.stale is query.stale]
    return respond(CalendarSourceList(calendar_sources=rows))


@route(calendars_api_bp, "GET", "/calendar-sources/<int:source_id>", summary="Get a calendar source",
       tag="calendar-sources", roles=STAFF, response=CalendarSourceOut)
def get_calendar_source(source_id: int) -> Response:
    return respond(CalendarSourceOut.of(source_for(db_session(), g.user, source_id), _settings()))


@route(calendars_api_bp, "POST", "/calendar-sources", summary="Add a calendar source", tag="calendar-sources",
       roles=STAFF, body=CalendarSourceCreate, response=CalendarSourceOut, status=201, errors=(403, 413))
def create_calendar_source(body: CalendarSourceCreate) -> Response:
    """kind ics_url needs `url`; caldav `url` (and usually `username`, `password`); upload `content`.

    An upload is parsed at once: a file that is not usable iCalendar is a 422
    on `content` and nothing is stored. URL sources are synced in the
    background right after; `POST .../sync` waits for the result instead.
    """
    with writing() as (session, actor):
        row = create_source(session, actor, body.model_dump(), utcnow(), _settings())
        out = CalendarSourceOut.of(row, _settings())
    if out.kind != "upload" and out.active:
        request_sync(current().redis, out.id)
    return respond(out, 201, {"Location": url_for(".get_calendar_source", source_id=out.id)})


@route(calendars_api_bp, "PATCH", "/calendar-sources/<int:source_id>", summary="Change a calendar source",
       tag="calendar-sources", roles=STAFF, body=CalendarSourcePatch, response=CalendarSourceOut)
def patch_calendar_source(source_id: int, body: CalendarSourcePatch) -> Response:
    """Only the fields sent change. A new address, login or all-day rule makes the source sync again
    (until then its last busy time stays); `active: false` removes its busy time at once."""
    changes = body.model_dump()
    with writing() as (session, actor):
        row = update_source(session, actor, source_id, changes, utcnow(), _settings())
        out = CalendarSourceOut.of(row, _settings())
    if out.kind != "upload" and out.active and out.last_attempt_at is None:
        request_sync(current().redis, out.id)
    return respond(out)


@route(calendars_api_bp, "DELETE", "/calendar-sources/<int:source_id>", summary="Delete a calendar source",
       tag="calendar-sources", roles=STAFF, status=204)
def delete_calendar_source(source_id: int) -> Response:
    """The source and its busy time go together."""
    with writing() as (session, actor):
        delete_source(session, actor, source_id)
    return Response(status=204)


@route(calendars_api_bp, "PUT", "/calendar-sources/<int:source_id>/upload", summary="Replace an uploaded file",
       tag="calendar-sources", roles=STAFF, body=CalendarUpload, response=CalendarSourceOut, errors=(413,))
def upload_calendar_file(source_id: int, body: CalendarUpload) -> Response:
    """For kind upload: `content` is the .ics file's text. It replaces the busy time at once, or, if it
    is not usable iCalendar, is a 422 on `content` and the previous file stays."""
    with writing() as (session, actor):
        row = replace_upload(session, actor, source_id, body.content, utcnow(), _settings())
        out = CalendarSourceOut.of(row, _settings())
    return respond(out)


@route(calendars_api_bp, "POST", "/calendar-sources/<int:source_id>/sync", summary="Sync a calendar source now",
       tag="calendar-sources", roles=STAFF, response=CalendarSourceOut, errors=(409,))
def sync_calendar_source(source_id: int) -> Response:
    """Fetches and imports now, in this request (the fetch takes at most twice CALENDAR_FETCH_TIMEOUT).
    The answer is the source afterwards: `status` ok, or error with `last_error` (the last good busy
    time then stays)."""
    session = db_session()
    row = source_for(session, g.user, source_id)
    if not row.active:
        raise Conflict(f"calendar source {source_id} is inactive: activate it first")
    session.commit()  # no read transaction held open while the calendar server is asked
    sync_source(current().db, source_id, utcnow(), _settings())
    session.expire_all()
    return respond(CalendarSourceOut.of(source_for(session, g.user, source_id), _settings()))
