"""Which channel sends SMS and which sends email, decided once from the settings.

A fresh machine has neither a Twilio account nor a mail server, and must still
run the whole outbox path: each real channel is used only when its settings
are there, and the console channel (logged and stored, not sent) otherwise.
"""
from __future__ import annotations

from core.config import ConfigError, Settings
from core.twilio_client import make_twilio_client
from notifications.channels.base import Channel
from notifications.channels.console import ConsoleChannel
from notifications.channels.email_smtp import SmtpEmailChannel
from notifications.channels.sms_twilio import TwilioSmsChannel


def build_channels(settings: Settings) -> dict[str, Channel]:
    """`{"sms": ..., "email": ...}` for these settings.

    Twilio credentials without any sender stop the start (ConfigError) rather
    than fall back to the console: in production that fallback would quietly
    send nothing.
    """
    channels: dict[str, Channel] = {}
    if settings.twilio_account_sid and settings.twilio_auth_token:
        sender = settings.sms_sender or settings.twilio_phone_number
        if not sender:
            raise ConfigError("TWILIO_PHONE_NUMBER or SMS_SENDER must be set to send SMS through Twilio")
        channels["sms"] = TwilioSmsChannel(make_twilio_client(settings), sender, settings.public_base_url)
    else:
        channels["sms"] = ConsoleChannel("sms")
    if settings.smtp_host:
        channels["email"] = SmtpEmailChannel(
            host=settings.smtp_host, port=settings.smtp_port, username=settings.smtp_username,
            password=settings.smtp_password, starttls=settings.smtp_starttls, mail_from=settings.mail_from)
    else:
        channels["email"] = ConsoleChannel("email")
    return channels
