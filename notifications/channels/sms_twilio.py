"""SMS through Twilio's Messages API, with failures sorted into transient and permanent.

The sorting decides whether a message is retried or marked dead at once, so
it follows what can change by waiting:

- 429, 5xx, timeouts and connection errors are Twilio's or the network's
  trouble: retry. A 429's `Retry-After` goes with the error, so the next
  attempt waits at least that long. So are the few 4xx codes that mean "not now" (the queue of
  the sending number is full, a rate limit) and a rejected login (401): a
  rotated or mistyped auth token is the office's to fix, and killing every
  queued message at once for it would lose them; the attempt cap still ends
  each one dead and visible to staff if it is never fixed.
- Any other 4xx is about this message (invalid number 21211, unsubscribed
  21610, no permission for the region 21408, not a mobile number 21614):
  it will never go, and retrying would only annoy Twilio.

Twilio's own error text quotes the phone number ("The 'To' number +31... is
not a valid phone number"), so it is never copied into our errors: they carry
only the HTTP status and Twilio's error code, and are raised `from None` so a
logged traceback does not show the original either.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.rest import Client

from notifications import backoff
from notifications.channels.base import Accepted, Envelope, PermanentSendError, TransientSendError

STATUS_CALLBACK_PATH = "/telephony/sms/status"
# 4xx codes that mean "later", not "never".
TRANSIENT_CODES = frozenset({
    14107,  # SMS send rate limit exceeded
    20003,  # authentication failed (credentials are ours to fix)
    20429,  # too many requests
    21611,  # the sender's queue of messages is full
})


def _is_messaging_service(sender: str) -> bool:
    return sender.startswith("MG") and len(sender) == 34


class TwilioSmsChannel:
    """Sends an `Envelope` as one SMS; returns Twilio's message SID and status ("queued", "accepted").

    `sender` is an E.164 number (replies work), an alphanumeric sender name
    (one-way), or a Messaging Service SID (`MG...`, Twilio picks the number).
    `status_callback_base` (the public base URL) gives the default status
    callback when the envelope brings none.
    """

    name = "sms"

    def __init__(self, client: Client, sender: str, status_callback_base: str | None = None) -> None:
        if not sender:
            raise ValueError("an SMS sender (number, name or Messaging Service SID) is needed")
        self.client = client
        self.sender = sender
        self.status_callback_base = status_callback_base.rstrip("/") if status_callback_base else None

    def status_callback_for(self, envelope: Envelope) -> str | None:
        if envelope.status_callback_url:
            return envelope.status_callback_url
        if self.status_callback_base:
            return self.status_callback_base + STATUS_CALLBACK_PATH
        return None

    def send(self, envelope: Envelope) -> Accepted:
        kwargs: dict[str, Any] = {"to": envelope.to, "body": envelope.body}
        if _is_messaging_service(self.sender):
            kwargs["messaging_service_sid"] = self.sender
        else:
            kwargs["from_"] = self.sender
        callback = self.status_callback_for(envelope)
        if callback:
            kwargs["status_callback"] = callback
        try:
            message = self.client.messages.create(**kwargs)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise classify_twilio_error(exc.status, exc.code, self._retry_after()) from None
        except requests.Timeout:
            raise TransientSendError("Twilio did not answer in time", code="timeout") from None
        except requests.ConnectionError:
            raise TransientSendError("Twilio could not be reached", code="connection") from None
        except requests.RequestException as exc:
            raise TransientSendError(f"Twilio request failed ({type(exc).__name__})", code="http") from None
        except json.JSONDecodeError:
            # A 2xx whose body is not JSON: Twilio may have taken the message, but
            # without its SID we cannot follow it; at least once means try again.
            raise TransientSendError("Twilio answered with an unreadable body", code="response") from None
        except TwilioException as exc:
            raise TransientSendError(f"Twilio client error ({type(exc).__name__})", code="client") from None
        if not message.sid:
            raise TransientSendError("Twilio answered without a message SID", code="response")
        return Accepted(message.sid, str(message.status)[:20] if message.status else None)

    def delete(self, sid: str) -> bool:
        """Delete the provider's copy of a message (its body and number with it): True once it is gone
        (deleted now, or before), False while Twilio still delivers it (error 20009: try again later)."""
        try:
            self.client.messages(sid).delete()
        except (TwilioRestException, TwilioServiceException) as exc:
            if exc.status == 404:
                return True
            if str(exc.code) == "20009":
                return False
            raise classify_twilio_error(exc.status, exc.code, self._retry_after()) from None
        except requests.RequestException as exc:
            raise TransientSendError(f"Twilio request failed ({type(exc).__name__})", code="http") from None
        return True

    def _retry_after(self) -> float | None:
        """Seconds Twilio's last answer asked us to wait (Retry-After), if it said."""
        last_header = getattr(self.client.http_client, "last_header", None)
        delay = backoff.retry_after(last_header("Retry-After"), datetime.now(timezone.utc)) if last_header else None
        return delay.total_seconds() if delay is not None else None


def classify_twilio_error(status: int | str | None, code: int | str | None,
                          retry_after: float | None = None) -> TransientSendError | PermanentSendError:
    """The send error for an HTTP status and Twilio error code (no text of Twilio's).

    `retry_after`: seconds the answer's Retry-After asked for (kept on a transient error only).
    """
    status = int(status) if str(status or "").isdigit() else 0
    number = int(code) if str(code or "").isdigit() else None
    code_text = str(code) if code is not None else None
    what = f"Twilio HTTP {status}" + (f", error {code_text}" if code_text else "")
    if status == 429 or status >= 500 or status == 401 or status == 0 or number in TRANSIENT_CODES:
        return TransientSendError(what, code=code_text, retry_after=retry_after)
    return PermanentSendError(what, code=code_text)
