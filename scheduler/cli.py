"""`flask --app app ...` commands of scheduler: staff accounts (linked to a mediator) and demo data."""
from __future__ import annotations

import click
from flask import Flask

from core.auth import create_user, issue_token
from core.cli import runtime_of
from core.models import ROLES
from scheduler.contact import normalize_phone
from scheduler.demo import DEMO_PASSWORD, load_demo as load, load_demo_if_empty
from scheduler.models import Mediator


def register_commands(app: Flask) -> None:
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
        with runtime_of(app).db.write_session() as session:
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

    @app.cli.command("load-demo")
    @click.option("--if-empty", is_flag=True, help="only when the database holds no mediators yet")
    @click.option("--with-users", is_flag=True, help="also demo sign-ins with a published password (never in production)")
    def load_demo(if_empty: bool, with_users: bool) -> None:
        """Load demo mediators, rooms, cases and participants."""
        with runtime_of(app).db.write_session() as session:
            if with_users and runtime_of(app).settings.environment == "production":
                raise click.ClickException("--with-users is refused in production")
            loaded = load_demo_if_empty(session, with_users) if if_empty else (load(session, with_users) or True)
        click.echo("demo data loaded" if loaded else "database not empty: demo data left out")
        if loaded and with_users:
            click.echo(f"sign in as coordinator@example.org / {DEMO_PASSWORD}")
