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

from composition import build_process_runtime
from core.auth import CookieSessions
from core.config import ConfigError, Settings, load_settings
from core.inputs import install as install_input_guards
from core.jobcontext import set_job_runtime, set_runtime_builder
from core.problems import register_error_handlers
from core.runtime import Runtime, close_db_session

__all__ = ["build_process_runtime", "create_app", "main"]
# A job run in a process that imported the app, with no runtime handed over, builds one the same way.
set_runtime_builder(build_process_runtime)


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

    from composition import PLUGINS, glue_web, periodic_tasks
    from core.cli import register_commands as core_commands
    from core.navigation import add_nav_item, install_navigation
    from core.views import auth_bp, health_bp
    from core.web import install_web

    install_web(app, [plugin.name for plugin in PLUGINS])  # language, CSRF, headers, static files, labels
    install_navigation(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    core_commands(app, periodic_tasks)  # `flask purge` runs the packages' purge tasks
    for plugin in PLUGINS:
        if plugin.install_web is not None:
            plugin.install_web(app)
        for item in plugin.nav:
            add_nav_item(app, item)
        if plugin.register_commands is not None:
            plugin.register_commands(app)
    glue_web(app)
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
        from composition import periodic_tasks
        from core.periodic import start_periodic_thread

        start_thread_worker(runtime.redis)
        start_periodic_thread(runtime, periodic_tasks())  # with REDIS_URL, worker.py processes do this
    app.run(host=host, port=port, debug=False, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
