"""Notifications' plug: the outbox, its webhooks and API, and the handlers of domain events."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.config import Settings
from core.events import EventBus
from core.plugins import NavItem, Plugin
from core.web import csrf_exempt


def install_web(app: Flask) -> None:
    from notifications.api import notifications_api_bp
    from notifications.desk_messages import install_desk
    from notifications.webhooks import sms_webhooks_bp

    app.register_blueprint(notifications_api_bp, url_prefix="/api/v1")
    app.register_blueprint(sms_webhooks_bp)
    install_desk(app)  # the desk's Messages pages and the words for the outbox's values
    csrf_exempt(app, notifications_api_bp, sms_webhooks_bp)  # bearer tokens / Twilio's signed webhooks


def subscribe(bus: EventBus, settings: Settings) -> None:
    from notifications.subscribers import subscribe as notifications_subscribe

    notifications_subscribe(bus, settings)


PLUGIN = Plugin(
    name="notifications",
    model_modules=("notifications.models", "notifications.inbound_models"),
    job_modules=("notifications.jobs",),
    install_web=install_web,
    subscribe=subscribe,
    nav=(NavItem("desk_messages.dead", _l("Messages"), order=50, roles=("admin", "coordinator")),),
)
