"""Webhooks make no network calls: only the database and Redis may be reached while one is handled.

Every request of these tests goes through a test client that, for the length
of the request, replaces the socket functions Python's HTTP, SMTP and Redis
clients connect with (`socket.socket.connect`/`connect_ex`,
`socket.create_connection`, `socket.getaddrinfo`): any address other than
PostgreSQL's and Redis's is refused and noted, and a noted attempt fails the
request even if the app swallowed the error. The app is pointed at a live
Twilio stand-in and SMTP server, so a slip would otherwise succeed quietly.
The first tests prove the guard bites.
"""
from __future__ import annotations

import smtplib
import socket
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.models import User
from telephony.click_to_call import request_call
from tests.conftest import REDIS_TEST_URL
from tests.integration.call_helpers import (COORDINATOR_PHONE, ClickToCall, private_redis, standin,  # noqa: F401
                                           walk_request)
from tests.integration.ivr_helpers import (BASE, Caller, StaffPhone, add_staff, at, local,  # noqa: F401
                                           status_callback)
from tests.integration.sms_helpers import build_world, sid, status, text_in
from tests.support.fixtures import smtp_server  # noqa: F401


class NetworkGuard:
    """While `on()`: connections to anything but `allowed` (host, port) pairs are refused and noted."""

    def __init__(self, allowed: set[tuple[str, int]]) -> None:
        self.allowed, self.blocked = allowed, []  # type: ignore[var-annotated]

    def _check(self, address: Any) -> None:
        host, port = (address[0], int(address[1])) if isinstance(address, tuple) else (str(address), 0)
        if (host, port) not in self.allowed:
            self.blocked.append(f"{host}:{port}")
            raise ConnectionRefusedError(f"webhooks make no network calls: {host}:{port}")

    @contextmanager
    def on(self) -> Iterator["NetworkGuard"]:
        guard, real = self, (socket.socket.connect, socket.socket.connect_ex, socket.create_connection,
                             socket.getaddrinfo)

        def connect(sock: socket.socket, address: Any) -> None:
            guard._check(address)
            return real[0](sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            guard._check(address)
            return real[1](sock, address)

        def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
            guard._check(address)
            return real[2](address, *args, **kwargs)

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            guard._check((host if isinstance(host, str) else (host or b"").decode(), port or 0))
            return real[3](host, port, *args, **kwargs)

        socket.socket.connect, socket.socket.connect_ex = connect, connect_ex  # type: ignore[method-assign]
        socket.create_connection, socket.getaddrinfo = create_connection, getaddrinfo  # type: ignore[assignment]
        try:
            yield self
        finally:
            socket.socket.connect, socket.socket.connect_ex = real[0], real[1]  # type: ignore[method-assign]
            socket.create_connection, socket.getaddrinfo = real[2], real[3]  # type: ignore[assignment]


@pytest.fixture
def settings(settings: Any, standin: Any, smtp_server: Any, private_redis: Any) -> Any:
    return replace(settings, redis_url=private_redis.url, **standin.settings_changes(),
                   **smtp_server.settings_changes())


@pytest.fixture
def guard(settings: Any) -> NetworkGuard:
    db = make_url(settings.database_url)
    redis_urls = [make_url(settings.redis_url), make_url(REDIS_TEST_URL)]
    return NetworkGuard({(db.host or "127.0.0.1", db.port or 5432)} | {(u.host, u.port) for u in redis_urls})


@pytest.fixture
def client(app: Any, guard: NetworkGuard) -> Any:
    class GuardedClient(FlaskClient):
        def open(self, *args: Any, **kwargs: Any) -> Any:
            with guard.on():
                response = super().open(*args, **kwargs)
            assert not guard.blocked, f"a webhook tried to reach {guard.blocked}"
            return response

    app.test_client_class = GuardedClient
    return app.test_client()


def test_the_guard_refuses_a_deliberate_request(guard: NetworkGuard, standin: Any, smtp_server: Any) -> None:
    with pytest.raises(urllib.error.HTTPError):  # without the guard the stand-in is there (and says 404)
        urllib.request.urlopen(standin.base_url + "/nothing", timeout=5)
    with guard.on():
        with pytest.raises((urllib.error.URLError, ConnectionRefusedError)):
            urllib.request.urlopen(standin.base_url + "/nothing", timeout=5)
        with pytest.raises(ConnectionRefusedError):
            smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5)
        with pytest.raises(ConnectionRefusedError):
            socket.getaddrinfo("api.twilio.com", 443)
    assert guard.blocked == [f"127.0.0.1:{standin.port}", f"{smtp_server.host}:{smtp_server.port}",
                             "api.twilio.com:443"]


