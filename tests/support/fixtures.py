"""pytest fixtures for the provider stand-ins; import them into a test module or conftest:

    from tests.support.fixtures import smtp_server, twilio_standin  # noqa: F401

Each test gets its own running server on a free port, stopped after the test
(even when it fails), so scripted failures never leak into another test.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from typing import Iterator

import pytest
import redis

from tests.conftest import service_unavailable
from tests.support.private_redis import REDIS_SERVER, PrivateRedis
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_standin import TwilioStandin


@pytest.fixture
def twilio_standin() -> Iterator[TwilioStandin]:
    """A running Twilio Messages API stand-in; `.settings_changes()` / `.env()` point the app at it."""
    with TwilioStandin() as standin:
        yield standin


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running SMTP server without TLS; `.settings_changes()` / `.env()` point the app at it."""
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server of the module's own (another port), so a test may flush or kill it."""
    if not os.path.exists(REDIS_SERVER):
        service_unavailable(REDIS_SERVER)
    directory = tempfile.mkdtemp(prefix="pendel-redis-")
    server = PrivateRedis(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def conn(private_redis: PrivateRedis) -> Iterator[redis.Redis]:
    """A client of the private server, emptied first: a clean slate per test."""
    connection = redis.Redis.from_url(private_redis.url)
    connection.flushall()  # our own server
    yield connection
    connection.close()
