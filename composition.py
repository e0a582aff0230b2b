"""Which packages make up Pendel, and the little glue between them.

app.py and worker.py walk `PLUGINS`; core never imports a domain package.
What core needs of the packages it gets from here, as arguments: the full
metadata (`metadata()`), the periodic tasks (`periodic_tasks()`), a process's
runtime with every package's event subscribers (`build_process_runtime`).
Glue that joins two packages (the phone line asking notifications whether a
number texted STOP) lives here, not in either package.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from calendars.plugin import PLUGIN as CALENDARS
from core.plugins import PeriodicTask, Plugin
from notifications.plugin import PLUGIN as NOTIFICATIONS
from participants.plugin import PLUGIN as PARTICIPANTS
from scheduler.plugin import PLUGIN as SCHEDULER
from telephony.plugin import PLUGIN as TELEPHONY

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from core.config import Settings
    from core.runtime import Runtime

PLUGINS: tuple[Plugin, ...] = (SCHEDULER, TELEPHONY, CALENDARS, NOTIFICATIONS, PARTICIPANTS)


def metadata() -> MetaData:
    """Every table: core's and each plugin's model modules (Alembic, the tests)."""
    from core.schema import metadata_of

    return metadata_of(module for plugin in PLUGINS for module in plugin.model_modules)


def build_process_runtime(settings: Settings | None = None) -> Runtime:
    """Settings, database, event bus and queue connection for this process.

    Packages that react to domain events subscribe to `runtime.bus` here
    (their plugin's `subscribe`), so web and worker processes wire them alike.
    """
    from core.config import load_settings
    from core.queue import connect_redis
    from core.runtime import build_runtime

    settings = settings or load_settings()
    runtime = build_runtime(settings, redis=connect_redis(settings))
    for plugin in PLUGINS:
        if plugin.subscribe is not None:
            plugin.subscribe(runtime.bus, settings)
    return runtime


def periodic_tasks() -> tuple[PeriodicTask, ...]:
    """The periodic loop's work (core/periodic.py): every plugin's, the most frequent first."""
    from core.periodic import collect_tasks

    return collect_tasks(PLUGINS)


def periodic_setup() -> tuple[Runtime, tuple[PeriodicTask, ...]]:
    """What worker.py's periodic child process runs with (handed to core.periodic.start_periodic_process)."""
    return build_process_runtime(), periodic_tasks()


def glue_web(app: Flask) -> None:
    from notifications.inbound_models import number_opted_out
    from telephony.voice_views import texts_allowed_by

    settings = app.extensions["pendel"].settings
    # The phone line offers a confirmation text only to a number that did not text STOP (notifications').
    texts_allowed_by(app, lambda session, number: not number_opted_out(session, settings, number))
