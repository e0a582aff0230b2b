"""The clients of tests/support/traffic.py: a browser-like connection, Twilio's signed posts, timed results.

`Client` is one keep-alive connection to gunicorn with a cookie jar of its
own (a staff member's browser, a participant's phone, a script with a bearer
token); gunicorn's sync workers close the connection after each answer and
http.client opens the next one by itself. It sends the Origin a browser on
PUBLIC_BASE_URL would send, so staff and public forms are accepted as they
are in production. Every request is timed from sending to the last byte.

`Result` is one request's outcome for the report: its kind, HTTP status
(0 when no answer came), seconds, and `outcome`: "ok", "refused" (an answer
the operation expects when it loses a race: a booking's or a reschedule's
409) or "error" (anything else). `note` says what went wrong, without
personal data or tokens: a path template and a status.
"""
from __future__ import annotations

import http.client
import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
STARTED = re.compile(r'name="started"[^>]*value="([^"]+)"')


@dataclass(frozen=True)
class Result:
    kind: str
    status: int
    seconds: float
    outcome: str = "ok"      # ok, refused, error
    note: str = ""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    def __init__(self, port: int, origin: str, bearer: str | None = None) -> None:
        self.port, self.origin, self.bearer = port, origin, bearer
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def close(self) -> None:
        self.conn.close()

    def request(self, method: str, path: str, body: bytes | str | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        sent = {"Origin": self.origin, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.bearer:
            sent["Authorization"] = f"Bearer {self.bearer}"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=sent)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # a fresh connection next time
            return Answer(0, {}, b"", time.perf_counter() - started)
        seconds = time.perf_counter() - started
        got: dict[str, str] = {}
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie, _, rest = value.partition("=")
                self.cookies[cookie] = rest.split(";", 1)[0]
            got[name.lower()] = value
        return Answer(response.status, got, data, seconds)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> Answer:
        return self.request("POST", path, urlencode(fields),
                            {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})

    def post_json(self, path: str, payload: Any) -> Answer:
        return self.request("POST", path, json.dumps(payload), {"Content-Type": "application/json"})


def result(kind: str, answer: Answer, ok: tuple[int, ...], refused: tuple[int, ...] = (),
           what: str = "") -> Result:
    """Classify an answer: one of `ok`, one of `refused` (an expected lost race), or an error."""
    if answer.status in ok:
        return Result(kind, answer.status, answer.seconds)
    if answer.status in refused:
        return Result(kind, answer.status, answer.seconds, "refused")
    return Result(kind, answer.status, answer.seconds, "error", f"{what or kind}: HTTP {answer.status}")


def form_fields(html: str) -> dict[str, str]:
    """The hidden fields a page's form carries (the form token and, on public forms, the start stamp)."""
    fields = {}
    for name, pattern in (("csrf_token", CSRF), ("started", STARTED)):
        found = pattern.search(html)
        if found:
            fields[name] = found.group(1)
    return fields


class TwilioSigner:
    """Signs a voice webhook as Twilio does: over PUBLIC_BASE_URL + path (query included) and the form."""

    def __init__(self, public_base_url: str, auth_token: str) -> None:
        self.base, self.validator = public_base_url, RequestValidator(auth_token)

    def post(self, client: Client, path: str, params: dict[str, str]) -> Answer:
        signature = self.validator.compute_signature(self.base + path, params)
        return client.post_form(path, params, {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"})

    def path_of(self, url: str | None) -> str | None:
        """An action URL Pendel handed out, as a path on our server; None if it is not ours."""
        if not url or not url.startswith(self.base + "/telephony/voice/"):
            return None
        return url[len(self.base):]
