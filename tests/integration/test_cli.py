"""`flask --app app ...` commands, run through Flask's CLI runner against the test database."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select

from app import create_app
from composition import metadata
from core.auth import check_password, token_digest
from core.config import Settings
from core.db import Database
from core.models import ApiToken, User
from scheduler.models import Case, Location, Mediator
from tests import factories
from tests.conftest import with_settings

PASSWORD = "correct horse battery"


def _one_line_error(result: Any) -> str:
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


def _users(database: Database) -> list[User]:
    with database.session() as session:
        return list(session.scalars(select(User).order_by(User.id)))


def _create(runner: Any, *extra: str, email: str = "coord@example.org", role: str = "coordinator",
            password: str | None = PASSWORD) -> Any:
    args = ["create-user", "--email", email, "--name", "Co Ördinator", "--role", role, *extra]
    if password is not None:
        args += ["--password", password]
    return runner.invoke(args=args)


# --- db-upgrade ------------------------------------------------------------------

def test_db_upgrade_creates_the_schema_and_is_idempotent(tmp_path: Path) -> None:
    db_path = tmp_path / "fresh.db"
    app = create_app(Settings(environment="testing", secret_key="x", database_url=f"sqlite:///{db_path}"))
    try:
        runner = app.test_cli_runner()
        engine = app.extensions["pendel"].db.engine
        assert inspect(engine).get_table_names() == []
        first = runner.invoke(args=["db-upgrade"])
        assert first.exit_code == 0, first.output
        assert first.output.strip() == "database is up to date"
        assert set(metadata().tables) <= set(inspect(engine).get_table_names())
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO locations (name, address, city) VALUES ('L', 'A', 'Utrecht')")
        second = runner.invoke(args=["db-upgrade"])
        assert second.exit_code == 0, second.output
        with engine.connect() as conn:  # nothing was dropped or rebuilt
            assert conn.exec_driver_sql("SELECT count(*) FROM locations").scalar_one() == 1
    finally:
        app.extensions["pendel"].db.dispose()


def test_db_upgrade_on_the_migrated_postgresql(app: Any, database: Database) -> None:
    result = app.test_cli_runner().invoke(args=["db-upgrade"])
    assert result.exit_code == 0, result.output
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()


# --- create-user -----------------------------------------------------------------

def test_create_user(app: Any, database: Database) -> None:
    result = _create(app.test_cli_runner(), email="Coord@Example.org")
    assert result.exit_code == 0, result.output
    assert result.output.strip().lower() == "created coordinator coord@example.org"
    assert "pdl_" not in result.output  # no token unless asked for
    [user] = _users(database)
    assert (user.email, user.role, user.name, user.active) == ("coord@example.org", "coordinator", "Co Ördinator", True)
    assert check_password(user, PASSWORD)
    assert PASSWORD not in user.password_hash and PASSWORD not in result.output


def test_create_user_asks_for_the_password_twice_when_not_given(app: Any, database: Database) -> None:
    runner = app.test_cli_runner()
    mismatch = runner.invoke(args=["create-user", "--email", "a@example.org", "--name", "A", "--role", "admin"],
                             input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n")
    assert mismatch.exit_code == 0, mismatch.output
    assert "do not match" in mismatch.output
    assert PASSWORD not in mismatch.output  # hidden input
    [user] = _users(database)
    assert user.role == "admin" and check_password(user, PASSWORD)


def test_duplicate_email_is_one_line_error(app: Any, database: Database) -> None:
    runner = app.test_cli_runner()
    assert _create(runner).exit_code == 0
    line = _one_line_error(_create(runner, email="COORD@example.org", role="admin"))
    assert "already exists" in line
    assert [u.role for u in _users(database)] == ["coordinator"]


def test_short_password_is_one_line_error(app: Any, database: Database) -> None:
    line = _one_line_error(_create(app.test_cli_runner(), password="kort"))
    assert "at least 10 characters" in line
    assert _users(database) == []


def test_bad_email_role_and_phone_are_refused(app: Any, database: Database) -> None:
    runner = app.test_cli_runner()
    assert "email" in _one_line_error(_create(runner, email="not-an-email"))
    result = _create(runner, role="janitor")
    assert result.exit_code != 0 and "janitor" in result.output
    assert "phone" in _one_line_error(_create(runner, "--phone", "12345"))
    assert _users(database) == []


def test_phone_is_stored_in_e164(app: Any, database: Database) -> None:
    result = _create(app.test_cli_runner(), "--phone", "06 12345678")
    assert result.exit_code == 0, result.output
    assert _users(database)[0].phone == "+31612345678"


def test_mediator_account_is_linked_to_its_mediator(app: Any, database: Database) -> None:
    with database.write_session() as session:
        mediator_id = factories.mediator(session).id
    result = _create(app.test_cli_runner(), "--mediator-id", str(mediator_id), email="m@example.org",
                     role="mediator")
    assert result.exit_code == 0, result.output
    [user] = _users(database)
    with database.session() as session:
        assert session.get(Mediator, mediator_id).user_id == user.id  # type: ignore[union-attr]


@pytest.mark.parametrize("role", ["coordinator", "mediator"])
def test_bad_mediator_link_creates_nothing(app: Any, database: Database, role: str) -> None:
    with database.write_session() as session:
        mediator_id = factories.mediator(session).id
    target = mediator_id if role == "coordinator" else mediator_id + 1000  # wrong role / unknown mediator
    line = _one_line_error(_create(app.test_cli_runner(), "--mediator-id", str(target), role=role))
    assert "--mediator-id" in line
    assert _users(database) == []
    with database.session() as session:
        assert session.get(Mediator, mediator_id).user_id is None  # type: ignore[union-attr]


def test_token_is_printed_once_and_opens_the_api(app: Any, database: Database) -> None:
    result = _create(app.test_cli_runner(), "--token")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "created coordinator coord@example.org"
    assert lines[1].startswith("API token (shown once): pdl_")
    token = lines[1].rsplit(" ", 1)[1]
    with database.session() as session:
        assert session.scalar(select(ApiToken.token_hash)) == token_digest(token)
    client = app.test_client()
    assert client.get("/api/v1/mediators").status_code == 401
    response = client.get("/api/v1/mediators", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    bad = client.get("/api/v1/mediators", headers={"Authorization": f"Bearer {token[:-2]}xx"})
    assert bad.status_code == 401


def test_issue_token_for_an_existing_user(app: Any, database: Database) -> None:
    runner = app.test_cli_runner()
    assert _create(runner).exit_code == 0
    result = runner.invoke(args=["issue-token", "--email", "COORD@example.org", "--label", "script"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("pdl_")
    response = app.test_client().get("/api/v1/mediators", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert "no user" in _one_line_error(runner.invoke(args=["issue-token", "--email", "nobody@example.org"]))


# --- load-demo -----------------------------------------------------------------------

def _count(database: Database, model: Any) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_load_demo_if_empty_loads_once(app: Any, database: Database) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["load-demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "demo data loaded"
    counts = (_count(database, Mediator), _count(database, Location), _count(database, Case))
    assert all(counts)
    second = runner.invoke(args=["load-demo", "--if-empty"])
    assert second.exit_code == 0, second.output
    assert "not empty" in second.output
    assert (_count(database, Mediator), _count(database, Location), _count(database, Case)) == counts
    assert _count(database, User) == 0


def test_load_demo_with_users_outside_production(app: Any, database: Database) -> None:
    result = app.test_cli_runner().invoke(args=["load-demo", "--if-empty", "--with-users"])
    assert result.exit_code == 0, result.output
    assert "coordinator@example.org" in result.output
    assert {u.role for u in _users(database)} == {"coordinator", "mediator"}


def test_load_demo_with_users_is_refused_in_production(settings: Settings, database: Database) -> None:
    production = with_settings(settings, environment="production")
    app = create_app(production)
    try:
        line = _one_line_error(app.test_cli_runner().invoke(args=["load-demo", "--if-empty", "--with-users"]))
        assert "production" in line
        assert _count(database, Mediator) == 0 and _count(database, User) == 0
        # Demo places without sign-ins are allowed there (a trial install).
        plain = app.test_cli_runner().invoke(args=["load-demo", "--if-empty"])
        assert plain.exit_code == 0, plain.output
        assert _count(database, Mediator) > 0 and _count(database, User) == 0
    finally:
        app.extensions["pendel"].db.dispose()
