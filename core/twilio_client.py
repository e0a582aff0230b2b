"""The one place a `twilio.rest.Client` is made.

`twilio` 9.x has no base-URL setting, and `client.api.base_url` is rewritten
by the library as soon as `TWILIO_EDGE` or `TWILIO_REGION` is set (it turns
`127.0.0.1` into `127.0.0.1.dublin.ie1...`). So `TWILIO_API_BASE_URL` is
honoured one level lower, in the HTTP client: every request whose host is
Twilio's has its scheme and host swapped for the base URL's, after the
library has chosen the edge and region, so path and query stay Twilio's own.

Every request gets a timeout: without one, a provider that accepts the TCP
connection and never answers would hold a worker forever.

The library's errors carry no response headers, so the client keeps the last
answer's headers (per thread) for a caller that needs one: a 429's
`Retry-After` says when Twilio wants us back.
"""
from __future__ import annotations

import threading
from typing import Dict, Optional, Tuple
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from core.config import Settings

DEFAULT_TIMEOUT_SECONDS = 10.0


def _is_twilio_host(host: str | None) -> bool:
    host = (host or "").lower()
    return host == "twilio.com" or host.endswith(".twilio.com")


class BaseUrlHttpClient(TwilioHttpClient):
    """A `TwilioHttpClient` that sends Twilio's requests to another base URL.

    A base URL with a path (`http://127.0.0.1:8080/twilio`) prefixes Twilio's
    path. URLs that are not Twilio's (none are made today) pass unchanged.
    """

    def __init__(self, base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        if timeout is None or timeout <= 0:
            raise ValueError("a Twilio request needs a positive timeout")
        super().__init__(timeout=timeout)
        self._last = threading.local()
        self.base_url = base_url.rstrip("/") if base_url else None
        if self.base_url:
            base = urlsplit(self.base_url)
            if base.scheme not in ("http", "https") or not base.netloc:
                raise ValueError("TWILIO_API_BASE_URL must be an http(s) URL")
            self._base = base

    def rewrite(self, url: str) -> str:
        """Swap scheme and host of a Twilio URL for the base URL's; keep path and query."""
        if not self.base_url:
            return url
        parts = urlsplit(url)
        if not _is_twilio_host(parts.hostname):
            return url
        path = self._base.path.rstrip("/") + parts.path
        return urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, parts.fragment))

    def request(
        self,
        method: str,
        url: str,
        params: Optional[Dict[str, object]] = None,
        data: Optional[Dict[str, object]] = None,
        headers: Optional[Dict[str, str]] = None,
        auth: Optional[Tuple[str, str]] = None,
        timeout: Optional[float] = None,
        allow_redirects: bool = False,
    ) -> Response:
        self._last.headers = None
        response = super().request(
            method, self.rewrite(url), params=params, data=data, headers=headers, auth=auth,
            timeout=timeout if timeout is not None else self.timeout, allow_redirects=allow_redirects)
        self._last.headers = response.headers
        return response

    def last_header(self, name: str) -> str | None:
        """A header of the last answer this thread got (None if absent, or if no answer came)."""
        headers = getattr(self._last, "headers", None)
        return headers.get(name) if headers is not None else None


def make_twilio_client(settings: Settings, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Client:
    """A Twilio REST client for the configured account, honouring TWILIO_API_BASE_URL.

    Make it in the process that uses it (after a worker forks), so pooled
    connections are never shared between processes.
    """
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        raise ValueError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed for a Twilio client")
    return Client(
        username=settings.twilio_account_sid,
        password=settings.twilio_auth_token,
        account_sid=settings.twilio_account_sid,
        http_client=BaseUrlHttpClient(settings.twilio_api_base_url, timeout=timeout),
    )
