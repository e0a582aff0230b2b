"""Database: engine, sessions, the UTC-aware time column and the write transaction.

SQLite (the embedded default) and PostgreSQL (production, tests) behave alike
here: times go in and come out as UTC-aware datetimes, and `write_session`
opens a transaction that serialises bookings (`BEGIN IMMEDIATE` on SQLite; on
PostgreSQL the booking code locks rows and the exclusion constraint holds).
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy import DateTime, Insert, MetaData, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")
log = logging.getLogger(__name__)
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned UTC-aware.

    SQLite has no time zones and hands back naive values; PostgreSQL's
    timestamptz comes back in the session's zone. Both become UTC here, and a
    naive value going in is a programming error, not something to guess about.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is timezone.utc:  # the common case on our UTC connections: nothing to convert
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


@lru_cache(maxsize=32)
def insert_unless_exists(dialect_name: str, table: Table, key: tuple[str, ...], returning: tuple[str, ...],
                         key_where_sql: str | None = None) -> Insert:
    """`INSERT … ON CONFLICT (key) DO NOTHING RETURNING …` for this dialect, built once.

    Returns no row when a row with that key exists, or when a parallel
    transaction has just inserted one (PostgreSQL waits for it to commit
    first): one statement where a SELECT followed by an INSERT would race.
    `key_where_sql` names a partial unique index's condition.
    """
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (dialect.insert(table)
            .on_conflict_do_nothing(index_elements=[table.c[name] for name in key],
                                    index_where=text(key_where_sql) if key_where_sql else None)
            .returning(*(table.c[name] for name in returning)))


def make_engine(url: str, pre_ping: bool = True, **kwargs: Any) -> Engine:
    """An engine whose pool tests each connection before handing it out, unless `pre_ping` is off."""
    # Statement parameters hold names, numbers and message text: keep them out of exception
    # messages and logs (invariant 6), which otherwise quote them in full.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    # Sessions in UTC: timestamps arrive with the built-in UTC zone, cheap to handle and never
    # shifted by a server's local setting.
    connect_args = {"options": "-c TimeZone=UTC"} if url.startswith("postgresql") else {}
    return create_engine(url, pool_pre_ping=pre_ping, connect_args=connect_args, **kwargs)


def once_more_if_disconnected(work: Callable[[], T]) -> T:
    """Run `work`; if its database connection turned out to be gone, run it once more.

    For idempotent work on `Database.write_connection`, whose pool does not
    test connections first: SQLAlchemy invalidates the dead connection and
    every other one the pool held before it, so the second run gets a new one.
    """
    try:
        return work()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("the database connection was gone; doing the work again on a new one")
        return work()


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    path = url.split("///", 1)[-1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so we can say BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if path and path != ":memory:":
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """Engine plus session factory; one per app (or worker, or CLI run)."""

    def __init__(self, url: str, event_bus: Any = None, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        # The same database on a pool of its own that does not ping connections before use (see
        # write_connection). It opens connections only when used, so processes without webhooks pay nothing.
        self.unpinged_engine = (self.engine if self.engine.dialect.name == "sqlite"
                                else make_engine(url, pre_ping=False, **engine_kwargs))
        # Every session carries the app's event bus, so services can publish.
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info={"event_bus": event_bus})

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reads and ordinary writes; the caller commits."""
        session = self.sessions()
        try:
            yield session
        finally:
            session.close()

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A unit of work that commits at the end, or rolls back on error.

        On SQLite the transaction starts as BEGIN IMMEDIATE, so two bookings
        never interleave; on PostgreSQL the booking code takes row locks.
        """
        session = self.sessions()
        try:
            if self.is_sqlite:
                session.connection(execution_options={"sqlite_immediate": True})
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def write_connection(self) -> Iterator[tuple[Connection, Session]]:
        """A write transaction on a plain connection, and a session that joins it.

        For hot paths that mostly run prebuilt statements (the phone line's
        webhooks): the connection does the work; the session, bound to it, is
        there for the occasional ORM write and for domain events, and is
        flushed before the one commit. The connection comes from a pool that
        does not ping it first (a ping costs about what a key press's own
        statement does), so the caller runs its work through
        `once_more_if_disconnected`, and the work must be safe to redo.
        """
        with self.unpinged_engine.connect() as conn:
            if self.is_sqlite:
                conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                session = self.sessions(bind=conn)
                try:
                    yield conn, session
                    session.flush()
                finally:
                    session.close()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.unpinged_engine is not self.engine:
            self.unpinged_engine.dispose()
