"""Scheduler's plug: cases, appointments, the booking API and the staff desk's pages."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.plugins import NavItem, Plugin
from core.web import csrf_exempt
from scheduler.periodic import PERIODIC


def install_web(app: Flask) -> None:
    from scheduler.api import api_bp
    from scheduler.desk_admin import desk_admin
    from scheduler.desk_booking import desk_booking
    from scheduler.desk_cases import desk_cases
    from scheduler.desk_reassign import desk_reassign
    from scheduler.desk_privacy import desk_privacy
    from scheduler.desk_registrations import desk_registrations
    from scheduler.desk_today import install_today
    from scheduler.desk_week import desk_week
    from scheduler.desk_meeting import desk_meeting
    from scheduler.labels import install_labels
    from scheduler.pages import staff_bp
    from scheduler.public_registration import public_registration

    install_labels(app)
    app.register_blueprint(staff_bp)
    app.register_blueprint(desk_meeting)  # /cases/<id>/meeting, withdraw and undo
    app.register_blueprint(desk_week)
    app.register_blueprint(desk_booking)  # plan an intake, an appointment's page, reschedule, cancel
    from scheduler.desk_offers import desk_offers
    app.register_blueprint(desk_offers)  # offer times from the intake's picker; withdraw, book one for them
    install_today(app)  # the Today page and scheduler's figures on it
    app.register_blueprint(desk_cases)
    app.register_blueprint(desk_reassign)
    app.register_blueprint(desk_admin)  # /admin: regions, mediators, locations and rooms, accounts
    app.register_blueprint(desk_registrations)  # the office's queue of registrations from /aanmelden
    app.register_blueprint(desk_privacy)  # a participant's data: download it, erase it
    app.register_blueprint(public_registration)  # /aanmelden: anyone may register for mediation
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf_exempt(app, api_bp)  # bearer tokens only: no browser form posts here


def register_commands(app: Flask) -> None:
    from scheduler.cli import register_commands as register

    register(app)


PLUGIN = Plugin(
    name="scheduler",
    model_modules=("scheduler.models", "scheduler.participant_models", "scheduler.registration_models"),
    job_modules=("scheduler.jobs",),
    install_web=install_web,
    periodic=PERIODIC,  # expire holds
    nav=(NavItem("desk_today.index", _l("Today"), order=11, roles=("coordinator", "admin")),
         NavItem("desk_week.mine", _l("My week"), order=12, roles=("mediator",)),
         NavItem("desk_cases.index", _l("Cases"), order=15),
         NavItem("desk_registrations.index", _l("Registrations"), order=16, roles=("coordinator", "admin")),
         NavItem("desk_reassign.index", _l("Sick mediator"), order=40, roles=("admin", "coordinator")),
         NavItem("desk_admin.index", _l("Administration"), order=90, roles=("admin", "coordinator")),),
    register_commands=register_commands,
)
