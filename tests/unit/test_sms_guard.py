"""The public pages' abuse guards without a database: their settings, the limits' counting and keys, and
which numbers may get a confirmation text (the SMS-pumping guard)."""
from __future__ import annotations

import logging
from dataclasses import replace
from types import SimpleNamespace

import pytest
from flask import Flask

from core.config import ConfigError, Settings, load_settings
from core.public_limits import PublicLimits, public_limits
from telephony.numbers import typed_number
from telephony.sms_guard import is_dutch_mobile

ENV = {"PENDEL_ENV": "testing"}
NUMBER = "+31612345678"


def test_public_limits_have_defaults_and_read_the_environment() -> None:
    settings = load_settings(ENV)
    assert (settings.public_form_limit_address, settings.callback_limit_number,
            settings.confirmation_text_limit_number, settings.confirmation_text_limit_address) == (
        "10 per hour", "3 per day", "2 per day", "5 per day")
    changed = load_settings({**ENV, "PUBLIC_FORM_LIMIT_ADDRESS": "4/minute", "CALLBACK_LIMIT_NUMBER": "1 per hour",
                             "CONFIRMATION_TEXT_LIMIT_NUMBER": "1 per day",
                             "CONFIRMATION_TEXT_LIMIT_ADDRESS": "3 per 2 days"})
    assert (changed.public_form_limit_address, changed.callback_limit_number,
            changed.confirmation_text_limit_number, changed.confirmation_text_limit_address) == (
        "4/minute", "1 per hour", "1 per day", "3 per 2 days")


@pytest.mark.parametrize("name", ["PUBLIC_FORM_LIMIT_ADDRESS", "CALLBACK_LIMIT_NUMBER",
                                  "CONFIRMATION_TEXT_LIMIT_NUMBER", "CONFIRMATION_TEXT_LIMIT_ADDRESS"])
def test_a_bad_public_limit_stops_the_start_naming_it(name: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name} must be one limit like '5 per 15 minutes', got 'lots'$"):
        load_settings({**ENV, name: "lots"})


def _limits(**changes: str) -> PublicLimits:
    return PublicLimits(replace(Settings(environment="testing", secret_key="unit-secret"), **changes))


def test_hit_counts_per_key_up_to_the_limit_and_then_refuses(caplog: pytest.LogCaptureFixture) -> None:
    limits = _limits(callback_limit_number="3 per day", public_form_limit_address="2 per hour")
    caplog.set_level(logging.INFO, "pendel.public_limits")
    assert [limits.hit("callback_number", NUMBER) for _ in range(5)] == [True, True, True, False, False]
    assert limits.hit("callback_number", "+31687654321")  # another number counts on its own
    assert [limits.hit("form_address", "192.0.2.7") for _ in range(3)] == [True, True, False]
    assert limits.hit("form_address", "192.0.2.8")
    # One IPv6 client is its /64.
    assert [limits.hit("form_address", f"2001:db8::{i}") for i in range(3)] == [True, True, False]
    assert limits.wait_seconds("callback_number", NUMBER) > 0
    assert limits.wait_seconds("callback_number", "+31600000000") == 0
    assert "612345678" not in caplog.text and "public limit reached: callback_number n" in caplog.text


def test_a_number_is_never_a_key_in_clear() -> None:
    limits = _limits()
    key = limits.key("text_number", NUMBER)
    assert "612345678" not in key and len(key) == 33
    assert key == limits.key("callback_number", NUMBER)
    other = PublicLimits(Settings(environment="testing", secret_key="other"))
    assert other.key("text_number", NUMBER) != key  # keyed: another secret, another name
    assert limits.key("text_address", "::ffff:192.0.2.7") == "192.0.2.7"


def test_hit_all_counts_in_every_bucket_or_in_none() -> None:
    limits = _limits(confirmation_text_limit_number="2 per day", confirmation_text_limit_address="3 per day")
    assert limits.hit_all(("text_number", NUMBER), ("text_address", "192.0.2.9"))
    assert limits.hit_all(("text_number", NUMBER), ("text_address", "192.0.2.9"))
    assert not limits.hit_all(("text_number", NUMBER), ("text_address", "192.0.2.9"))  # the number is full
    # The refusal used none of the address's allowance: one left for another number, then it is full.
    assert limits.hit_all(("text_number", "+31611111111"), ("text_address", "192.0.2.9"))
    assert not limits.hit_all(("text_number", "+31622222222"), ("text_address", "192.0.2.9"))
    assert limits.hit_all(("text_number", "+31622222222"), ("text_address", "192.0.2.10"))


def test_the_app_has_one_counter() -> None:
    app = Flask(__name__)
    app.extensions["pendel"] = SimpleNamespace(settings=Settings(environment="testing", secret_key="unit-secret"))
    with app.app_context():
        assert public_limits() is public_limits()


@pytest.mark.parametrize(("typed", "mobile"), [
    ("06 12345678", True), ("+31 6 1234 5678", True), ("0031612345678", True), ("06-87654321", True),
    ("020 123 4567", False),      # landline
    ("088 123 4567", False),      # company number
    ("0970 12345678", False),     # machine-to-machine
    ("066 1234567", False),       # pager
    ("0800 1234567", False),      # free phone
    ("+32 470 12 34 56", False),  # a Belgian mobile
    ("+44 7911 123456", False),   # a British mobile
    ("084 2123456", False),       # a personal (VoIP) number
])
def test_only_a_dutch_mobile_number_of_a_person_may_get_a_text(typed: str, mobile: bool) -> None:
    number = typed_number(typed)
    assert number is not None  # each can be called
    assert is_dutch_mobile(number) is mobile


@pytest.mark.parametrize("number", ["+319001234567", "+319091234567", "+319061234567", "+31842123456",
                                    "+31871234567", "+3161234567", "not a number", ""])
def test_premium_shared_cost_and_malformed_numbers_get_no_text(number: str) -> None:
    assert not is_dutch_mobile(number)


@pytest.mark.parametrize("typed", ["0900 1234567", "0909-1234567", "06 1234", "0612345678901234567890",
                                   "call me", "+31 6 12 34 56 78 9", "06 12345678 ext 5", ""])
def test_a_web_page_takes_no_number_we_may_not_call(typed: str) -> None:
    assert typed_number(typed) is None


def test_a_typed_number_may_have_spaces_dashes_dots_and_brackets() -> None:
    assert {typed_number(t) for t in ("06-12 34 56 78", "06.12.34.56.78", "(06) 12345678", "+31 (0)6 12345678",
                                      "\u00a006 12345678 ")} == {"+31612345678"}
