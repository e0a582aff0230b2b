"""Settings from the environment: defaults, production refusals, one-line errors."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, time
from pathlib import Path

import pytest

from core.config import INSTANCE_DIR, PROJECT_ROOT, ConfigError, Settings, load_settings
from tests.support.clock_offset import with_test_clock

PROD_OK = {"PENDEL_ENV": "production", "SECRET_KEY": "s" * 40, "TWILIO_AUTH_TOKEN": "tok",
           "TWILIO_PHONE_NUMBER": "+31201234567"}
DEV = {"PENDEL_ENV": "development"}


def _error(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    message = str(info.value)
    assert "\n" not in message and message.strip() == message and message
    return message


def test_defaults_in_development() -> None:
    s = load_settings(DEV)
    assert s.environment == "development" and s.development and not s.testing
    assert s.database_url == f"sqlite:///{INSTANCE_DIR / 'pendel.db'}"
    assert s.is_sqlite
    assert s.redis_url is None
    assert len(s.secret_key) >= 32  # generated once and kept under instance/, so sign-ins survive a restart
    assert load_settings(DEV).secret_key == s.secret_key == (INSTANCE_DIR / "secret_key").read_text().strip()
    testing = {**DEV, "PENDEL_ENV": "testing"}
    assert load_settings(testing).secret_key != load_settings(testing).secret_key  # tests: random each time
    assert s.office_timezone == "Europe/Amsterdam" and str(s.tz) == "Europe/Amsterdam"
    assert (s.office_opens, s.office_closes) == (time(9), time(17))
    assert s.smtp_port == 587 and s.smtp_starttls is True
    assert s.closure_days == ()
    assert s.webhook_signature_check is True
    assert s.public_base_url == "http://127.0.0.1:5000"
    assert s.twilio_auth_token is None and s.twilio_api_base_url is None


def test_environment_defaults_to_production() -> None:
    # No PENDEL_ENV means production, which then needs its secrets.
    assert "SECRET_KEY" in _error({})
    s = load_settings({"SECRET_KEY": "k" * 40, "TWILIO_AUTH_TOKEN": "t", "OFFICE_PHONE": "030 123 4567"})
    assert s.environment == "production"
    assert s.secret_key == "k" * 40


def test_production_start_with_everything_needed() -> None:
    s = load_settings(PROD_OK)
    assert s.environment == "production"
    assert s.webhook_signature_check is True
    assert s.twilio_auth_token == "tok"


def test_production_refuses_missing_secret_key() -> None:
    env = dict(PROD_OK)
    del env["SECRET_KEY"]
    assert "SECRET_KEY" in _error(env)
    assert "SECRET_KEY" in _error({**env, "SECRET_KEY": ""})


def test_production_refuses_missing_twilio_auth_token() -> None:
    env = dict(PROD_OK)
    del env["TWILIO_AUTH_TOKEN"]
    assert "TWILIO_AUTH_TOKEN" in _error(env)


@pytest.mark.parametrize("value", ["true", "1", "yes", "on", "TRUE"])
def test_production_refuses_skipping_the_signature_check(value: str) -> None:
    assert "TWILIO_SKIP_SIGNATURE_CHECK" in _error({**PROD_OK, "TWILIO_SKIP_SIGNATURE_CHECK": value})


def test_development_may_skip_the_signature_check() -> None:
    assert load_settings({**DEV, "TWILIO_SKIP_SIGNATURE_CHECK": "true"}).webhook_signature_check is False
    assert load_settings({**DEV, "TWILIO_SKIP_SIGNATURE_CHECK": "false"}).webhook_signature_check is True


@pytest.mark.parametrize(("name", "value"), [
    ("DATABASE_URL", "mysql://user@db/pendel"),
    ("DATABASE_URL", "mongodb://x"),
    ("DATABASE_URL", "postgresql:///nohost"),
    ("REDIS_URL", "http://127.0.0.1:6379/0"),
    ("REDIS_URL", "127.0.0.1:6379"),
    ("OFFICE_TIMEZONE", "Europe/Atlantis"),
    ("OFFICE_TIMEZONE", "../../etc/passwd"),
    ("SMTP_PORT", "smtp"),
    ("SMTP_PORT", "0"),
    ("SMTP_PORT", "70000"),
    ("CLOSURE_DAYS", "2026-12-24,christmas"),
    ("CLOSURE_DAYS", "2026-02-30"),
    ("OFFICE_OPENS", "nine"),
    ("OFFICE_CLOSES", "25:00"),
    ("PENDEL_ENV", "staging"),
    ("SMTP_STARTTLS", "maybe"),
    ("PUBLIC_BASE_URL", "pendel.example.org"),
    ("TWILIO_API_BASE_URL", "ftp://127.0.0.1"),
    ("HOLD_MINUTES", "0"),
])
def test_bad_value_is_one_line_naming_the_variable(name: str, value: str) -> None:
    message = _error({**DEV, name: value})
    assert name in message


def test_bad_value_refused_in_production_too() -> None:
    assert "DATABASE_URL" in _error({**PROD_OK, "DATABASE_URL": "mysql://x"})


def test_office_opens_after_closes() -> None:
    message = _error({**DEV, "OFFICE_OPENS": "18:00", "OFFICE_CLOSES": "08:00"})
    assert "OFFICE_OPENS" in message and "OFFICE_CLOSES" in message
    assert "OFFICE_OPENS" in _error({**DEV, "OFFICE_OPENS": "10:00", "OFFICE_CLOSES": "10:00"})
    s = load_settings({**DEV, "OFFICE_OPENS": "08:30", "OFFICE_CLOSES": "16:45"})
    assert (s.office_opens, s.office_closes) == (time(8, 30), time(16, 45))


@pytest.mark.parametrize(("raw", "expected"), [
    ("postgres://u:p@db.example:5432/pendel", "postgresql+psycopg://u:p@db.example:5432/pendel"),
    ("postgresql://u@127.0.0.1/pendel", "postgresql+psycopg://u@127.0.0.1/pendel"),
    ("postgresql+psycopg://u@127.0.0.1/pendel", "postgresql+psycopg://u@127.0.0.1/pendel"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_database_urls(raw: str, expected: str) -> None:
    s = load_settings({**DEV, "DATABASE_URL": raw})
    assert s.database_url == expected
    assert s.is_sqlite == expected.startswith("sqlite")


def test_values_are_parsed() -> None:
    s = load_settings({**DEV, "REDIS_URL": "redis://127.0.0.1:6379/3", "SMTP_PORT": "2525",
                       "SMTP_STARTTLS": "off", "CLOSURE_DAYS": "2026-12-31, 2026-12-24,",
                       "OFFICE_TIMEZONE": "Europe/Brussels", "PUBLIC_BASE_URL": "https://pendel.example.org/",
                       "LIBERATION_DAY_ALWAYS_OFF": "yes", "HOLD_MINUTES": "20"})
    assert s.redis_url == "redis://127.0.0.1:6379/3"
    assert s.smtp_port == 2525 and s.smtp_starttls is False
    assert s.closure_days == (date(2026, 12, 24), date(2026, 12, 31))
    assert s.office_timezone == "Europe/Brussels"
    assert s.public_base_url == "https://pendel.example.org"
    assert s.liberation_day_always_off is True
    assert s.hold_minutes == 20


def test_settings_are_read_from_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENDEL_ENV", "testing")
    monkeypatch.setenv("SMTP_PORT", "2626")
    s = load_settings()
    assert s.testing and s.smtp_port == 2626


def _clean_env(**extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")}
    return with_test_clock({**keep, **extra})


def _venv_bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate if candidate.exists() else PROJECT_ROOT / ".venv" / "bin" / name)


def test_flask_cli_with_a_bad_database_url_says_so_in_one_line() -> None:
    result = subprocess.run([_venv_bin("flask"), "--app", "app", "db-upgrade"], cwd=PROJECT_ROOT,
                            env=_clean_env(DATABASE_URL="mysql://x", PENDEL_ENV="development"),
                            capture_output=True, text=True, timeout=60)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0
    assert "Traceback" not in output
    assert len(output.splitlines()) == 1, output
    assert "DATABASE_URL" in output


def test_production_cli_start_without_secrets_says_so_in_one_line() -> None:
    result = subprocess.run([_venv_bin("flask"), "--app", "app", "db-upgrade"], cwd=PROJECT_ROOT,
                            env=_clean_env(PENDEL_ENV="production", DATABASE_URL="sqlite:///:memory:"),
                            capture_output=True, text=True, timeout=60)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0
    assert "Traceback" not in output
    assert len(output.splitlines()) == 1, output
    assert "SECRET_KEY" in output


def test_worker_with_a_bad_setting_says_so_in_one_line() -> None:
    result = subprocess.run([sys.executable, "worker.py"], cwd=PROJECT_ROOT,
                            env=_clean_env(PENDEL_ENV="testing", REDIS_URL="http://nope"),
                            capture_output=True, text=True, timeout=60)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0
    assert "Traceback" not in output and len(output.splitlines()) == 1, output
    assert "REDIS_URL" in output


def test_settings_object_defaults_match_load_settings() -> None:
    # Settings() itself is the production shape; load_settings fills the secrets.
    assert Settings().environment == "production"
    assert Settings().database_url == load_settings(DEV).database_url


def test_production_needs_a_number_for_people_to_call() -> None:
    env = {k: v for k, v in PROD_OK.items() if k != "TWILIO_PHONE_NUMBER"}
    assert "OFFICE_PHONE" in _error(env)
    assert load_settings({**env, "OFFICE_PHONE": "030 123 4567"}).office_phone == "030 123 4567"
    assert load_settings(PROD_OK).office_phone == "+31201234567"


def test_previous_secret_keys_are_read_newest_first() -> None:
    assert load_settings(DEV).previous_secret_keys == ()
    env = {**DEV, "SECRET_KEY": "k" * 40, "SECRET_KEY_PREVIOUS": " older-key, oldest-key\nancient "}
    assert load_settings(env).previous_secret_keys == ("older-key", "oldest-key", "ancient")
