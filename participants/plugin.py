"""Participants' plug: their personal pages behind the link in their messages."""
from __future__ import annotations

from flask import Flask

from core.plugins import Plugin


def install_web(app: Flask) -> None:
    from participants import appointment_views, offer_views  # noqa: F401 - routes on participant_bp
    from participants.link_access import participant_bp
    from participants.log_mask import install_link_log_mask

    app.register_blueprint(participant_bp)
    install_link_log_mask(app)


PLUGIN = Plugin(name="participants", install_web=install_web)
