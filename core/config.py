"""Settings, read from the environment in one place and validated at start.

Every other module receives a `Settings` object; nothing else reads `os.environ`.
A bad value stops the start with one line that names the variable, not a traceback.
"""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Mapping
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import limits

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
ENVIRONMENTS = ("production", "development", "testing")
APPOINTMENT_KINDS = ("intake", "preparation", "meeting", "follow_up")  # as scheduler.models; core imports nothing of ours
DEFAULT_REMINDER_MINUTES = (2 * 24 * 60, 2 * 60)
_DURATION_UNITS = {"d": 24 * 60, "h": 60, "m": 1}


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


@dataclass(frozen=True)
class Settings:
    environment: str = "production"
    database_url: str = f"sqlite:///{INSTANCE_DIR / 'pendel.db'}"
    redis_url: str | None = None
    secret_key: str = ""
    # Keys SECRET_KEY had before a rotation: still honoured where a keyed hash must outlive the key
    # (numbers that texted STOP). Newest first.
    previous_secret_keys: tuple[str, ...] = ()
    public_base_url: str = "http://127.0.0.1:5000"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_phone_number: str | None = None
    twilio_api_base_url: str | None = None
    # Delete each SMS from Twilio once it reached its final status (notifications.provider_deletion).
    twilio_delete_sent: bool = False
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    mail_from: str = "noreply@example.org"
    office_timezone: str = "Europe/Amsterdam"
    office_opens: time = time(9, 0)
    office_closes: time = time(17, 0)
    closure_days: tuple[date, ...] = ()
    liberation_day_always_off: bool = False
    hold_minutes: int = 15
    min_notice_minutes: int = 60
    slot_grid_minutes: int = 15
    # The parties of a joint meeting arrive at least this many minutes apart.
    arrival_gap_minutes: int = 15
    # At a joint meeting the party who arrived first leaves first; the other stays this long.
    departure_gap_minutes: int = 10
    # A case is overdue when no intake is planned this many working days after it was registered.
    intake_norm_working_days: int = 10
    webhook_signature_check: bool = True
    # Messaging (notifications): the SMS sender is a number (replies work) or an
    # alphanumeric name of at most 11 characters (one-way); None means TWILIO_PHONE_NUMBER.
    sms_sender: str | None = None
    office_phone: str | None = None
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    # Minutes before the start at which reminders go, per appointment kind.
    reminder_minutes: tuple[tuple[str, tuple[int, ...]], ...] = tuple(
        (kind, DEFAULT_REMINDER_MINUTES) for kind in APPOINTMENT_KINDS)
    retention_days: int = 180
    # A closed case's personal data is erased this long after it closed (scheduler.erasure): two years.
    closed_case_erase_days: int = 730
    message_max_attempts: int = 8
    # Calendar sources (calendars.sync): how often, which window, how much to fetch and from where.
    calendar_sync_minutes: int = 15
    calendar_stale_hours: int = 24
    calendar_window_past_days: int = 7
    calendar_window_future_weeks: int = 26
    calendar_fetch_timeout: int = 15
    calendar_max_mb: int = 5
    calendar_allow_private_addresses: bool = False  # tests and on-premise calendar servers
    voice_nl: str = "Polly.Lotte"  # the phone line's Twilio <Say> voices (telephony)
    voice_en: str = "Polly.Amy"
    # Staff sign-in (core.auth, core.sessions, core.signin_limits): a session ends after this long
    # unused, and at the latest this long after sign-in; failed sign-ins are limited per account and
    # per address (limits in Flask-Limiter's notation, e.g. "5 per 15 minutes").
    session_idle_minutes: int = 60
    session_max_hours: int = 12
    sign_in_limit_account: str = "5 per 15 minutes"
    sign_in_limit_address: str = "20 per 15 minutes"
    # Public pages (core.public_limits), in the same notation: posts of a public form per address; web
    # callback requests per number; confirmation texts a public page may cause, per number and per address.
    public_form_limit_address: str = "10 per hour"
    callback_limit_number: str = "3 per day"
    confirmation_text_limit_number: str = "2 per day"
    confirmation_text_limit_address: str = "5 per day"
    # Participant pages opened with a link that does not work, per address: past it, guessing stops there.
    link_failure_limit_address: str = "30 per hour"
    # Participants' personal links (scheduler.links) work until this many hours after their appointment
    # ends; slots offered to a participant are held this many hours for them to choose (scheduler.offers).
    participant_link_hours_after: int = 24
    offer_hours: int = 48

    def reminders_for(self, kind: str) -> tuple[int, ...]:
        return dict(self.reminder_minutes).get(kind, DEFAULT_REMINDER_MINUTES)

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @property
    def testing(self) -> bool:
        return self.environment == "testing"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.office_timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def _time(env: Mapping[str, str], name: str, default: time) -> time:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a time like 09:00, got {raw!r}") from None


