"""Pendel's web application.

`create_app()` builds the Flask app from the environment (see core/config.py);
`python app.py` runs the development server on the embedded defaults
(SQLite under instance/, an in-process queue with a worker thread, console
channels) at http://127.0.0.1:5000.
"""
from __future__ import annotations

import os
import sys

from flask import Flask

from core.auth import CookieSessions
from core.config import ConfigError, Settings, load_settings
from core.inputs import install as install_input_guards
from core.jobcontext import set_job_runtime
from core.problems import register_error_handlers
from core.queue import connect_redis
from core.runtime import Runtime, build_runtime, close_db_session


def build_process_runtime(settings: Settings | None = None) -> Runtime:
    """Settings, database, event bus and queue connection for this process.

    Packages that react to domain events (notifications, calendars) subscribe
    to `runtime.bus` here, so web and worker processes wire them alike.
    """
    settings = settings or load_settings()
    runtime = build_runtime(settings, redis=connect_redis(settings))
    from notifications.subscribers import subscribe as notifications_subscribe

    notifications_subscribe(runtime.bus, settings)
    return runtime


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    if settings is None and runtime is None:
        # Started from the environment (`flask --app app`, gunicorn): a bad setting
        # ends the start with one line, not a traceback wall.
        try:
            settings = load_settings()
        except ConfigError as exc:
            raise SystemExit(f"pendel: configuration error: {exc}") from None
    runtime = runtime or build_process_runtime(settings)
    settings = runtime.settings
    app = Flask(__name__, instance_path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "instance"))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        TESTING=settings.testing,
    )
    app.session_interface = CookieSessions()
    app.extensions["pendel"] = runtime
    set_job_runtime(runtime)
    register_error_handlers(app)
    install_input_guards(app)  # before any blueprint: every route gets the bounded id converter
    app.teardown_appcontext(close_db_session)

    from calendars.api import calendars_api_bp
    from calendars.pages import install_calendar_warnings
    from calendars.feed_api import feeds_api_bp
    from calendars.feed_views import feeds_bp, install_feed_log_filter
    from core.views import add_nav_item, auth_bp, health_bp
    from notifications.api import notifications_api_bp
    from notifications.webhooks import sms_webhooks_bp
    from scheduler.api import api_bp
    from scheduler.pages import staff_bp
    from telephony.pages import callback_pages_bp
    from telephony.api import telephony_api_bp
    from telephony.staff_voice_views import staff_voice_bp
    from telephony.voice_views import texts_allowed_by, voice_bp
    from notifications.inbound_models import number_opted_out

    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(callback_pages_bp)  # also adds the overview's callback section
    add_nav_item(app, "staff.home", "Overzicht", "Overview")
    add_nav_item(app, "callback_pages.queue", "Terugbelverzoeken", "Callbacks")
    add_nav_item(app, "callback_pages.duty", "Bereikbaarheid", "On duty")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(notifications_api_bp, url_prefix="/api/v1")
    app.register_blueprint(calendars_api_bp, url_prefix="/api/v1")
    app.register_blueprint(telephony_api_bp, url_prefix="/api/v1")
    install_calendar_warnings(app)
    app.register_blueprint(sms_webhooks_bp)
    app.register_blueprint(voice_bp)
    # The phone line offers a confirmation text only to a number that did not text STOP (notifications').
    texts_allowed_by(app, lambda session, number: not number_opted_out(session, settings, number))
    app.register_blueprint(staff_voice_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(feeds_api_bp, url_prefix="/api/v1")
    install_feed_log_filter(app)

    from calendars.cli import register_commands as calendar_commands
    from core.cli import register_commands as core_commands
    from scheduler.cli import register_commands as scheduler_commands

    for register in (core_commands, scheduler_commands, calendar_commands):
        register(app)
    return app


def main() -> None:
    """Development server on the embedded defaults."""
    os.environ.setdefault("PENDEL_ENV", "development")
    os.environ.setdefault("TWILIO_SKIP_SIGNATURE_CHECK", "true")
    host = os.environ.get("HOST", "127.0.0.1")
    try:
        port = int(os.environ.get("PORT", "5000"))
    except ValueError:
        sys.exit("pendel: configuration error: PORT must be a port number")
    # The phone line's TwiML points Twilio at PUBLIC_BASE_URL: on another port, follow it.
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}")
    try:
        app = create_app()
    except ConfigError as exc:
        sys.exit(f"pendel: configuration error: {exc}")
    runtime: Runtime = app.extensions["pendel"]
    from core.migrate import upgrade
    from core.queue import start_thread_worker
    from scheduler.demo import DEMO_PASSWORD, load_demo_if_empty

    upgrade(runtime.db.engine)
    with runtime.db.write_session() as session:
        if load_demo_if_empty(session, with_users=True):
            from core.db import utcnow
            from telephony.demo import load_demo_callbacks

            load_demo_callbacks(session, utcnow(), runtime.settings, runtime.workdays)
            print(f"demo data loaded; sign in as coordinator@example.org / {DEMO_PASSWORD}")
    if runtime.settings.redis_url is None:
        from notifications.periodic import start_periodic_thread

        start_thread_worker(runtime.redis)
        start_periodic_thread(runtime)  # dispatch and purge; with REDIS_URL, worker.py processes do this
    app.run(host=host, port=port, debug=False, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
