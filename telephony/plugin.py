"""Telephony's plug: the phone line's webhooks, the callback queue and the duty switch."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.plugins import NavItem, Plugin
from core.web import csrf_exempt
from telephony.periodic import PERIODIC

if TYPE_CHECKING:
    from core.config import Settings
    from core.events import EventBus


def install_web(app: Flask) -> None:
    from scheduler.desk_cases import register_case_callbacks
    from telephony.api import telephony_api_bp
    from telephony.case_links import HOOKS as CASE_CALLBACKS
    from scheduler.participant_export import register_export_section
    from telephony.dashboard import install_dashboard
    from telephony.erasure import export_section
    from telephony.labels import install_labels
    from telephony.pages import callback_pages_bp
    from telephony.public_callback import public_callback
    from telephony.staff_voice_views import staff_voice_bp
    from telephony.voice_views import voice_bp

    install_labels(app)
    register_case_callbacks(app, CASE_CALLBACKS)  # the case pages' view of callback requests
    app.register_blueprint(callback_pages_bp)  # also adds the overview's callback section
    install_dashboard(app)  # callback requests on the Today page
    register_export_section(app, export_section)  # a participant's data file: callback requests from their number
    app.register_blueprint(telephony_api_bp, url_prefix="/api/v1")
    app.register_blueprint(voice_bp)
    app.register_blueprint(staff_voice_bp)
    app.register_blueprint(public_callback)  # /bel-mij-terug, for anyone
    csrf_exempt(app, telephony_api_bp, voice_bp, staff_voice_bp)  # bearer tokens / Twilio's signed webhooks


def subscribe(bus: EventBus, _settings: Settings) -> None:
    from scheduler.events import CaseErasing, ParticipantErasing
    from telephony import erasure

    bus.subscribe(ParticipantErasing, erasure.on_participant_erasing)  # callback requests from their number
    bus.subscribe(CaseErasing, erasure.on_case_erasing)


PLUGIN = Plugin(
    name="telephony",
    model_modules=("telephony.models",),
    install_web=install_web,
    subscribe=subscribe,
    job_modules=("telephony.click_to_call",),
    periodic=PERIODIC,  # purge phone records
    nav=(NavItem("callback_pages.queue", _l("Callback requests"), order=20),
         NavItem("callback_pages.duty", _l("On duty"), order=80)),
)
