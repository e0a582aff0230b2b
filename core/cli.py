"""`flask --app app ...` commands of core: database upgrade, API tokens.

Each package registers its own commands (scheduler: users and demo data;
calendars: sync), composed in app.py. Each prints one line on bad input and
exits non-zero; none changes anything before its input is valid.
"""
from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from core.auth import issue_token
from core.models import User
from core.runtime import Runtime


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["pendel"]


def register_commands(app: Flask) -> None:
    @app.cli.command("db-upgrade")
    def db_upgrade() -> None:
        """Create or upgrade the database schema to the newest migration."""
        from core.migrate import upgrade

        upgrade(runtime_of(app).db.engine)
        click.echo("database is up to date")

    @app.cli.command("issue-token")
    @click.option("--email", required=True)
    @click.option("--label", default="cli")
    def issue_token_command(email: str, label: str) -> None:
        """Issue a new API bearer token for an existing user (printed once)."""
        with runtime_of(app).db.write_session() as session:
            user = session.scalar(select(User).where(User.email == email.strip().lower()))
            if user is None:
                raise click.ClickException(f"no user with email {email}")
            plain = issue_token(session, user, label)
        click.echo(plain)
