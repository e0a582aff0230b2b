"""A local HTTP server playing Twilio's Messages and Calls APIs, for the real `twilio` client.

Point the app at it with `TWILIO_API_BASE_URL` (see `env()` and
`settings_changes()`). It answers like Twilio: 201 with a message resource,
401 for wrong credentials, 400 with Twilio's error codes for a bad request,
and quotes the phone number in its error messages as Twilio does, so tests
can check that our errors never repeat it. Failures are scripted per test.

Every request is recorded; `messages` and `calls` are the creations it
accepted (201). A message accepted and then dropped (`drop_next`) or answered
too late for the client (`delay`) counts as accepted, like at Twilio: that is
where the only allowed duplicates come from. Scripted failures apply to the
next creations of either kind; the Calls part lives in tests.support.twilio_calls.
"""
from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any, Callable

from notifications.sms import segments
from tests.support.twilio_calls import CALL_ERROR_TEXT, CALLS, FormListsHTTPServer, call_problem, call_resource

DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "standin-auth-token"
DEFAULT_PHONE_NUMBER = "+3197010000001"
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages(?:/(?P<sid>SM[0-9a-f]{32}))?\.json$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_ERROR_TEXT = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    21211: "The 'To' number {to} is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient {to}",
    21614: "'To' number {to} is not a valid mobile number",
}


@dataclass(frozen=True)
class Failure:
    """One scripted answer: an HTTP status with Twilio's error code (None: no code), and a Retry-After
    header (seconds or an HTTP date; None: no header)."""
    status: int = 503
    code: int | None = None
    message: str | None = None
    retry_after: str | None = None


@dataclass(frozen=True)
class TwilioRequest:
    """A request as the stand-in saw it; `status` is what it answered (0: dropped unanswered)."""
    method: str
    path: str
    form: dict[str, str]
    auth: tuple[str, str] | None
    status: int
    sid: str | None = None
    at: float = field(default_factory=time.time)
    lists: dict[str, list[str]] = field(default_factory=dict)  # every value of every field (repeated ones)

    @property
    def is_call(self) -> bool:
        return "/Calls" in self.path


