"""Staff see calendar trouble where they work: failing or stale sources on the overview.

The overview belongs to the scheduler, which knows nothing of calendars, so
calendars adds its warnings through a template context processor installed
in create_app (dependencies keep pointing one way).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, g

from calendars.models import CalendarSource
from calendars.sources import visible_sources
from calendars.sync import is_stale
from core.db import utcnow
from core.runtime import current, db_session


@dataclass(frozen=True)
class SourceWarning:
    source_id: int
    label: str
    owner: str            # "mediator 3" / "room 2": no names needed to find it
    problem: str          # "error" or "stale"
    last_error: str | None
    last_synced_at: Any


def calendar_warnings() -> list[SourceWarning]:
    """Active sources of the signed-in user's sight that failed or whose last good sync is too old."""
    user = g.get("user")
    if user is None:
        return []
    session, now, settings = db_session(), utcnow(), current().settings
    rows = session.scalars(visible_sources(session, user).where(CalendarSource.active.is_(True))).all()
    out = []
    for row in rows:
        problem = "error" if row.status == "error" else "stale" if is_stale(row, now, settings) else None
        if problem:
            owner = f"mediator {row.mediator_id}" if row.mediator_id else f"room {row.room_id}"
            out.append(SourceWarning(row.id, row.label, owner, problem, row.last_error, row.last_synced_at))
    return out


def install_calendar_warnings(app: Flask) -> None:
    @app.context_processor
    def _inject() -> dict[str, Any]:
        return {"calendar_warnings": calendar_warnings}