def _dates(env: Mapping[str, str], name: str) -> tuple[date, ...]:
    raw = env.get(name, "")
    days = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        try:
            days.append(date.fromisoformat(part))
        except ValueError:
            raise ConfigError(f"{name} must be ISO dates separated by commas, got {part!r}") from None
    return tuple(sorted(days))


def _reminders(env: Mapping[str, str]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """REMINDER_OFFSETS="2d,2h" for every kind; REMINDER_OFFSETS_MEETING=... overrides one kind."""
    def parse(name: str, raw: str) -> tuple[int, ...]:
        minutes = []
        for part in filter(None, (p.strip().lower() for p in raw.split(","))):
            number, unit = part[:-1], part[-1:]
            if unit not in _DURATION_UNITS or not number.isdigit() or int(number) == 0:
                raise ConfigError(f"{name} must be durations like 2d,2h,30m, got {part!r}")
            minutes.append(int(number) * _DURATION_UNITS[unit])
        return tuple(sorted(set(minutes), reverse=True))

    default = parse("REMINDER_OFFSETS", env["REMINDER_OFFSETS"]) if "REMINDER_OFFSETS" in env \
        else DEFAULT_REMINDER_MINUTES
    out = []
    for kind in APPOINTMENT_KINDS:
        name = f"REMINDER_OFFSETS_{kind.upper()}"
        out.append((kind, parse(name, env[name]) if name in env else default))
    return tuple(out)


def _rate_limit(env: Mapping[str, str], name: str, default: str) -> str:
    """One limit in Flask-Limiter's notation ("5 per 15 minutes", "5/15minutes"), at least one attempt."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        items = limits.parse_many(raw)
    except ValueError:
        items = []
    if len(items) != 1 or items[0].amount < 1:
        raise ConfigError(f"{name} must be one limit like '5 per 15 minutes', got {raw!r}")
    return raw


def _office_phone(env: Mapping[str, str], environment: str) -> str | None:
    """The number every message tells people to call: required in production."""
    phone = env.get("OFFICE_PHONE") or env.get("TWILIO_PHONE_NUMBER")
    if phone or environment != "production":
        return phone or ("030 123 4567" if environment == "development" else None)  # the demo's made-up number
    raise ConfigError("OFFICE_PHONE (or TWILIO_PHONE_NUMBER) must be set: messages tell people which number to call")


def _sms_sender(raw: str | None) -> str | None:
    if not raw:
        return None
    if raw.startswith("+"):
        return raw
    if not (1 <= len(raw) <= 11 and raw.replace(" ", "").isalnum() and not raw.isdigit()):
        raise ConfigError("SMS_SENDER must be an E.164 number or a name of 1-11 letters and digits")
    return raw


def _development_secret_key() -> str:
    """The embedded default keeps one key under instance/, so sign-ins and stored secrets survive a restart."""
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _database_url(raw: str | None) -> str:
    if not raw:
        return Settings.database_url
    url = raw.strip()
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("postgres", "postgresql"):
        # Heroku-style and bare URLs get the psycopg 3 driver we ship.
        url = "postgresql+psycopg" + url[len(scheme):]
    elif not (scheme.startswith("postgresql+") or scheme.startswith("sqlite")):
        raise ConfigError(f"DATABASE_URL must be a postgresql:// or sqlite:// URL, got scheme {scheme!r}")
    if scheme.startswith("postgres") and not urlparse(url).hostname and "host=" not in url:
        raise ConfigError("DATABASE_URL has no host")
    return url


def _redis_url(raw: str | None) -> str | None:
    if not raw:
        return None
    if urlparse(raw).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError("REDIS_URL must start with redis://, rediss:// or unix://")
    return raw


def _base_url(name: str, raw: str | None, default: str | None) -> str | None:
    if not raw:
        return default
    parsed = urlparse(raw)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{name} must be an http(s) URL, got {raw!r}")
    return raw.rstrip("/")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build and validate the settings; raise ConfigError with a one-line message."""
    env = os.environ if env is None else env
    environment = env.get("PENDEL_ENV", "production").strip().lower()
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"PENDEL_ENV must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}")
    tz_name = env.get("OFFICE_TIMEZONE") or "Europe/Amsterdam"
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"OFFICE_TIMEZONE is not a known time zone: {tz_name!r}") from None

    secret_key = env.get("SECRET_KEY", "")
    if not secret_key:
        if environment == "production":
            raise ConfigError("SECRET_KEY must be set in production (a long random string)")
        secret_key = _development_secret_key() if environment == "development" else secrets.token_urlsafe(32)
    signature_check = not _bool(env, "TWILIO_SKIP_SIGNATURE_CHECK", False)
    if environment == "production":
        if not signature_check:
            raise ConfigError("TWILIO_SKIP_SIGNATURE_CHECK is a development setting; it is refused in production")
        if not env.get("TWILIO_AUTH_TOKEN"):
            raise ConfigError("TWILIO_AUTH_TOKEN must be set in production (webhooks are verified with it)")

    settings = Settings(
        environment=environment,
        database_url=_database_url(env.get("DATABASE_URL")),
        redis_url=_redis_url(env.get("REDIS_URL")),
        secret_key=secret_key,
        previous_secret_keys=tuple(k for k in re.split(r"[\s,]+", env.get("SECRET_KEY_PREVIOUS", "")) if k),
        public_base_url=_base_url("PUBLIC_BASE_URL", env.get("PUBLIC_BASE_URL"), Settings.public_base_url) or "",
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
        twilio_phone_number=env.get("TWILIO_PHONE_NUMBER") or None,
        twilio_api_base_url=_base_url("TWILIO_API_BASE_URL", env.get("TWILIO_API_BASE_URL"), None),
        twilio_delete_sent=_bool(env, "TWILIO_DELETE_SENT_MESSAGES", False),
        smtp_host=env.get("SMTP_HOST") or None,
        smtp_port=_int(env, "SMTP_PORT", 587, 1, 65535),
        smtp_username=env.get("SMTP_USERNAME") or None,
        smtp_password=env.get("SMTP_PASSWORD") or None,
        smtp_starttls=_bool(env, "SMTP_STARTTLS", True),
        mail_from=env.get("MAIL_FROM") or Settings.mail_from,
        office_timezone=tz_name,
        office_opens=_time(env, "OFFICE_OPENS", time(9, 0)),
        office_closes=_time(env, "OFFICE_CLOSES", time(17, 0)),
        closure_days=_dates(env, "CLOSURE_DAYS"),
        liberation_day_always_off=_bool(env, "LIBERATION_DAY_ALWAYS_OFF", False),
        hold_minutes=_int(env, "HOLD_MINUTES", 15, 1, 24 * 60),
        min_notice_minutes=_int(env, "MIN_NOTICE_MINUTES", 60, 0, 14 * 24 * 60),
        slot_grid_minutes=_int(env, "SLOT_GRID_MINUTES", 15, 5, 120),
        arrival_gap_minutes=_int(env, "ARRIVAL_GAP_MINUTES", 15, 5, 120),
        departure_gap_minutes=_int(env, "DEPARTURE_GAP_MINUTES", 10, 0, 60),
        intake_norm_working_days=_int(env, "INTAKE_NORM_WORKING_DAYS", 10, 1, 60),
        webhook_signature_check=signature_check,
        sms_sender=_sms_sender(env.get("SMS_SENDER")),
        office_phone=_office_phone(env, environment),
        quiet_start=_time(env, "QUIET_HOURS_START", time(21, 0)),
        quiet_end=_time(env, "QUIET_HOURS_END", time(8, 0)),
        reminder_minutes=_reminders(env),
        retention_days=_int(env, "RETENTION_DAYS", 180, 1, 3650),
        closed_case_erase_days=_int(env, "CLOSED_CASE_ERASE_DAYS", 730, 1, 3650),
        message_max_attempts=_int(env, "MESSAGE_MAX_ATTEMPTS", 8, 1, 30),
        calendar_sync_minutes=_int(env, "CALENDAR_SYNC_MINUTES", 15, 1, 24 * 60),
        calendar_stale_hours=_int(env, "CALENDAR_STALE_HOURS", 24, 1, 24 * 30),
        calendar_window_past_days=_int(env, "CALENDAR_WINDOW_PAST_DAYS", 7, 0, 366),
        calendar_window_future_weeks=_int(env, "CALENDAR_WINDOW_FUTURE_WEEKS", 26, 1, 156),
        calendar_fetch_timeout=_int(env, "CALENDAR_FETCH_TIMEOUT", 15, 1, 300),
        calendar_max_mb=_int(env, "CALENDAR_MAX_MB", 5, 1, 100),
        calendar_allow_private_addresses=_bool(env, "CALENDAR_ALLOW_PRIVATE_ADDRESSES", False),
        voice_nl=env.get("VOICE_NL") or Settings.voice_nl,
        voice_en=env.get("VOICE_EN") or Settings.voice_en,
        session_idle_minutes=_int(env, "SESSION_IDLE_MINUTES", Settings.session_idle_minutes, 1, 24 * 60),
        session_max_hours=_int(env, "SESSION_MAX_HOURS", Settings.session_max_hours, 1, 24 * 30),
        sign_in_limit_account=_rate_limit(env, "SIGN_IN_LIMIT_ACCOUNT", Settings.sign_in_limit_account),
        sign_in_limit_address=_rate_limit(env, "SIGN_IN_LIMIT_ADDRESS", Settings.sign_in_limit_address),
        public_form_limit_address=_rate_limit(env, "PUBLIC_FORM_LIMIT_ADDRESS", Settings.public_form_limit_address),
        callback_limit_number=_rate_limit(env, "CALLBACK_LIMIT_NUMBER", Settings.callback_limit_number),
        confirmation_text_limit_number=_rate_limit(env, "CONFIRMATION_TEXT_LIMIT_NUMBER",
                                                   Settings.confirmation_text_limit_number),
        confirmation_text_limit_address=_rate_limit(env, "CONFIRMATION_TEXT_LIMIT_ADDRESS",
                                                    Settings.confirmation_text_limit_address),
        link_failure_limit_address=_rate_limit(env, "LINK_FAILURE_LIMIT_ADDRESS", Settings.link_failure_limit_address),
        participant_link_hours_after=_int(env, "PARTICIPANT_LINK_HOURS_AFTER", 24, 1, 24 * 90),
        offer_hours=_int(env, "OFFER_HOURS", 48, 1, 24 * 14),
    )
    if settings.office_opens >= settings.office_closes:
        raise ConfigError("OFFICE_OPENS must be before OFFICE_CLOSES")
    if settings.session_idle_minutes > settings.session_max_hours * 60:
        raise ConfigError("SESSION_IDLE_MINUTES must not be longer than SESSION_MAX_HOURS")
    return settings
