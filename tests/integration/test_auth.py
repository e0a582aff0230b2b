"""Staff sign-in: hashed passwords and tokens, the login page, and what guards pages and the API."""
from __future__ import annotations

import re

from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Iterator

import pytest
from sqlalchemy import select, update

from composition import metadata
from core import sessions
from core.auth import check_password, create_user, hash_password, issue_token, token_digest, user_for_token
from core.db import Database, utcnow
from core.models import ApiToken, User
from scheduler.models import Participant
from tests import factories
from tests.conftest import both_databases, with_settings

PASSWORD = "correct horse battery"


def _user(database: Database, email: str = "coord@example.org", role: str = "coordinator",
          password: str = PASSWORD) -> int:
    with database.write_session() as session:
        return create_user(session, email, "Co Ördinator", role, password).id


def _login(client: Any, email: str = "coord@example.org", password: str = PASSWORD, next_: str | None = None) -> Any:
    url = "/login" if next_ is None else f"/login?next={next_}"
    return client.post(url, data={"email": email, "password": password})


# --- passwords and tokens, at the service level ----------------------------------

def test_password_hash_is_scrypt_and_not_the_password(database: Database) -> None:
    user_id = _user(database)
    with database.session() as session:
        user = session.get(User, user_id)
        assert user is not None
        assert PASSWORD not in user.password_hash
        assert user.password_hash.startswith("scrypt:")
        assert check_password(user, PASSWORD)
        assert not check_password(user, PASSWORD + "!")
        assert not check_password(user, "")
    # Salted: the same password never hashes the same way twice.
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


def test_unknown_user_and_inactive_user_fail(database: Database) -> None:
    user_id = _user(database)
    assert check_password(None, PASSWORD) is False
    with database.write_session() as session:
        user = session.get(User, user_id)
        assert user is not None
        user.active = False
    with database.session() as session:
        assert check_password(session.get(User, user_id), PASSWORD) is False


@pytest.mark.parametrize(("email", "role", "password", "message"), [
    ("a@example.org", "coordinator", "short", "at least 10"),
    ("not-an-email", "coordinator", PASSWORD, "email"),
    ("a@example.org", "janitor", PASSWORD, "role"),
])
def test_create_user_refuses_bad_input(database: Database, email: str, role: str, password: str,
                                       message: str) -> None:
    with database.write_session() as session:
        with pytest.raises(ValueError, match=message):
            create_user(session, email, "X", role, password)
    with database.session() as session:
        assert session.scalars(select(User)).all() == []


def test_duplicate_email_is_refused_case_insensitively(database: Database) -> None:
    _user(database, "Coord@Example.org")
    with database.write_session() as session:
        with pytest.raises(ValueError, match="already exists"):
            create_user(session, "coord@example.ORG ", "Other", "admin", PASSWORD)


def _everything_in_the_database(database: Database) -> str:
    dump = []
    with database.engine.connect() as conn:
        for table in metadata().sorted_tables:
            dump.extend(repr(tuple(row)) for row in conn.execute(table.select()))
    return "\n".join(dump)


def test_api_token_is_stored_only_as_sha256(database: Database) -> None:
    user_id = _user(database)
    with database.write_session() as session:
        user = session.get(User, user_id)
        assert user is not None
        plain = issue_token(session, user, "script")
    assert plain.startswith("pdl_") and len(plain) > 40
    everything = _everything_in_the_database(database)
    assert plain not in everything
    assert plain[4:] not in everything
    with database.session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.user_id == user_id))
        assert row is not None
        assert row.token_hash == token_digest(plain)
        assert len(row.token_hash) == 64 and int(row.token_hash, 16) >= 0
        assert user_for_token(session, plain).id == user_id  # type: ignore[union-attr]
        assert user_for_token(session, plain + "x") is None
        assert user_for_token(session, token_digest(plain)) is None  # the stored hash is not a token


# --- the API guard ---------------------------------------------------------------

def _token(database: Database, role: str = "coordinator") -> tuple[int, str]:
    with database.write_session() as session:
        user, headers = factories.staff(session, role)
        return user.id, headers["Authorization"].split(" ", 1)[1]


