"""Calendars' plug: imported calendars, Pendel's own feeds, their API and pages."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from calendars.periodic import PERIODIC
from core.plugins import NavItem, Plugin
from core.web import csrf_exempt


def install_web(app: Flask) -> None:
    from calendars.api import calendars_api_bp
    from calendars.desk_calendars import desk_calendars
    from calendars.feed_api import feeds_api_bp
    from calendars.feed_views import feeds_bp, install_feed_log_filter
    from calendars.pages import install_calendar_warnings

    app.register_blueprint(calendars_api_bp, url_prefix="/api/v1")
    install_calendar_warnings(app)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(desk_calendars)
    app.register_blueprint(feeds_api_bp, url_prefix="/api/v1")
    install_feed_log_filter(app)
    csrf_exempt(app, calendars_api_bp, feeds_api_bp, feeds_bp)  # bearer tokens; feeds are read-only GETs


def register_commands(app: Flask) -> None:
    from calendars.cli import register_commands as register

    register(app)


PLUGIN = Plugin(
    name="calendars",
    model_modules=("calendars.models",),
    job_modules=("calendars.jobs",),
    install_web=install_web,
    periodic=PERIODIC,  # enqueue due syncs
    nav=(NavItem("desk_calendars.index", _l("Calendars"), order=60),),
    register_commands=register_commands,
)
