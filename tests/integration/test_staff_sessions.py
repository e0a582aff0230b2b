"""Staff sessions live on the server: sign-out, signing in again, idle and absolute lifetimes end them."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from sqlalchemy import select

from core import sessions
from core.db import Database, utcnow
from tests.conftest import both_databases
from tests.integration.test_auth import OURS, _app_with, _login, _signed_in


def _cookie(client: Any) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


@both_databases
def test_signing_out_makes_the_old_cookie_worthless(app: Any, client: Any, database: Database) -> None:
    _signed_in(client, database)
    kept = _cookie(client)  # what a shared computer, a proxy or a thief may still have
    assert client.post("/logout", headers=OURS).status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", kept)
    assert replay.get("/").status_code == 302
    assert replay.get("/callbacks").status_code == 302
    assert replay.get("/api/v1/me").status_code == 401
    assert replay.post("/duty", data={"phone": "06 12345678"}, headers=OURS).status_code == 302
    with database.session() as session:
        row = session.scalars(select(sessions.StaffSession)).one()
        assert row.ended_at is not None


def test_signing_in_again_ends_the_browsers_earlier_session(app: Any, client: Any, database: Database) -> None:
    _signed_in(client, database)
    first = _cookie(client)
    assert _login(client).status_code == 302
    assert _cookie(client) != first
    replay = app.test_client()
    replay.set_cookie("session", first)
    assert replay.get("/").status_code == 302
    assert client.get("/").status_code == 200


@both_databases
def test_a_session_ends_after_the_idle_time(settings: Any, database: Database) -> None:
    with _app_with(settings, session_idle_minutes=30, session_max_hours=8) as app:
        client = app.test_client()
        with time_machine.travel(utcnow(), tick=False) as clock:
            _signed_in(client, database)
            for _ in range(4):  # used every 29 minutes: still signed in after almost two hours
                clock.shift(timedelta(minutes=29))
                assert client.get("/").status_code == 200
            kept = _cookie(client)
            clock.shift(timedelta(minutes=31))
            assert client.get("/").status_code == 302
            clock.shift(timedelta(seconds=-90))  # a server whose clock lags: the session stays over
            replay = app.test_client()
            replay.set_cookie("session", kept)
            assert replay.get("/").status_code == 302
        with database.session() as session:
            assert session.scalars(select(sessions.StaffSession)).one().ended_at is not None


def test_a_session_ends_after_the_absolute_time_however_busy(settings: Any, database: Database) -> None:
    with _app_with(settings, session_idle_minutes=60, session_max_hours=2) as app:
        client = app.test_client()
        with time_machine.travel(utcnow(), tick=False) as clock:
            _signed_in(client, database)
            for _ in range(11):
                clock.shift(timedelta(minutes=10))
                assert client.get("/").status_code == 200
            clock.shift(timedelta(minutes=10, seconds=1))
            assert client.get("/").status_code == 302
            assert _login(client).status_code == 302  # a new sign-in starts a new session
            assert client.get("/").status_code == 200
