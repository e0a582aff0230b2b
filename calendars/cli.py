"""`flask --app app sync-calendars`: the calendar sync, run in the command itself."""
from __future__ import annotations

import click
from flask import Flask

from calendars.models import CalendarSource
from calendars.sync import sync_all, sync_source
from core.cli import runtime_of
from core.db import utcnow


def register_commands(app: Flask) -> None:
    @app.cli.command("sync-calendars")
    @click.option("--source", "source_id", type=int, default=None, help="only this calendar source (by id)")
    def sync_calendars(source_id: int | None) -> None:
        """Sync calendar sources now, in this command: every active one, or --source ID.

        One line per source (id, status, busy count, the error if any; never the
        address); exits 1 when any source failed, for cron and monitoring.
        """
        runtime = runtime_of(app)
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
