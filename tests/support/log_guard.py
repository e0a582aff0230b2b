"""The whole suite runs with a log handler that fails a test whose logs carry personal data.

Installed on the root logger by tests/conftest.py, so it hears every record of the test process (the app's
own loggers, werkzeug's access log of the browser tests' server, SQLAlchemy, RQ) after the loggers' own
filters have masked what they mask. A record that holds a phone number, an email address, a participant's
link token or a bearer token, the name of a test participant, or a line of a message text is kept, and the
test fails at its end naming the logger and the kind of data (never the data itself).

Processes a test starts (worker.py, flask commands) log to their own streams; what they print is checked
by the tests that read it.
"""
from __future__ import annotations

import logging
import re

# What must never be in a log line, by kind. Names follow tests/factories.py and the demo data's pattern
# ("Person 12.0"); message texts, the opening words of the participants' and callers' templates.
PATTERNS = {
    "phone number": re.compile(r"(?<![\w/])\+\d{9,15}\b|(?<![\w/])06[ -]?\d{8}\b"),
    "email address": re.compile(r"[\w.+-]+@[\w-]+\.[A-Za-z][\w.-]*"),
    "link token": re.compile(r"/a/[A-Za-z0-9_-]{22}\b"),
    "bearer token": re.compile(r"Bearer\s+[A-Za-z0-9_-]{20,}"),
    "participant name": re.compile(r"\bPerson \d+\.\d+\b"),
    "message text": re.compile(r"Bedankt voor uw|Uw afspraak|Your appointment|Wij bellen u terug|We will call you back"),
}


class PersonalDataInLogs(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is logging's own problem
            return
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]}"
        for kind, pattern in PATTERNS.items():
            if pattern.search(text):
                self.found.append(f"{record.name}: {kind}")


GUARD = PersonalDataInLogs()
