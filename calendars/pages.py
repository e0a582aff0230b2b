"""Staff see calendar trouble where they work: failing or stale sources on the overview.

The overview belongs to the scheduler, which knows nothing of calendars, so
calendars adds its warnings through a template context processor installed
by its plugin (dependencies keep pointing one way). A warning carries its
text in the page's language (calendars' words are calendars' catalog's);
scheduler's partial `_calendar_warnings.html` only lays them out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app, g, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from calendars.models import CalendarSource
from calendars.sources import visible_sources
from calendars.sync import is_stale
from core.db import utcnow
from core.runtime import current, db_session
from core.web import fmt_day, fmt_time
from scheduler.models import Mediator, Room


@dataclass(frozen=True)
class SourceWarning:
    source_id: int
    label: str            # the source's own name, or "agenda 3"
    owner: str            # the mediator's name, or "ruimte Kamer 2"
    problem: str          # "error" or "stale"
    problem_text: str     # what is wrong, in words
    last_error: str | None  # the technical reason, as the fetch reported it
    last_synced_at: datetime | None
    last_good: str        # "laatst goed bijgewerkt maandag 30 november, 09:00" or "nog nooit bijgewerkt"


def calendar_warnings() -> list[SourceWarning]:
    """Active sources of the signed-in user's sight that failed or whose last good sync is too old."""
    user = g.get("user")
    if user is None:
        return []
    session, now, settings = db_session(), utcnow(), current().settings
    rows = session.scalars(visible_sources(session, user).where(CalendarSource.active.is_(True))).all()
    troubled = [(row, "error" if row.status == "error" else "stale" if is_stale(row, now, settings) else None)
                for row in rows]
    troubled = [(row, problem) for row, problem in troubled if problem]
    if not troubled:
        return []
    mediators = dict(session.execute(select(Mediator.id, Mediator.name).where(
        Mediator.id.in_({r.mediator_id for r, _p in troubled if r.mediator_id}))).all())
    rooms = dict(session.execute(select(Room.id, Room.name).where(
        Room.id.in_({r.room_id for r, _p in troubled if r.room_id}))).all())
    out = []
    for row, problem in troubled:
        owner = (mediators.get(row.mediator_id, "") if row.mediator_id
                 else _("room %(name)s", name=rooms.get(row.room_id or 0, "")))
        out.append(SourceWarning(
            row.id, row.label or _("calendar %(number)d", number=row.id), owner, problem,
            _("could not be read") if problem == "error" else _("out of date"),
            row.last_error if problem == "error" else None, row.last_synced_at,
            _("last good sync %(day)s, %(time)s", day=fmt_day(row.last_synced_at), time=fmt_time(row.last_synced_at))
            if row.last_synced_at else _("never synced")))
    return out


def calendars_page_url() -> str | None:
    """The calendars page, once the desk has it (built by another part of the desk)."""
    return url_for("desk_calendars.index") if "desk_calendars.index" in current_app.view_functions else None


def install_calendar_warnings(app: Flask) -> None:
    @app.context_processor
    def _inject() -> dict[str, object]:
        return {"calendar_warnings": calendar_warnings, "calendars_page_url": calendars_page_url}