def test_valid_token_opens_the_api(client: Any, database: Database) -> None:
    _, token = _token(database)
    response = client.get("/api/v1/mediators", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_no_token_is_401_problem_json(client: Any) -> None:
    response = client.get("/api/v1/mediators")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 401 and body["title"] == "Unauthorized" and body["detail"]


@pytest.mark.parametrize("header", ["Bearer pdl_made-up-token", "Bearer ", "Basic dXNlcjpwYXNz", "pdl_x"])
def test_wrong_tokens_are_401(client: Any, database: Database, header: str) -> None:
    _token(database)
    response = client.get("/api/v1/mediators", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_revoked_token_is_401(client: Any, database: Database) -> None:
    user_id, token = _token(database)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/mediators", headers=headers).status_code == 200
    with database.write_session() as session:
        session.execute(update(ApiToken).where(ApiToken.user_id == user_id).values(revoked_at=utcnow()))
    response = client.get("/api/v1/mediators", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_token_of_a_deactivated_user_is_401(client: Any, database: Database) -> None:
    user_id, token = _token(database)
    with database.write_session() as session:
        session.execute(update(User).where(User.id == user_id).values(active=False))
    assert client.get("/api/v1/mediators", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# --- the login page and the session ------------------------------------------

def test_staff_page_without_login_redirects_to_login(client: Any) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert "next=/" in response.headers["Location"] or "next=%2F" in response.headers["Location"]


def test_login_page_renders_a_form(client: Any) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<form method="post"' in html
    assert 'name="email"' in html and 'name="password"' in html and 'type="password"' in html


def test_wrong_password_and_unknown_email_get_the_same_401(client: Any, database: Database) -> None:
    _user(database)
    wrong = _login(client, password="not the password")
    unknown = _login(client, email="nobody@example.org")
    for response in (wrong, unknown):
        assert response.status_code == 401
        html = response.get_data(as_text=True)
        assert 'role="alert"' in html and "verkeerd wachtwoord" in html
        assert "Set-Cookie" not in response.headers or "session=" not in response.headers.get("Set-Cookie", "")
    # Not telling which of the two was wrong (apart from the email typed, echoed back, and the form token).
    def page(response: Any) -> str:
        html = re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", response.get_data(as_text=True))
        return re.sub(r'(id="email"[^>]*value=")[^"]*"', r"\1", html)
    assert page(wrong) == page(unknown)
    assert client.get("/").status_code == 302


def test_right_password_signs_in_and_shows_the_overview(client: Any, database: Database) -> None:
    _user(database)
    response = _login(client, email="  COORD@example.org ")  # email is matched as typed by people
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    home = client.get("/")
    assert home.status_code == 200
    html = home.get_data(as_text=True)
    assert "Vandaag" in html and "Co Ördinator" in html  # the office's home is Today
    assert 'action="/logout"' in html


def test_next_leads_back_to_a_local_page(client: Any, database: Database) -> None:
    _user(database)
    response = _login(client, next_="/?tab=cases")
    assert response.status_code == 302
    assert response.headers["Location"] == "/?tab=cases"


@pytest.mark.parametrize("target", [
    "//evil.example", "//evil.example/path", "https://evil.example", "http:/evil.example",
    "/\\evil.example", "/%09/evil.example", "%2F%2Fevil.example", "javascript:alert(1)",
])
def test_open_redirect_is_not_followed(client: Any, database: Database, target: str) -> None:
    _user(database)
    response = _login(client, next_=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200  # signed in all the same


def test_logout_is_a_post_and_clears_the_session(client: Any, database: Database) -> None:
    _user(database)
    _login(client)
    assert client.get("/").status_code == 200
    assert client.get("/logout").status_code == 405  # a link or an image cannot sign anyone out
    assert client.get("/").status_code == 200
    response = client.post("/logout", headers={"Origin": "https://pendel.test"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    after = client.get("/")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")


def test_session_of_a_deactivated_user_no_longer_opens_pages(client: Any, database: Database) -> None:
    user_id = _user(database)
    _login(client)
    assert client.get("/").status_code == 200
    with database.write_session() as session:
        session.execute(update(User).where(User.id == user_id).values(active=False))
    assert client.get("/").status_code == 302


def test_session_cookie_is_signed(client: Any, database: Database, app: Any) -> None:
    # A cookie made with another secret key is not accepted, even carrying a live session's token.
    from flask.sessions import SecureCookieSessionInterface

    with database.write_session() as session:
        user = session.get(User, _user(database))
        token = sessions.begin(session, user, utcnow(), sessions.Lifetimes(timedelta(hours=1), timedelta(hours=8)))
    app.secret_key = "some-other-secret"
    forged = SecureCookieSessionInterface().get_signing_serializer(app).dumps({"sid": token})
    app.secret_key = "test-secret"
    client.set_cookie("session", forged)
    assert client.get("/").status_code == 302


# --- the API takes bearer tokens only; pages' POSTs come from our own pages ------------------

OURS = {"Origin": "https://pendel.test"}  # the settings fixture's PUBLIC_BASE_URL


def _signed_in(client: Any, database: Database, role: str = "coordinator") -> int:
    user_id = _user(database, role=role)
    assert _login(client).status_code == 302
    return user_id


def test_a_session_cookie_does_not_open_the_api(client: Any, database: Database) -> None:
    _signed_in(client, database)
    with database.write_session() as session:
        case = factories.case(session, [factories.mediator(session)])
        person = case.participants[0].id
    assert client.get("/").status_code == 200  # the cookie is good for pages
    me = client.get("/api/v1/me")
    assert me.status_code == 401 and me.mimetype == "application/problem+json"
    assert "Bearer" in me.get_json()["detail"]
    # What a form on another site would send along with the coordinator's cookie.
    for headers in ({"Origin": "https://evil.example"}, OURS, {}):
        withdrawn = client.post(f"/api/v1/participants/{person}/withdraw", headers=headers)
        assert withdrawn.status_code == 401
    with database.session() as session:
        assert session.get(Participant, person).withdrawn_at is None


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"}, {"Origin": "null"}, {"Origin": "https://pendel.test.evil.example"},
    {"Origin": "http://pendel.test"}, {"Origin": "https://pendel.test:8443"},
    {"Referer": "https://evil.example/page"}, {"Origin": "https://evil.example", "Referer": "https://pendel.test/"},
])
def test_a_post_from_another_site_changes_nothing(client: Any, database: Database, headers: dict[str, str]) -> None:
    user_id = _signed_in(client, database)
    for path, form in (("/logout", {}), ("/duty", {"phone": "06 12345678", "on_duty": "on"}),
                       ("/callbacks/1/claim", {}), ("/login", {"email": "coord@example.org", "password": PASSWORD})):
        refused = client.post(path, data=form, headers=headers)
        assert refused.status_code == 403, path
        html = refused.get_data(as_text=True)
        assert "niets gewijzigd" in html and "https://pendel.test/" in html
    with database.session() as session:
        user = session.get(User, user_id)
        assert (user.phone, user.on_duty) == (None, False)
    assert client.get("/").status_code == 200  # still signed in: the sign-out was refused too


@pytest.mark.parametrize("headers", [OURS, {"Origin": "https://PENDEL.test:443"},
                                     {"Referer": "https://pendel.test/duty"}, {}])
def test_a_post_from_our_own_pages_goes_through(client: Any, database: Database, headers: dict[str, str]) -> None:
    user_id = _signed_in(client, database)
    saved = client.post("/duty", data={"phone": "06 12345678", "on_duty": "on"}, headers=headers)
    assert saved.status_code == 303
    with database.session() as session:
        assert session.get(User, user_id).on_duty is True
    assert client.post("/logout", headers=headers).status_code == 302
    assert client.get("/").status_code == 302


@contextmanager
def _app_with(settings: Any, **changes: Any) -> Iterator[Any]:
    from app import create_app

    flask_app = create_app(with_settings(settings, **changes))
    try:
        yield flask_app
    finally:
        flask_app.extensions["pendel"].db.dispose()


def test_a_server_on_a_loopback_address_also_takes_its_own_address(settings: Any, database: Database) -> None:
    """`make run` says PUBLIC_BASE_URL=http://127.0.0.1:5000; a browser at localhost:5000 must work too.
    Elsewhere only PUBLIC_BASE_URL counts, whatever Host a request names."""
    with _app_with(settings, public_base_url="http://127.0.0.1:5000") as dev:
        _user(database)
        client = dev.test_client()
        form = {"email": "coord@example.org", "password": PASSWORD}
        for base in ("http://pendel.intern.example", "http://10.0.0.8:5000"):
            assert client.post("/login", base_url=base, headers={"Origin": base}, data=form).status_code == 403
        login = client.post("/login", base_url="http://localhost:5000", headers={"Origin": "http://localhost:5000"},
                            data=form)
        assert login.status_code == 302
        assert client.post("/logout", base_url="http://localhost:5000",
                           headers={"Origin": "https://evil.example"}).status_code == 403
        assert client.post("/logout", base_url="http://localhost:5000",
                           headers={"Origin": "http://127.0.0.1:5000"}).status_code == 302
