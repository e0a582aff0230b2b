"""Only Twilio talks to the Twilio webhooks (invariant 4 in docs/architecture.md).

Twilio signs every webhook with the account's auth token: an HMAC over the
full URL it called (query string included) followed by the sorted POST
parameters, sent as `X-Twilio-Signature`. We rebuild that URL from
`PUBLIC_BASE_URL` + path + query, never from the URL this process saw: behind
a proxy or load balancer the scheme, host and port the app sees differ from
what Twilio called, and validating against those would either refuse every
genuine request or tempt someone to switch the check off.

A missing or wrong signature gets a bare 403 before the view runs, so nothing
changes and the caller learns nothing about why. Only the development setting
`TWILIO_SKIP_SIGNATURE_CHECK` (refused in production by core.config) skips it;
a missing auth token with the check on refuses everything (fail closed).
"""
from __future__ import annotations

import logging
from functools import wraps
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import quote

from flask import Response, request
from twilio.request_validator import RequestValidator

from core.config import Settings
from core.runtime import current

F = TypeVar("F", bound=Callable[..., Any])
SIGNATURE_HEADER = "X-Twilio-Signature"
# Characters a path keeps unescaped (RFC 3986 pchar plus "/"); werkzeug hands us the decoded path.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"

log = logging.getLogger(__name__)


def signed_url(settings: Settings) -> str:
    """The URL Twilio called: public base + path + query exactly as sent, no "?" when there is none."""
    base = settings.public_base_url.rstrip("/")
    url = base + quote(request.path, safe=_PATH_SAFE)
    query = request.query_string.decode("latin-1")  # raw bytes as received, still percent-encoded
    return f"{url}?{query}" if query else url


def signature_valid(settings: Settings) -> bool:
    """Whether the current request carries Twilio's signature for our public URL and its form."""
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature or not settings.twilio_auth_token:
        return False
    validator = RequestValidator(settings.twilio_auth_token)
    return bool(validator.validate(signed_url(settings), request.form, signature))


def twilio_signed(view: F) -> F:
    """Guard a Twilio webhook view: 403 (plain text, no detail) unless Twilio signed the request."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        settings = current().settings
        if settings.webhook_signature_check and not signature_valid(settings):
            # The path only: never the parameters (they carry phone numbers and message text).
            log.warning("refused a webhook without a valid Twilio signature: %s %s", request.method, request.path)
            return Response("Forbidden", status=403, mimetype="text/plain")
        return view(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def sign(url: str, params: Mapping[str, str], token: str) -> str:
    """The `X-Twilio-Signature` Twilio would send for a POST of `params` to `url` (for tests and tools)."""
    return str(RequestValidator(token).compute_signature(url, dict(params)))
