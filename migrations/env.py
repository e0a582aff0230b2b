"""Alembic environment: runs migrations against the configured database."""
from __future__ import annotations

import os

from alembic import context

from composition import metadata as full_metadata
from core.config import _database_url
from core.db import make_engine

metadata = full_metadata()  # every plugin's tables (composition.py), for autogenerate and comparisons

config = context.config
url = config.get_main_option("sqlalchemy.url") or _database_url(os.environ.get("DATABASE_URL"))


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
