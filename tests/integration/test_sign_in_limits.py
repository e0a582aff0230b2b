"""Sign-in is limited per account and per address: a clear message, no password checked while locked,
a stranger's failures never lock a colleague out of her own browser, and Redis shares the count."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, Iterator

import pytest
import time_machine

from app import create_app
from core.auth import create_user
from core.config import Settings
from core.db import Database, utcnow
from core.signin_limits import DEVICE_COOKIE
from tests.conftest import REDIS_TEST_URL, with_settings

PASSWORD = "correct horse battery"
EMAIL = "coord@example.org"
OURS = {"Origin": "https://pendel.test"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_settings(settings, sign_in_limit_account="3 per 10 minutes", sign_in_limit_address="6 per 10 minutes")


@pytest.fixture
def user(database: Database) -> str:
    with database.write_session() as session:
        create_user(session, EMAIL, "Co", "coordinator", PASSWORD)
    return EMAIL


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(utcnow(), tick=False) as traveller:
        yield traveller


def attempt(client: Any, email: str = EMAIL, password: str = "wrong password", address: str = "198.51.100.7") -> Any:
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_after_the_account_limit_even_the_right_password_waits_for_the_window(client: Any, user: str,
                                                                             clock: Any) -> None:
    for _ in range(3):
        assert attempt(client).status_code == 401
        clock.shift(timedelta(minutes=1))
    locked = attempt(client, password=PASSWORD)
    assert locked.status_code == 429
    # The first failure (3 minutes ago) leaves the 10-minute window 7 minutes from now.
    assert locked.headers["Retry-After"] == "420"
    html = locked.get_data(as_text=True)
    assert 'role="alert"' in html
    assert "Te veel mislukte aanmeldpogingen. Probeer het over 7 minuten opnieuw." in html
    assert client.get("/").status_code == 302  # not signed in
    clock.shift(timedelta(minutes=6, seconds=59, microseconds=500000))
    last_second = attempt(client, password=PASSWORD)
    assert last_second.status_code == 429 and "over 1 seconde" in last_second.get_data(as_text=True)
    clock.shift(timedelta(seconds=1))
    assert attempt(client, password=PASSWORD).status_code == 302
    assert client.get("/").status_code == 200


def test_an_unknown_account_is_limited_alike(client: Any, user: str) -> None:
    """The message must not tell which accounts exist."""
    for email in (EMAIL, "nobody@example.org"):
        answers = [attempt(client, email=email, address=f"198.51.100.{n}") for n in range(4)]
        assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert attempt(client, email="someone.else@example.org").status_code == 401


def test_the_address_limit_covers_every_account_from_that_address(client: Any, user: str, clock: Any) -> None:
    for n in range(6):
        assert attempt(client, email=f"guess{n}@example.org").status_code == 401
    assert attempt(client, password=PASSWORD).status_code == 429
    assert attempt(client, password=PASSWORD, address="203.0.113.9").status_code == 302
    # IPv6: one client has its whole /64.
    for n in range(6):
        assert attempt(client, email=f"v6{n}@example.org", address=f"2001:db8:1:2::{n + 1}").status_code == 401
    assert attempt(client, email="v6@example.org", address="2001:db8:1:2:ffff::1").status_code == 429
    assert attempt(client, email="v6@example.org", address="2001:db8:1:3::1").status_code == 401
    clock.shift(timedelta(minutes=10, seconds=1))
    assert attempt(client, password=PASSWORD).status_code == 302


def test_a_strangers_failures_do_not_lock_her_out_of_her_own_browser(app: Any, user: str) -> None:
    """Not by failing in her name, nor by using up her office's address (one NAT, or a proxy)."""
    office = "203.0.113.5"
    hers, stranger = app.test_client(), app.test_client()
    assert attempt(hers, password=PASSWORD, address=office).status_code == 302
    assert hers.get_cookie(DEVICE_COOKIE) is not None
    assert hers.post("/logout", headers=OURS).status_code == 302
    for n in range(6):
        assert attempt(stranger, email=EMAIL if n < 3 else f"guess{n}@example.org", address=office).status_code == 401
    assert attempt(stranger, password=PASSWORD, address="198.51.100.99").status_code == 429  # the account
    assert attempt(stranger, email="other@example.org", address=office).status_code == 429  # the address
    assert attempt(hers, password=PASSWORD, address=office).status_code == 302
    # Her browser's own slips are limited as well, and its cookie is no use for another account.
    for _ in range(3):
        assert attempt(hers, address=office).status_code == 401
    assert attempt(hers, password=PASSWORD, address=office).status_code == 429
    forged = app.test_client()
    forged.set_cookie(DEVICE_COOKIE, "not-a-signed-value")
    assert attempt(forged, password=PASSWORD, address="203.0.113.6").status_code == 429


def test_a_right_password_forgets_earlier_slips(client: Any, user: str) -> None:
    for _ in range(2):
        assert attempt(client).status_code == 401
    assert attempt(client, password=PASSWORD).status_code == 302
    assert client.post("/logout", headers=OURS).status_code == 302
    stranger = client.application.test_client()  # without the device cookie: the account's own count
    for _ in range(3):
        assert attempt(stranger, address="203.0.113.8").status_code == 401
    assert attempt(stranger, address="203.0.113.8").status_code == 429


def test_with_redis_every_process_counts_together(settings: Settings, database: Database, real_redis: Any) -> None:
    """Two apps on one Redis stand for two gunicorn processes; the keys hold no e-mail address."""
    email = f"{uuid.uuid4().hex[:12]}@example.org"
    with database.write_session() as session:
        create_user(session, email, "Co", "coordinator", PASSWORD)
    shared = with_settings(settings, redis_url=REDIS_TEST_URL, sign_in_limit_account="2 per 2 seconds")
    one, two = create_app(shared), create_app(shared)
    try:
        address = f"198.51.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
        assert attempt(one.test_client(), email=email, address=address).status_code == 401
        assert attempt(two.test_client(), email=email, address=address).status_code == 401
        assert attempt(one.test_client(), email=email, password=PASSWORD, address=address).status_code == 429
        keys = [k.decode() for k in real_redis.scan_iter("*pendel-sign-in*")]
        assert keys and not any(email in k or email.split("@")[0] in k for k in keys)
    finally:
        for flask_app in (one, two):
            flask_app.extensions["pendel"].db.dispose()
