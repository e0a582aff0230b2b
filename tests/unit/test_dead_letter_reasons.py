"""Why a message did not arrive, read from its row's last_error (notifications.dead_letters.reason_of)."""
from __future__ import annotations

import pytest

from notifications.dead_letters import REASONS, reason_of


@pytest.mark.parametrize("last_error, reason", [
    # Twilio at the send (notifications.channels.sms_twilio.classify_twilio_error, jobs._error)
    ("permanent: Twilio HTTP 400, error 21211", "number_invalid"),
    ("permanent: Twilio HTTP 400, error 21421", "number_invalid"),
    ("permanent: Twilio HTTP 400, error 21614", "not_mobile"),
    ("permanent: Twilio HTTP 400, error 21407", "not_mobile"),
    ("permanent: Twilio HTTP 400, error 21610", "unsubscribed"),
    ("permanent: Twilio HTTP 400, error 21408", "rejected"),
    ("permanent: Twilio HTTP 403, error 20003", "rejected"),
    # Twilio's status callback (notifications.webhooks.apply_status)
    ("undelivered at the provider (error 30005)", "number_invalid"),
    ("failed at the provider (error 30006)", "not_mobile"),
    ("undelivered at the provider (error 30007)", "rejected"),
    ("undelivered at the provider (error 30003)", "other"),
    ("undelivered at the provider", "other"),
    # SMTP (notifications.channels.email_smtp._reply_code)
    ("permanent: SMTP 550 5.1.1 at RCPT", "mailbox_unknown"),
    ("permanent: SMTP 553 at RCPT", "mailbox_unknown"),
    ("permanent: SMTP 550 5.7.1 at DATA", "rejected"),
    ("permanent: SMTP 552 at DATA", "rejected"),
    # running out of attempts (jobs._retry_or_die, dispatcher)
    ("transient: SMTP 451 at RCPT (after 8 attempts)", "too_many_attempts"),
    ("transient: Twilio HTTP 503, error 20429 (after 4 attempts)", "too_many_attempts"),
    ("no outcome from the last attempt (job lost)", "too_many_attempts"),
    # anything else
    ("no sms channel configured", "other"),
    ("permanent: email could not be built (ValueError) (code build)", "other"),
    (None, "other"),
    ("", "other"),
])
def test_reason_of(last_error: str | None, reason: str) -> None:
    assert reason_of(last_error) == reason
    assert reason in REASONS
