"""Every page form carries a token; a POST without it (or with another session's) changes nothing."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.auth import create_user
from core.db import Database
from core.models import User
from tests.support.forms import csrf_token_of

PASSWORD = "a long enough password"


def _user(database: Database) -> None:
    with database.write_session() as s:
        create_user(s, "coord@example.org", "Coco", "coordinator", PASSWORD)


def test_sign_in_without_the_form_token_is_refused_and_signs_nobody_in(client: Any, database: Database) -> None:
    _user(database)
    refused = client.raw_post("/login", data={"email": "coord@example.org", "password": PASSWORD})
    assert refused.status_code == 400
    assert "niets gewijzigd" in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out


def test_a_token_from_another_browser_does_not_count(app: Any, database: Database) -> None:
    _user(database)
    theirs, ours = app.test_client(), app.test_client()
    token = csrf_token_of(theirs.get("/login").get_data(as_text=True))
    ours.get("/login")
    refused = ours.raw_post("/login", data={"email": "coord@example.org", "password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 400


def test_language_switch_needs_the_token_and_keeps_the_users_choice(client: Any, database: Database) -> None:
    _user(database)
    assert client.post("/login", data={"email": "coord@example.org", "password": PASSWORD}).status_code == 302
    assert client.raw_post("/language", data={"language": "en"}).status_code == 400
    with database.session() as s:
        assert s.scalar(select(User.language)) == "nl"
    assert client.post("/language", data={"language": "xx"}).status_code == 400
    switched = client.post("/language", data={"language": "en", "next": "//evil.example/"})
    assert switched.status_code == 302 and switched.headers["Location"] == "/"
    with database.session() as s:
        assert s.scalar(select(User.language)) == "en"
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Sign in" in html and "Aanmelden" not in html


def test_every_form_on_the_sign_in_page_carries_a_token(client: Any) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert html.count("<form") == html.count('name="csrf_token"') >= 2
