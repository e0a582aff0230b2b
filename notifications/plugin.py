"""Notifications' plug: the outbox, its webhooks and API, and the handlers of domain events."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.config import Settings
from core.events import EventBus
from core.plugins import NavItem, Plugin
from core.runtime import Runtime
from core.web import csrf_exempt
from notifications.periodic import PERIODIC


def install_web(app: Flask) -> None:
    from notifications.api import notifications_api_bp
    from notifications.dashboard import install_dashboard
    from notifications.desk_messages import install_desk
    from notifications.erasure import export_section
    from notifications.webhooks import sms_webhooks_bp
    from scheduler.participant_export import register_export_section

    app.register_blueprint(notifications_api_bp, url_prefix="/api/v1")
    app.register_blueprint(sms_webhooks_bp)
    install_dashboard(app)  # messages on the Today page
    install_desk(app)  # the desk's Messages pages and the words for the outbox's values
    register_export_section(app, export_section)  # a participant's data file: the messages to them
    csrf_exempt(app, notifications_api_bp, sms_webhooks_bp)  # bearer tokens / Twilio's signed webhooks


def subscribe(bus: EventBus, settings: Settings) -> None:
    from notifications.subscribers import subscribe as notifications_subscribe

    notifications_subscribe(bus, settings)


def prepare_worker(runtime: Runtime) -> None:
    """Before a worker forks: the channels' clients built (no connection opened) and the send job's SQL compiled."""
    from core.db import utcnow
    from notifications.jobs import channels_for, warm_up

    for channel in channels_for(runtime.settings).values():
        client = getattr(channel, "client", None)
        if client is not None:
            _ = client.messages  # twilio loads its REST API modules on first use
        prepare = getattr(channel, "prepare", None)
        if prepare is not None:
            prepare()
    with runtime.db.engine.connect() as conn:  # dialect set-up and the send job's SQL compiled, once
        with conn.begin() as transaction:
            warm_up(conn, runtime.settings, utcnow())
            transaction.rollback()


PLUGIN = Plugin(
    name="notifications",
    model_modules=("notifications.models", "notifications.inbound_models"),
    job_modules=("notifications.jobs", "notifications.provider_deletion"),
    install_web=install_web,
    prepare_worker=prepare_worker,
    periodic=PERIODIC,  # dispatch due messages, purge old content
    subscribe=subscribe,
    nav=(NavItem("desk_messages.dead", _l("Messages"), order=50, roles=("admin", "coordinator")),),
)
