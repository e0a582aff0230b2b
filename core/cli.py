"""`flask --app app ...` commands of core: database upgrade, the purge on demand, API tokens.

Each package registers its own commands (scheduler: users and demo data;
calendars: sync), composed in app.py. Each prints one line on bad input and
exits non-zero; none changes anything before its input is valid.
"""
from __future__ import annotations

from typing import Callable

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from core.auth import issue_token
from core.models import User
from core.plugins import PeriodicTask
from core.runtime import Runtime


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["pendel"]


def register_commands(app: Flask, periodic_tasks: Callable[[], tuple[PeriodicTask, ...]] = tuple) -> None:
    """Core's commands; `periodic_tasks` (from the composition) gives `purge` the packages' purge tasks."""
    @app.cli.command("db-upgrade")
    def db_upgrade() -> None:
        """Create or upgrade the database schema to the newest migration."""
        from core.migrate import upgrade

        upgrade(runtime_of(app).db.engine)
        click.echo("database is up to date")

    @app.cli.command("purge")
    @click.option("--dry-run", is_flag=True, help="Say what would go, and change nothing.")
    def purge_command(dry_run: bool) -> None:
        """Run what the hourly purge and erasure run, now, and print what went per kind of record.

        Erasure of closed cases takes one batch per run (scheduler.periodic.ERASE_BATCH); the
        periodic loop takes the next batch at once after a full one."""
        from core.db import utcnow
        from core.periodic import run_once

        runtime = runtime_of(app)
        tasks = [t for t in periodic_tasks() if t.name.startswith(("purge-", "erase-"))]
        now = utcnow()
        verb = "would remove" if dry_run else "removed"
        for task in tasks:
            try:
                counts = run_once(task, runtime.db, now, runtime.settings, dry_run=dry_run)
            except DBAPIError as exc:  # one line, not a traceback: most often a database not yet upgraded
                raise click.ClickException(f"{task.name}: the database refused it ({type(exc.orig).__name__}); "
                                           "is it reachable and up to date (flask --app app db-upgrade)?") from None
            if counts is None:
                click.echo(f"{task.name}: skipped, another process is running it now")
                continue
            words = ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "nothing"
            click.echo(f"{task.name}: {verb} {words}")

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
