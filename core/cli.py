"""`flask --app app ...` commands: database upgrade, users, demo data, calendar sync.

Each prints one line on bad input and exits non-zero; none changes anything
before its input is valid.
"""
from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from core.auth import create_user, issue_token
from core.models import ROLES, User
from core.runtime import Runtime


def _runtime(app: Flask) -> Runtime:
    return app.extensions["pendel"]


def register_commands(app: Flask) -> None:
    @app.cli.command("db-upgrade")
    def db_upgrade() -> None:
        """Create or upgrade the database schema to the newest migration."""
        from core.migrate import upgrade

        upgrade(_runtime(app).db.engine)
        click.echo("database is up to date")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                  help="at least 10 characters; asked for when not given")
    @click.option("--phone", default=None, help="E.164 phone number, for staff on duty")
    @click.option("--mediator-id", type=int, default=None, help="link a mediator account to its mediator record")
    @click.option("--token", is_flag=True, help="also issue an API token and print it once")
    def create_user_command(email: str, name: str, role: str, password: str, phone: str | None,
                            mediator_id: int | None, token: bool) -> None:
        """Create a staff account (admin, coordinator or mediator)."""
        from scheduler.models import Mediator
        from scheduler.contact import normalize_phone

        with _runtime(app).db.write_session() as session:
            try:
                phone_e164 = normalize_phone(phone, "phone") if phone else None
                user = create_user(session, email, name, role, password, phone_e164)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
            except Exception as exc:  # InvalidInput from phone validation
                raise click.ClickException(getattr(exc, "detail", str(exc))) from None
            if mediator_id is not None:
                mediator = session.get(Mediator, mediator_id)
                if mediator is None or role != "mediator":
                    raise click.ClickException("--mediator-id needs --role mediator and an existing mediator")
                mediator.user_id = user.id
            plain = issue_token(session, user, "cli") if token else None
        click.echo(f"created {role} {email}")
        if plain:
            click.echo(f"API token (shown once): {plain}")

    @app.cli.command("issue-token")
    @click.option("--email", required=True)
    @click.option("--label", default="cli")
    def issue_token_command(email: str, label: str) -> None:
        """Issue a new API bearer token for an existing user (printed once)."""
        with _runtime(app).db.write_session() as session:
            user = session.scalar(select(User).where(User.email == email.strip().lower()))
            if user is None:
                raise click.ClickException(f"no user with email {email}")
            plain = issue_token(session, user, label)
        click.echo(plain)

    @app.cli.command("load-demo")
    @click.option("--if-empty", is_flag=True, help="only when the database holds no mediators yet")
    @click.option("--with-users", is_flag=True, help="also demo sign-ins with a published password (never in production)")
    def load_demo(if_empty: bool, with_users: bool) -> None:
        """Load demo mediators, rooms, cases and participants."""
        from scheduler.demo import DEMO_PASSWORD, load_demo as load, load_demo_if_empty

        with _runtime(app).db.write_session() as session:
            if with_users and _runtime(app).settings.environment == "production":
                raise click.ClickException("--with-users is refused in production")
            loaded = load_demo_if_empty(session, with_users) if if_empty else (load(session, with_users) or True)
        click.echo("demo data loaded" if loaded else "database not empty: demo data left out")
        if loaded and with_users:
            click.echo(f"sign in as coordinator@example.org / {DEMO_PASSWORD}")

    @app.cli.command("sync-calendars")
    @click.option("--source", "source_id", type=int, default=None, help="only this calendar source (by id)")
    def sync_calendars(source_id: int | None) -> None:
        """Sync calendar sources now, in this command: every active one, or --source ID.

        One line per source (id, status, busy count, the error if any; never the
        address); exits 1 when any source failed, for cron and monitoring.
        """
        from calendars.models import CalendarSource
        from calendars.sync import sync_all, sync_source
        from core.db import utcnow

        runtime = _runtime(app)
        if source_id is not None:
            with runtime.db.session() as session:
                if session.get(CalendarSource, source_id) is None:
                    raise click.ClickException(f"no calendar source with id {source_id}")
            outcomes = [sync_source(runtime.db, source_id, utcnow(), runtime.settings)]
        else:
            outcomes = sync_all(runtime.db, utcnow(), runtime.settings)
        for o in outcomes:
            click.echo(f"source {o.source_id}: {o.status}, {o.busy_count} busy"
                       + (f" ({o.error})" if o.error else ""))
        if not outcomes:
            click.echo("no active calendar sources")
        if any(o.status == "error" for o in outcomes):
            raise SystemExit(1)
