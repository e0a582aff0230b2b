"""What one running Pendel process holds: settings, database, event bus, queue.

Built once by `create_app` (or by `worker.py` / a CLI command) and reached in a
request through `current()`. Nothing in here is state another process needs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app, g
from sqlalchemy.orm import Session

from core.config import Settings
from core.db import Database
from core.events import EventBus
from core.workdays import WorkingDayCalendar


@dataclass
class Runtime:
    settings: Settings
    db: Database
    bus: EventBus
    workdays: WorkingDayCalendar
    redis: Any = None

    @property
    def hold_duration(self) -> timedelta:
        return timedelta(minutes=self.settings.hold_minutes)


def build_runtime(settings: Settings, redis: Any = None) -> Runtime:
    bus = EventBus()
    return Runtime(
        settings=settings,
        db=Database(settings.database_url, event_bus=bus),
        bus=bus,
        workdays=WorkingDayCalendar(settings.closure_days, settings.liberation_day_always_off),
        redis=redis,
    )


def current() -> Runtime:
    return current_app.extensions["pendel"]


def db_session() -> Session:
    """The request's session (reads, simple writes); closed when the request ends."""
    if "db_session" not in g:
        g.db_session = current().db.sessions()
    return g.db_session


def close_db_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
