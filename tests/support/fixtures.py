"""pytest fixtures for the provider stand-ins; import them into a test module or conftest:

    from tests.support.fixtures import smtp_server, twilio_standin  # noqa: F401

Each test gets its own running server on a free port, stopped after the test
(even when it fails), so scripted failures never leak into another test.
"""
from __future__ import annotations

from typing import Iterator

import pytest

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
