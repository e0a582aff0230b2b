"""Shared fixtures: real PostgreSQL (a private database per run), SQLite, the app.

PostgreSQL comes from TEST_DATABASE_URL (default: the local server's `test`
database, used only to create and drop our own). Under CI=true a missing
service fails the run instead of skipping.
"""
from __future__ import annotations

import logging
import os
import shutil
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from flask import Flask
from sqlalchemy.exc import OperationalError

from composition import metadata
from core.config import Settings
from core.db import Database
from core.migrate import upgrade
from tests.support.forms import CsrfClient
from tests.support.log_guard import GUARD as LOG_GUARD

# Every app the tests build posts its forms with the page's token, as a browser does (tests/support/forms.py).
Flask.test_client_class = CsrfClient
logging.getLogger().addHandler(LOG_GUARD)  # no test's logs carry personal data (tests/support/log_guard.py)
if logging.getLogger().level > logging.INFO:
    logging.getLogger().setLevel(logging.INFO)

ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
# Tests use a database number of their own on the shared Redis and never flush it.
def _redis_test_url() -> str:
    """TEST_REDIS_URL (default database 13); under pytest-xdist each worker counts down from it (13, 12, 11...),
    so two workers' queues never meet."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    base, _, db = url.rpartition("/")
    return f"{base}/{int(db or 0) - int(worker[2:])}"


REDIS_TEST_URL = _redis_test_url()

# `--clock-offset-days=N` runs the suite (and the Python processes it starts) N days ahead.
pytest_plugins = ("tests.support.clock_offset",)


def service_unavailable(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is not reachable and CI=true: failing instead of skipping", pytrace=False)
    pytest.skip(f"{what} is not reachable")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        conn = admin.connect()
    except OperationalError:
        service_unavailable(f"PostgreSQL at {make_url(ADMIN_URL).render_as_string()}")
    name = f"pendel_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    upgrade(db.engine)
    db.dispose()
    try:
        yield url
    finally:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.close()
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    db.dispose()
    return path


def _truncate(db: Database) -> None:
    tables = [t.name for t in reversed(metadata().sorted_tables)]
    with db.engine.begin() as conn:
        if db.is_sqlite:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
        else:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database; PostgreSQL unless the test asks for sqlite (indirect parametrize)."""
    if request.param == "sqlite":
        path = tmp_path / "pendel.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_url")
    db = Database(url)
    _truncate(db)
    try:
        yield db
    finally:
        db.dispose()


both_databases = pytest.mark.parametrize("database", ["postgresql", "sqlite"], indirect=True)


@pytest.fixture
def settings(database: Database) -> Settings:
    return Settings(environment="testing", database_url=database.url, secret_key="test-secret",
                    twilio_auth_token="test-auth-token", public_base_url="https://pendel.test",
                    office_phone="030 123 4567")


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    from app import create_app
    from tests.support.leak_check import install_leak_check

    flask_app = create_app(settings)
    install_leak_check(flask_app)  # no participant page of any test shows another participant's details
    yield flask_app
    flask_app.extensions["pendel"].db.dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runtime(app):  # type: ignore[no-untyped-def]
    return app.extensions["pendel"]


def with_settings(settings: Settings, **changes: object) -> Settings:
    return replace(settings, **changes)  # type: ignore[arg-type]


@pytest.fixture
def real_redis():  # type: ignore[no-untyped-def]
    """The shared Redis, on the tests' own database number; fails under CI=true when it is down."""
    import redis

    conn = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        conn.ping()
    except redis.exceptions.ConnectionError:
        service_unavailable(f"Redis at {REDIS_TEST_URL}")
    yield conn
    conn.close()


@pytest.fixture(autouse=True)
def no_personal_data_in_logs() -> Iterator[None]:
    """Fail a test whose logs carried a phone number, an email, a token, a name or message text."""
    LOG_GUARD.found.clear()
    yield
    found, LOG_GUARD.found[:] = sorted(set(LOG_GUARD.found)), []
    assert not found, f"personal data in the logs: {found}"
