"""Sign-in and session settings, and the small rules behind them, without a database."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.auth import _origin
from core.config import ConfigError, load_settings
from core.sessions import Lifetimes, StaffSession, is_live
from core.signin_limits import address_key

ENV = {"PENDEL_ENV": "testing"}
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_session_and_sign_in_settings_have_defaults() -> None:
    settings = load_settings(ENV)
    assert (settings.session_idle_minutes, settings.session_max_hours) == (60, 12)
    assert (settings.sign_in_limit_account, settings.sign_in_limit_address) == ("5 per 15 minutes",
                                                                                "20 per 15 minutes")
    short = load_settings({**ENV, "SESSION_IDLE_MINUTES": "5", "SESSION_MAX_HOURS": "1",
                           "SIGN_IN_LIMIT_ACCOUNT": "3/2seconds", "SIGN_IN_LIMIT_ADDRESS": "10 per hour"})
    assert (short.session_idle_minutes, short.session_max_hours, short.sign_in_limit_account,
            short.sign_in_limit_address) == (5, 1, "3/2seconds", "10 per hour")


@pytest.mark.parametrize(("name", "value", "message"), [
    ("SESSION_IDLE_MINUTES", "0", "SESSION_IDLE_MINUTES must be between 1 and 1440, got 0"),
    ("SESSION_IDLE_MINUTES", "an hour", "SESSION_IDLE_MINUTES must be a whole number, got 'an hour'"),
    ("SESSION_MAX_HOURS", "721", "SESSION_MAX_HOURS must be between 1 and 720, got 721"),
    ("SIGN_IN_LIMIT_ACCOUNT", "five", "SIGN_IN_LIMIT_ACCOUNT must be one limit like '5 per 15 minutes', got 'five'"),
    ("SIGN_IN_LIMIT_ADDRESS", "0 per minute",
     "SIGN_IN_LIMIT_ADDRESS must be one limit like '5 per 15 minutes', got '0 per minute'"),
    ("SIGN_IN_LIMIT_ACCOUNT", "5/minute;50/day",
     "SIGN_IN_LIMIT_ACCOUNT must be one limit like '5 per 15 minutes', got '5/minute;50/day'"),
])
def test_bad_values_stop_the_start_with_one_line(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        load_settings({**ENV, name: value})


def test_the_idle_time_cannot_outlast_the_absolute_time() -> None:
    with pytest.raises(ConfigError, match="^SESSION_IDLE_MINUTES must not be longer than SESSION_MAX_HOURS$"):
        load_settings({**ENV, "SESSION_IDLE_MINUTES": "120", "SESSION_MAX_HOURS": "1"})


def test_a_session_lives_until_idle_or_absolute_time_or_sign_out() -> None:
    lifetimes = Lifetimes(idle=timedelta(minutes=30), absolute=timedelta(hours=8))
    row = StaffSession(created_at=T0, last_seen_at=T0, ended_at=None)
    assert is_live(row, T0 + timedelta(minutes=30), lifetimes)
    assert not is_live(row, T0 + timedelta(minutes=30, seconds=1), lifetimes)
    busy = StaffSession(created_at=T0, last_seen_at=T0 + timedelta(hours=8), ended_at=None)
    assert is_live(busy, T0 + timedelta(hours=8), lifetimes)
    assert not is_live(busy, T0 + timedelta(hours=8, seconds=1), lifetimes)
    assert not is_live(StaffSession(created_at=T0, last_seen_at=T0, ended_at=T0), T0, lifetimes)
    # Use is written down at most once a minute, and often enough for a short idle time.
    assert lifetimes.touch_every == timedelta(minutes=1)
    assert Lifetimes(timedelta(minutes=2), timedelta(hours=1)).touch_every == timedelta(seconds=12)


@pytest.mark.parametrize(("url", "origin"), [
    ("https://pendel.example.nl", "https://pendel.example.nl"),
    ("https://Pendel.Example.NL:443/app/", "https://pendel.example.nl"),
    ("http://127.0.0.1:5000/duty?x=1", "http://127.0.0.1:5000"),
    ("http://[::1]:80/", "http://[::1]"),
    ("null", None), ("", None), (None, None), ("file:///etc/passwd", None), ("https://x.example:99999/", None),
])
def test_an_origin_is_scheme_host_and_a_port_other_than_the_default(url: str | None, origin: str | None) -> None:
    assert _origin(url) == origin


@pytest.mark.parametrize(("remote", "key"), [
    ("198.51.100.7", "198.51.100.7"), ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("::ffff:198.51.100.7", "198.51.100.7"), (None, "unknown"), ("not an address", "unknown"),
])
def test_addresses_are_counted_per_ipv4_address_or_ipv6_64(remote: str | None, key: str) -> None:
    assert address_key(remote) == key