class TwilioStandin:
    """The stand-in. `start()`/`stop()` or `with TwilioStandin() as standin:`; thread-safe.

    After `stop()`, `start()` listens again on the same port, so a test can
    take Twilio away and bring it back while the app keeps its settings.
    """

    def __init__(self, account_sid: str = DEFAULT_ACCOUNT_SID, auth_token: str = DEFAULT_AUTH_TOKEN,
                 phone_number: str = DEFAULT_PHONE_NUMBER, host: str = "127.0.0.1", port: int = 0) -> None:
        self.account_sid, self.auth_token, self.phone_number = account_sid, auth_token, phone_number
        self._lock = threading.Condition()
        self._requests: list[TwilioRequest] = []
        self._stored: dict[str, dict[str, Any]] = {}
        self._next: deque[Failure | None] = deque()  # None in the queue means "drop after accepting"
        self._always: Failure | None = None
        self._numbers: list[tuple[str, Failure]] = []
        self._delay = 0.0
        self._headers: dict[str, str] = {}  # extra headers of the answer being decided (under the lock)
        self._before_answer: Callable[[TwilioRequest], None] | None = None
        self._http = FormListsHTTPServer(self._answer, host, port)

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> "TwilioStandin":
        self._http.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection (kept-alive ones too): then connects are refused."""
        self._http.stop()

    def __enter__(self) -> "TwilioStandin":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return self._http.host

    @property
    def port(self) -> int:
        return self._http.port

    @property
    def base_url(self) -> str:
        return self._http.base_url

    def env(self) -> dict[str, str]:
        """Environment variables that point a `worker.py` or the app at this stand-in."""
        return {"TWILIO_ACCOUNT_SID": self.account_sid, "TWILIO_AUTH_TOKEN": self.auth_token,
                "TWILIO_PHONE_NUMBER": self.phone_number, "TWILIO_API_BASE_URL": self.base_url}

    def settings_changes(self) -> dict[str, str]:
        """For `dataclasses.replace(settings, **standin.settings_changes())`."""
        return {"twilio_account_sid": self.account_sid, "twilio_auth_token": self.auth_token,
                "twilio_phone_number": self.phone_number, "twilio_api_base_url": self.base_url}

    # -- scripting --------------------------------------------------------------------------
    def fail_next(self, n: int = 1, status: int = 503, code: int | None = None, message: str | None = None,
                  retry_after: str | None = None) -> None:
        """The next n creations (messages or calls) fail with this status (and Twilio error code, and a
        Retry-After header: `fail_next(status=429, retry_after="120")` is Twilio's "too many requests")."""
        with self._lock:
            self._next.extend(Failure(status, code, message, retry_after) for _ in range(n))

    def fail_always(self, status: int = 503, code: int | None = None, message: str | None = None) -> None:
        """Every creation (message or call) fails (after any `fail_next` ones) until `reset()`."""
        with self._lock:
            self._always = Failure(status, code, message)

    def fail_number(self, suffix: str, status: int = 400, code: int | None = 21610,
                    message: str | None = None) -> None:
        """Messages (and calls) to numbers ending in `suffix` always fail, 21610 (unsubscribed) by default."""
        with self._lock:
            self._numbers.append((suffix, Failure(status, code, message)))

    def drop_next(self, n: int = 1) -> None:
        """The next n creations are accepted and recorded, then the connection closes unanswered."""
        with self._lock:
            self._next.extend(None for _ in range(n))

    def delay(self, seconds: float) -> None:
        """Wait this long before answering each request (0 to stop); the work is still done."""
        with self._lock:
            self._delay = seconds

    def before_answer(self, hook: Callable[[TwilioRequest], None] | None) -> None:
        """Run `hook(request)` after a creation is accepted and before its answer goes out: what
        Twilio does meanwhile (a status callback that outruns the answer). None: no hook."""
        with self._lock:
            self._before_answer = hook

    def reset(self) -> None:
        """Forget all scripted failures and the delay (keeps the records)."""
        with self._lock:
            self._next.clear()
            self._always, self._numbers, self._delay, self._before_answer = None, [], 0.0, None

    def clear(self) -> None:
        """Forget the records."""
        with self._lock:
            self._requests.clear()
            self._stored.clear()

    # -- what it saw ------------------------------------------------------------------------
    @property
    def requests(self) -> list[TwilioRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def messages(self) -> list[TwilioRequest]:
        """The message creations it accepted, in order (dropped ones included)."""
        with self._lock:
            return [r for r in self._requests if r.sid and r.method == "POST" and not r.is_call]

    @property
    def calls(self) -> list[TwilioRequest]:
        """The calls it was asked to place and accepted, in order (dropped ones included)."""
        with self._lock:
            return [r for r in self._requests if r.sid and r.method == "POST" and r.is_call]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[TwilioRequest]:
        """Block until at least `count` messages were accepted; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(accepted := [r for r in self._requests
                                   if r.sid and r.method == "POST" and not r.is_call]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"Twilio stand-in got {len(accepted)} messages, expected {count}")
                self._lock.wait(left)
            return accepted

    # -- the API ----------------------------------------------------------------------------
    def _answer(self, method: str, path: str, form: dict[str, str],
                auth: tuple[str, str] | None) -> tuple[int, bytes, str] | None:
        with self._lock:
            delay = self._delay
        if delay and self._http.stopping.wait(delay):
            return None  # stopped while waiting: nothing taken, nothing answered
        with self._lock:
            status, payload, sid = self._decide(method, path.split("?", 1)[0], form, auth)
            headers, self._headers = self._headers, {}
            seen = TwilioRequest(method, path, form, auth, status, sid, lists=self._http.lists())
            self._requests.append(seen)
            self._lock.notify_all()
            hook = self._before_answer if sid else None
        if hook is not None:
            hook(seen)
        if status == 0:  # dropped: the message was taken, the answer never comes
            return None
        return (status, b"" if payload is None else json.dumps(payload).encode("utf-8"), "application/json",
                headers)

    def _decide(self, method: str, path: str, form: dict[str, str],
                auth: tuple[str, str] | None) -> tuple[int, dict[str, Any] | None, str | None]:
        """(status, payload, sid of a created message or call); status 0 means drop. Holds the lock."""
        match = _MESSAGES.match(path) or CALLS.match(path)
        is_call = match is not None and match.re is CALLS
        if auth != (self.account_sid, self.auth_token):
            return 401, self._error(Failure(401, 20003), form), None
        if not match or match["account"] != self.account_sid:
            return 404, self._error(Failure(404, 20404), form), None
        if match["sid"]:  # GET or DELETE one message or call (DELETE is how bodies are erased at Twilio)
            if match["sid"] not in self._stored or method not in ("GET", "DELETE"):
                return 404, self._error(Failure(404, 20404), form), None
            stored = self._stored.pop(match["sid"]) if method == "DELETE" else self._stored[match["sid"]]
            return (204, None, None) if method == "DELETE" else (200, stored, None)
        if method != "POST":
            return 405, self._error(Failure(405), form), None
        to = form.get("To", "")
        code = call_problem(form) if is_call else self._message_problem(form)
        if code is not None:
            return 400, self._error(Failure(400, code), form), None
        for suffix, rule in self._numbers:
            if to.endswith(suffix):
                return rule.status, self._error(rule, form), None
        failure: Failure | None = None
        if self._next:
            failure = self._next.popleft()
            if failure is None:  # accept, then drop the connection
                return 0, None, self._create(form, is_call)["sid"]
        elif self._always is not None:
            failure = self._always
        if failure is not None:
            if failure.retry_after is not None:
                self._headers = {"Retry-After": failure.retry_after}
            return failure.status, self._error(failure, form), None
        payload = self._create(form, is_call)
        return 201, payload, payload["sid"]

    @staticmethod
    def _message_problem(form: dict[str, str]) -> int | None:
        to = form.get("To", "")
        for code, wrong in ((21604, not to), (21211, not _E164.match(to)),
                            (21603, not (form.get("From") or form.get("MessagingServiceSid"))),
                            (21602, not form.get("Body"))):
            if wrong:
                return code
        return None

    def _create(self, form: dict[str, str], is_call: bool = False) -> dict[str, Any]:
        if is_call:
            call = call_resource(self.account_sid, form)
            self._stored[call["sid"]] = call
            return call
        sid = "SM" + uuid.uuid4().hex
        now = format_datetime(datetime.now(timezone.utc))
        body = form.get("Body", "")
        payload = {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "body": body,
            "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"), "num_media": "0",
            "num_segments": str(segments(body)), "price": None, "price_unit": "USD", "sid": sid,
            "status": "accepted" if form.get("MessagingServiceSid") and not form.get("From") else "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "to": form.get("To"), "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        self._stored[sid] = payload
        return payload

    @staticmethod
    def _error(failure: Failure, form: dict[str, str]) -> dict[str, Any]:
        """Twilio's error body; like Twilio's, the message may quote the number."""
        code = failure.code if failure.code is not None else (20429 if failure.status == 429 else None)
        text = failure.message or (_ERROR_TEXT | CALL_ERROR_TEXT).get(
            code or 0, "Service Unavailable" if failure.status >= 500 else "Bad Request")
        text = text.replace("{to}", form.get("To", "")).replace("{from}", form.get("From", ""))
        payload: dict[str, Any] = {"message": text, "status": failure.status}
        if code is not None:
            payload |= {"code": code, "more_info": f"https://www.twilio.com/docs/errors/{code}"}
        return payload