def test_the_guard_lets_the_database_and_redis_through(guard: NetworkGuard, runtime: Any) -> None:
    runtime.db.dispose()  # a fresh database connection inside the guard
    with guard.on():
        with runtime.db.session() as s:
            assert s.execute(text("SELECT 1")).scalar() == 1
        assert runtime.redis.ping()
    assert guard.blocked == []


def test_a_request_that_reaches_out_fails_the_test(app: Any, client: Any, standin: Any) -> None:
    @app.post("/test-only/reach-out")
    def reach_out() -> str:
        try:  # swallowed, as careless code might: the guard still notices
            urllib.request.urlopen(standin.base_url + "/nothing", timeout=5)
        except (urllib.error.URLError, OSError):
            pass
        return "ok"

    app.extensions["pendel_csrf"].exempt(reach_out)  # posted like a webhook: no form, no form token
    with pytest.raises(AssertionError, match="a webhook tried to reach"):
        client.post("/test-only/reach-out")
    assert standin.requests == []


def test_walking_the_phone_line_makes_no_network_call(client: Any, runtime: Any, at: Any, standin: Any) -> None:
    add_staff(runtime, "+31611110001")
    caller = Caller(client, "+31612345678")
    assert caller.walk("1").dial is not None
    staff = StaffPhone(client, "+31611110001", parent=caller.sid)
    staff.pick_up(BASE + "/telephony/voice/screen")
    staff.press("1")
    caller.dial_over("completed", child=staff.sid)
    for state in ("in-progress", "completed"):
        status_callback(client, BASE + "/telephony/voice/status", caller.sid, state, Direction="inbound")
    nobody = Caller(client, "+31687654321")
    nobody.walk("9", "1")
    nobody.dial_over("no-answer")
    for key in ("2", "0201234567", "1", "1", "1", "1"):  # typed-in number read back, with a confirmation text
        nobody.press(key)
    assert nobody.last.hung_up
    Caller(client, "anonymous").walk("2", "0612345678", "3", "2")
    at(local(2027, 4, 27, 10, 0))  # Koningsdag
    Caller(client, "+31611223344").walk("2", "1", "2", "1", "1")
    assert standin.requests == []


def test_click_to_call_legs_make_no_network_call(client: Any, runtime: Any, at: Any, standin: Any) -> None:
    request_id = walk_request(client, "+31612345678", ("2", "1", "1", "2", "1"), runtime)
    user_id = add_staff(runtime, COORDINATOR_PHONE, on_duty=False)
    with runtime.db.write_session() as s:
        call_id = request_call(s, s.get(User, user_id), request_id).id
    call = ClickToCall(client, runtime, None, standin, user_id, request_id, call_id=call_id)
    url = f"{BASE}/telephony/voice/callback/{call_id}/staff"
    staff_sid = "CA" + "5" * 32
    status_url = f"{BASE}/telephony/voice/status?callback_call={call_id}&leg=staff"
    status_callback(client, status_url, staff_sid, "ringing")  # outruns the job that never ran here
    call.staff = StaffPhone(client, COORDINATOR_PHONE, sid=staff_sid)
    call.staff.pick_up(url)
    call.press("1")
    for state in ("initiated", "ringing", "no-answer"):
        call.caller_status(state)
    call.dial_done("no-answer")
    status_callback(client, status_url, staff_sid, "completed")
    assert standin.requests == []


def test_sms_webhooks_make_no_network_call(client: Any, runtime: Any, standin: Any, smtp_server: Any) -> None:
    world = build_world(runtime)
    for body in ("Hoi, klopt de afspraak?", "STOP", "START", "JA"):
        assert text_in(client, world["phone"], body).status_code == 200
    assert text_in(client, "+31699887766", "Wie is dit?").status_code == 200  # an unknown number
    message_sid = sid()
    for value in ("queued", "sent", "delivered", "undelivered"):
        assert status(client, message_sid, value, "30003" if value == "undelivered" else None).status_code == 200
    assert standin.requests == []
