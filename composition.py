"""Which packages make up Pendel, and the little glue between them.

app.py and worker.py walk `PLUGINS`; core never imports a domain package.
Glue that joins two packages (the phone line asking notifications whether a
number texted STOP) lives here, not in either package.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from calendars.plugin import PLUGIN as CALENDARS
from core.plugins import Plugin
from notifications.plugin import PLUGIN as NOTIFICATIONS
from scheduler.plugin import PLUGIN as SCHEDULER
from telephony.plugin import PLUGIN as TELEPHONY

if TYPE_CHECKING:
    from sqlalchemy import MetaData

PLUGINS: tuple[Plugin, ...] = (SCHEDULER, TELEPHONY, CALENDARS, NOTIFICATIONS)


def metadata() -> MetaData:
    """Every table: core's and each plugin's model modules (Alembic, the tests)."""
    from core.schema import metadata_of

    return metadata_of(module for plugin in PLUGINS for module in plugin.model_modules)


def glue_web(app: Flask) -> None:
    from notifications.inbound_models import number_opted_out
    from telephony.voice_views import texts_allowed_by

    settings = app.extensions["pendel"].settings
    # The phone line offers a confirmation text only to a number that did not text STOP (notifications').
    texts_allowed_by(app, lambda session, number: not number_opted_out(session, settings, number))
