"""The Calls part of the Twilio stand-in (tests.support.twilio_standin): placing a call.

`POST /2010-04-01/Accounts/<sid>/Calls.json` needs To, From and one of Url,
Twiml or ApplicationSid, like Twilio; the answer is a call resource with a
`CA…` sid in Twilio's JSON shape, so `client.calls.create(...)` of the real
`twilio` library parses it. Errors carry Twilio's codes and, like Twilio's,
may quote the number.

Twilio's client sends a list (StatusCallbackEvent) as repeated form fields;
the shared HTTP server keeps the last value of each field only, so the
stand-in listens through `FormListsHTTPServer`, which also hands over every
value of every field (`TwilioRequest.lists`).
"""
from __future__ import annotations

import io
import re
import threading
import uuid
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.threaded_http import ThreadedHTTPServer, _Handler

CALLS = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Calls(?:/(?P<sid>CA[0-9a-f]{32}))?\.json$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
CALL_ERROR_TEXT = {
    21201: "No 'To' number is specified",
    21205: "Url parameter is required. Please provide a Url, Twiml or ApplicationSid.",
    21210: "The source phone number provided, {from}, is not yet verified for your account.",
    21211: "Invalid 'To' Phone Number: {to}",
    21213: "No 'From' number is specified",
    21215: "Geo Permission configuration is not permitting call to {to}",
    21216: "Account not allowed to call {to}",
    21217: "Phone number does not appear to be valid",
}


def call_problem(form: dict[str, str]) -> int | None:
    """The Twilio error code for a Calls create Twilio would refuse (400), or None when it is fine."""
    to, sender = form.get("To", ""), form.get("From", "")
    url = form.get("Url", "")
    checks = ((21201, not to), (21213, not sender),
              (21205, not (url or form.get("Twiml") or form.get("ApplicationSid"))),
              (21211, not _E164.match(to)), (21210, not _E164.match(sender)),
              (21205, bool(url) and urlsplit(url).scheme not in ("http", "https")),
              (21205, bool(form.get("StatusCallback")) and urlsplit(form["StatusCallback"]).scheme
               not in ("http", "https")))
    for code, wrong in checks:
        if wrong:
            return code
    timeout = form.get("Timeout")
    if timeout is not None and not (timeout.isdigit() and 1 <= int(timeout) <= 600):
        return 21217
    return None


def call_resource(account_sid: str, form: dict[str, str]) -> dict[str, Any]:
    """A freshly queued outbound call as Twilio's API describes it."""
    sid = "CA" + uuid.uuid4().hex
    now = format_datetime(datetime.now(timezone.utc))
    uri = f"/2010-04-01/Accounts/{account_sid}/Calls/{sid}"
    return {
        "account_sid": account_sid, "annotation": None, "answered_by": None, "api_version": "2010-04-01",
        "caller_name": None, "date_created": now, "date_updated": now, "direction": "outbound-api",
        "duration": None, "end_time": None, "forwarded_from": None, "from": form.get("From"),
        "from_formatted": form.get("From"), "group_sid": None, "parent_call_sid": None,
        "phone_number_sid": "PN" + uuid.uuid5(uuid.NAMESPACE_URL, form.get("From", "")).hex,
        "price": None, "price_unit": "USD", "queue_time": "0", "sid": sid, "start_time": None,
        "status": "queued", "stir_verstat": None, "to": form.get("To"), "to_formatted": form.get("To"),
        "trunk_sid": None, "uri": uri + ".json",
        "subresource_uris": {name: f"{uri}/{path}.json" for name, path in (
            ("notifications", "Notifications"), ("recordings", "Recordings"), ("payments", "Payments"),
            ("events", "Events"), ("siprec", "Siprec"), ("streams", "Streams"),
            ("user_defined_message_subscriptions", "UserDefinedMessageSubscriptions"),
            ("user_defined_messages", "UserDefinedMessages"))},
    }


class _ListsHandler(_Handler):
    """The shared handler, after stashing every value of every form field for this thread."""

    def _handle_with_lists(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        owner: FormListsHTTPServer = self.server.owner  # type: ignore[assignment]
        owner.local.lists = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        real, self.rfile = self.rfile, io.BytesIO(raw)  # the base handler reads the body again
        try:
            self._handle()
        finally:
            self.rfile = real
            owner.local.lists = {}

    do_POST = do_GET = do_DELETE = do_PUT = _handle_with_lists


class FormListsHTTPServer(ThreadedHTTPServer):
    """`ThreadedHTTPServer` whose `answer` callback can read `lists()`: all values of the form's fields."""

    handler_class = _ListsHandler

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.local = threading.local()

    def lists(self) -> dict[str, list[str]]:
        return dict(getattr(self.local, "lists", {}))
