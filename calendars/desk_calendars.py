"""Calendars: per mediator and room, the calendars whose busy time Pendel respects, and Pendel's own feed.

Everything goes through the services the JSON API uses, with its rules of
who may do what (calendars/api.py, calendars/feed_api.py): the office
(admin, coordinator) manages every mediator's and room's calendars and feed;
a mediator only their own, and another's calendar is a 404 as in the API
(calendars.sources.source_for); another's feed a 403 (feed_api).

- Adding an ICS address or a CalDAV calendar stores it as the API does
  (address and password sealed, only scheme://host/… in clear) and queues a
  sync; an uploaded file is read at once by the same import as every sync,
  and a file that is not usable stores nothing.
- "Sync now" queues the existing sync job (calendars.jobs.request_sync).
- The feed link is issued (rotated) and revoked through calendars.feeds.
  Only its hash is stored, so the link is shown once, in the answer to the
  post that made it (never in a cookie, never in a redirect).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from calendars.desk_calendars_forms import CaldavForm, ConfirmForm, FeedForm, IcsForm, UploadForm
from calendars.desk_words import problem_words
from calendars.feed_api import _feed_url, _mediator_in_reach, _room
from calendars.feeds import issue_feed_token, revoke_feed_tokens
from calendars.jobs import request_sync
from calendars.models import CalendarSource, FeedToken
from calendars.sources import create_source, delete_source, source_for, visible_sources
from calendars.sync import MB, is_stale
from core import audit
from core.auth import login_required
from core.db import utcnow
from core.models import User
from core.problems import Forbidden, InvalidInput, NotFound
from core.runtime import current, db_session
from core.web import register_labels
from scheduler.access import own_mediator_id
from scheduler.api import OFFICE
from scheduler.models import Mediator, Room

desk_calendars = Blueprint("desk_calendars", __name__, template_folder="templates")

OWNER_KINDS = ("mediators", "rooms")
KIND_WORDS = {"ics_url": _l("ICS address"), "caldav": _l("CalDAV"), "upload": _l("uploaded file")}
UPLOAD_ENDPOINT = "desk_calendars.add_upload"


@dataclass
class Owner:
    kind: str                      # "mediators" or "rooms"
    row: Mediator | Room
    sources: list[CalendarSource] = field(default_factory=list)
    feed: FeedToken | None = None  # the live feed token, if any

    @property
    def name(self) -> str:
        if isinstance(self.row, Room):
            return f"{self.row.name} ({self.row.location.name})"
        return self.row.name


def _room_for_upload() -> None:
    """Runs before the form token is read: an upload may be CALENDAR_MAX_MB (the pages' limit is smaller)."""
    if request.endpoint == UPLOAD_ENDPOINT:
        request.max_content_length = current().settings.calendar_max_mb * MB + 65536


@desk_calendars.record_once
def _install(state: BlueprintSetupState) -> None:
    app: Flask = state.app
    register_labels(app, "calendar_kind", KIND_WORDS)
    app.before_request_funcs.setdefault(None, []).insert(0, _room_for_upload)


def _office() -> bool:
    return g.user.role in OFFICE


def _owner_row(session: Session, kind: str, owner_id: int) -> Mediator | Room:
    """The mediator or room, if this user may manage its calendars: the feed API's own checks."""
    try:
        if kind == "mediators":
            _mediator_in_reach(session, g.user, owner_id)
            row: Mediator | Room | None = session.get(Mediator, owner_id)
        else:
            if not _office():
                raise Forbidden("a room's calendars are the office's")
            _room(session, owner_id)
            row = session.get(Room, owner_id, options=[selectinload(Room.location)])
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    assert row is not None
    return row


def _owner_url(kind: str, owner_id: int) -> str:
    if not _office():
        return url_for(".index")
    return url_for(".owner", kind=kind, owner_id=owner_id)


def _load(session: Session, owners: list[Owner]) -> list[Owner]:
    """Fill in each owner's sources (as far as this user sees them) and live feed, in two queries."""
    by_key = {(o.kind, o.row.id): o for o in owners}
    for source in session.scalars(visible_sources(session, g.user)):
        key = ("mediators", source.mediator_id) if source.mediator_id else ("rooms", source.room_id)
        if key in by_key:
            by_key[key].sources.append(source)
    for token in session.scalars(select(FeedToken).where(FeedToken.revoked_at.is_(None))):
        key = ("mediators", token.mediator_id) if token.mediator_id else ("rooms", token.room_id)
        if key in by_key:
            by_key[key].feed = token
    return owners


def _context() -> dict[str, Any]:
    settings = current().settings
    now = utcnow()
    return {"stale": lambda source: is_stale(source, now, settings), "problem_words": problem_words,
            "max_mb": settings.calendar_max_mb}


def _forms(**given: Any) -> dict[str, Any]:
    """Empty forms for the owner page, except the one that was posted (its data and errors)."""
    forms = {"ics": IcsForm(formdata=None, prefix="ics"), "caldav": CaldavForm(formdata=None, prefix="caldav"),
             "upload": UploadForm(formdata=None, prefix="upload"), "feed": FeedForm(formdata=None, prefix="feed")}
    forms.update(given)
    return forms


def _owner_page(kind: str, row: Mediator | Room, status: int = 200, new_feed_url: str | None = None,
                **forms: Any) -> Any:
    owner = _load(db_session(), [Owner(kind, row)])[0]
    return render_template("calendars/desk/owner.html", owner=owner, forms=_forms(**forms),
                           new_feed_url=new_feed_url, **_context()), status


@desk_calendars.get("/calendars")
@login_required
def index() -> Any:
    """The office: every mediator's and room's calendars at a glance. A mediator: their own page."""
    session = db_session()
    if not _office():
        own = own_mediator_id(session, g.user)
        if own is None:
            return render_template("calendars/desk/none.html")
        return _owner_page("mediators", _owner_row(session, "mediators", own))
    mediators = session.scalars(select(Mediator).order_by(Mediator.active.desc(), Mediator.name, Mediator.id))
    rooms = session.scalars(select(Room).options(selectinload(Room.location))
                            .order_by(Room.active.desc(), Room.name, Room.id))
    owners = _load(session, [Owner("mediators", m) for m in mediators] + [Owner("rooms", r) for r in rooms])
    return render_template("calendars/desk/index.html", mediators=[o for o in owners if o.kind == "mediators"],
                           rooms=[o for o in owners if o.kind == "rooms"], **_context())


@desk_calendars.get("/calendars/<any(mediators, rooms):kind>/<int:owner_id>")
@login_required
def owner(kind: str, owner_id: int) -> Any:
    row = _owner_row(db_session(), kind, owner_id)
    if not _office():
        return redirect(url_for(".index"))
    return _owner_page(kind, row)


def _create(kind: str, owner_id: int, values: dict[str, Any]) -> tuple[int, str, int]:
    """calendars.sources.create_source in one write transaction: (id, kind, busy count), or its refusal."""
    db_session().commit()  # no read transaction held open while writing
    owner_key = "mediator_id" if kind == "mediators" else "room_id"
    with current().db.write_session() as session:
        actor = session.get(User, g.user.id)
        row = create_source(session, actor, {"owner": {owner_key: owner_id}, **values}, utcnow(), current().settings)
        return row.id, row.kind, row.busy_count


def _refused(form: Any, exc: InvalidInput, fields: dict[str, str]) -> None:
    """The service's refusal next to the field it names (else at the form's first field)."""
    for error in exc.errors:
        target = getattr(form, fields.get(error.get("field", ""), "label"))
        target.errors = [*target.errors, problem_words(error.get("message"))]


def _add(kind: str, owner_id: int, form: Any, name: str, values: dict[str, Any], fields: dict[str, str]) -> Any:
    row = _owner_row(db_session(), kind, owner_id)
    try:
        created = _create(kind, owner_id, values)
    except InvalidInput as exc:
        _refused(form, exc, fields)
        return _owner_page(kind, row, 400, **{name: form})
    except Forbidden:
        abort(403)
    source_id, source_kind, busy_count = created
    if source_kind == "upload":
        flash(_("Calendar added: %(count)d busy periods read from the file.", count=busy_count), "success")
    else:
        queued = request_sync(current().redis, source_id)
        flash(_("Calendar added; Pendel reads it now.") if queued else
              _("Calendar added; it will be read at the next regular sync."), "success")
    return redirect(_owner_url(kind, owner_id))


@desk_calendars.post("/calendars/<any(mediators, rooms):kind>/<int:owner_id>/ics")
@login_required
def add_ics(kind: str, owner_id: int) -> Any:
    form = IcsForm(prefix="ics")
    if not form.validate():
        return _owner_page(kind, _owner_row(db_session(), kind, owner_id), 400, ics=form)
    return _add(kind, owner_id, form, "ics", {"kind": "ics_url", "label": form.label.data or "",
                                              "url": form.url.data, "all_day_busy": form.all_day_busy.data},
                {"url": "url", "label": "label"})


@desk_calendars.post("/calendars/<any(mediators, rooms):kind>/<int:owner_id>/caldav")
@login_required
def add_caldav(kind: str, owner_id: int) -> Any:
    form = CaldavForm(prefix="caldav")
    if not form.validate():
        return _owner_page(kind, _owner_row(db_session(), kind, owner_id), 400, caldav=form)
    return _add(kind, owner_id, form, "caldav",
                {"kind": "caldav", "label": form.label.data or "", "url": form.url.data,
                 "username": form.username.data or None, "password": form.password.data or None,
                 "all_day_busy": form.all_day_busy.data},
                {"url": "url", "label": "label", "username": "username", "password": "password"})


@desk_calendars.post("/calendars/<any(mediators, rooms):kind>/<int:owner_id>/upload")
@login_required
def add_upload(kind: str, owner_id: int) -> Any:
    form = UploadForm(prefix="upload")
    if not form.validate():
        return _owner_page(kind, _owner_row(db_session(), kind, owner_id), 400, upload=form)
    limit = current().settings.calendar_max_mb * MB
    data = form.file.data.read(limit + 1)
    label = form.label.data or (form.file.data.filename or "")[:100]
    return _add(kind, owner_id, form, "upload", {"kind": "upload", "label": label, "content": data,
                                                 "all_day_busy": form.all_day_busy.data},
                {"content": "file", "label": "label"})


@desk_calendars.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> Any:
    """A file over the limit is refused before it is read; nothing is stored."""
    flash(_("The file is larger than %(size)d MB: nothing was stored.", size=current().settings.calendar_max_mb),
          "error")
    args = request.view_args or {}
    if "kind" in args and "owner_id" in args:
        return redirect(url_for(".owner", kind=args["kind"], owner_id=args["owner_id"]), 303)
    return redirect(url_for(".index"), 303)


def _source(source_id: int) -> CalendarSource:
    try:
        return source_for(db_session(), g.user, source_id)
    except NotFound:
        abort(404)


def _source_owner(source: CalendarSource) -> tuple[str, int]:
    return ("mediators", source.mediator_id) if source.mediator_id else ("rooms", source.room_id)  # type: ignore[return-value]


@desk_calendars.post("/calendars/sources/<int:source_id>/sync")
@login_required
def sync_now(source_id: int) -> Any:
    """Queue the sync job for this source (the periodic sync would come by later anyway)."""
    source = _source(source_id)
    kind, owner_id = _source_owner(source)
    if not source.active:
        flash(_("This calendar is switched off: nothing to sync."), "error")
    elif request_sync(current().redis, source.id):
        flash(_("Sync queued: the page shows the result in a moment."), "success")
    else:
        flash(_("The sync could not be queued now; the regular sync will read the calendar."), "warning")
    return redirect(_owner_url(kind, owner_id))


@desk_calendars.route("/calendars/sources/<int:source_id>/remove", methods=["GET", "POST"])
@login_required
def remove(source_id: int) -> Any:
    """Ask first; the source and its busy time go together."""
    source = _source(source_id)
    kind, owner_id = _source_owner(source)
    form = ConfirmForm()
    if request.method == "POST" and form.validate():
        db_session().commit()
        try:
            with current().db.write_session() as session:
                delete_source(session, session.get(User, g.user.id), source_id)
        except NotFound:
            abort(404)
        flash(_("The calendar was removed, with its busy time."), "success")
        return redirect(_owner_url(kind, owner_id))
    owner = Owner(kind, _owner_row(db_session(), kind, owner_id))
    return render_template("calendars/desk/remove.html", source=source, owner=owner, form=form,
                           back=_owner_url(kind, owner_id), **_context()), 400 if request.method == "POST" else 200


@desk_calendars.post("/calendars/<any(mediators, rooms):kind>/<int:owner_id>/feed")
@login_required
def rotate_feed(kind: str, owner_id: int) -> Any:
    """A new feed link (the previous one stops working at once), shown this once."""
    row = _owner_row(db_session(), kind, owner_id)
    form = FeedForm(prefix="feed")
    if not form.validate():
        return _owner_page(kind, row, 400, feed=form)
    include_names = bool(form.include_names.data) and kind == "mediators"
    db_session().commit()
    with current().db.write_session() as session:
        actor = session.get(User, g.user.id)
        owner_key = {"mediator_id": owner_id} if kind == "mediators" else {"room_id": owner_id}
        token = issue_feed_token(session, include_names=include_names, **owner_key)
        audit.record(session, actor.id if actor else None, "calendar_feed.issued", kind[:-1], owner_id,
                     "with names" if include_names else "")
    db_session().expire_all()
    flash(_("New feed link made: copy it now, Pendel shows it only this once. The previous link no longer works."),
          "success")
    return _owner_page(kind, row, new_feed_url=_feed_url(token))


@desk_calendars.post("/calendars/<any(mediators, rooms):kind>/<int:owner_id>/feed/revoke")
@login_required
def revoke_feed(kind: str, owner_id: int) -> Any:
    _owner_row(db_session(), kind, owner_id)
    if not ConfirmForm().validate():
        abort(400)
    db_session().commit()
    with current().db.write_session() as session:
        owner_key = {"mediator_id": owner_id} if kind == "mediators" else {"room_id": owner_id}
        if revoke_feed_tokens(session, **owner_key):
            audit.record(session, g.user.id, "calendar_feed.revoked", kind[:-1], owner_id)
    flash(_("The feed link no longer works."), "success")
    return redirect(_owner_url(kind, owner_id))
