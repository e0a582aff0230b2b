"""calendars.caldav_source.fetch_caldav against a real Radicale and against broken servers.

The busy intervals are the end-to-end check: what Radicale stores, fetched
and merged by ``fetch_caldav``, read by ``parse_busy``. The window (2 March -
6 April 2026) contains the spring DST change (Sunday 29 March).
"""
from __future__ import annotations

import base64
import logging
import socket
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest

from calendars.caldav_source import fetch_caldav
from calendars.errors import SourceError
from calendars.ics_import import parse_busy
from tests.support.radicale_server import RadicaleServer, radicale  # noqa: F401

UTC = timezone.utc
WINDOW = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 4, 6, tzinfo=UTC))
PRIVATE = "Mediation Jansen versus De Vries"  # event text that must never reach a log

AMSTERDAM = """BEGIN:VTIMEZONE
TZID:Europe/Amsterdam
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE"""
LONDON = """BEGIN:VTIMEZONE
TZID:Europe/London
BEGIN:STANDARD
TZOFFSETFROM:+0100
TZOFFSETTO:+0000
DTSTART:19701025T020000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
BEGIN:DAYLIGHT
TZOFFSETFROM:+0000
TZOFFSETTO:+0100
DTSTART:19700329T010000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
END:VTIMEZONE"""


def calendar(*parts: str) -> str:
    return "\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//CalDAV//EN", *parts, "END:VCALENDAR"])


def event(uid: str, *lines: str) -> str:
    return "\n".join(["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260201T120000Z", f"SUMMARY:{PRIVATE}",
                      *lines, "END:VEVENT"])


SINGLE = calendar(LONDON, event("single@test", "DTSTART;TZID=Europe/London:20260304T100000",
                                "DTEND;TZID=Europe/London:20260304T110000"))
WEEKLY = calendar(AMSTERDAM, event(
    "weekly@test", "DTSTART;TZID=Europe/Amsterdam:20260303T140000", "DTEND;TZID=Europe/Amsterdam:20260303T150000",
    "RRULE:FREQ=WEEKLY;COUNT=6", "EXDATE;TZID=Europe/Amsterdam:20260317T140000",
), event(  # the 24 March meeting moved to Thursday morning
    "weekly@test", "RECURRENCE-ID;TZID=Europe/Amsterdam:20260324T140000",
    "DTSTART;TZID=Europe/Amsterdam:20260326T090000", "DTEND;TZID=Europe/Amsterdam:20260326T100000"))
TRANSPARENT = calendar(AMSTERDAM, event("transparent@test", "DTSTART;TZID=Europe/Amsterdam:20260305T090000",
                                        "DTEND;TZID=Europe/Amsterdam:20260305T170000", "TRANSP:TRANSPARENT"))
OUTSIDE = calendar(event("outside@test", "DTSTART:20260512T090000Z", "DTEND:20260512T100000Z"))
# Floating 01:00 on 6 April is 23:00 UTC on 5 April in Amsterdam: inside the window,
# although a server comparing it as UTC would put it outside.
FLOATING = calendar(event("floating@test", "DTSTART:20260406T010000", "DTEND:20260406T020000"))


def busy(document: bytes) -> list[tuple[str, str, str, str | None]]:
    result = parse_busy(document, *WINDOW, default_tz=ZoneInfo("Europe/Amsterdam"), all_day_busy=True)
    assert result.skipped_events == 0, result.skipped_reasons
    return [(i.start.strftime("%m-%dT%H:%M"), i.end.strftime("%m-%dT%H:%M"), i.uid, i.recurrence_id)
            for i in result.intervals]


def fetch(server: RadicaleServer, url: str | None = None, password: str | None = None,
          timeout: float = 10.0) -> bytes:
    return fetch_caldav(url or server.calendar_url, server.username, password or server.password,
                        *WINDOW, timeout=timeout)


def refused(call, *fragments: str) -> str:
    """The SourceError's message, checked to name no address, user or secret."""
    with pytest.raises(SourceError) as caught:
        call()
    message = str(caught.value)
    for secret in fragments:
        assert secret not in message, message
    assert "127.0.0.1" not in message and "://" not in message, message
    return message


def test_window_events_become_the_exact_busy_intervals(radicale: RadicaleServer) -> None:
    for name, ics in [("single", SINGLE), ("weekly", WEEKLY), ("transparent", TRANSPARENT),
                      ("outside", OUTSIDE), ("floating", FLOATING)]:
        radicale.put_event(ics, name)

    document = fetch(radicale)

    assert b"outside@test" not in document  # the time-range REPORT ran on the server
    assert document.count(b"BEGIN:VTIMEZONE") == 2  # Amsterdam (in two objects) once, London once
    assert busy(document) == [
        ("03-03T13:00", "03-03T14:00", "weekly@test", "2026-03-03T13:00:00+00:00"),
        ("03-04T10:00", "03-04T11:00", "single@test", None),
        ("03-10T13:00", "03-10T14:00", "weekly@test", "2026-03-10T13:00:00+00:00"),
        ("03-26T08:00", "03-26T09:00", "weekly@test", "2026-03-24T13:00:00+00:00"),  # moved
        ("03-31T12:00", "03-31T13:00", "weekly@test", "2026-03-31T12:00:00+00:00"),  # summer time
        ("04-05T23:00", "04-06T00:00", "floating@test", None),
    ]


def test_an_empty_calendar_is_an_empty_document(radicale: RadicaleServer) -> None:
    assert busy(fetch(radicale)) == []


def test_wrong_password_is_sign_in_refused(radicale: RadicaleServer) -> None:
    assert refused(lambda: fetch(radicale, password="wrong"), radicale.username) == "CalDAV sign-in refused"


def test_another_users_calendar_is_sign_in_refused(radicale: RadicaleServer) -> None:
    url = f"{radicale.base_url}/someone-else/busy/"  # owner_only: 403
    assert refused(lambda: fetch(radicale, url), radicale.username, "someone-else") == "CalDAV sign-in refused"


def test_wrong_calendar_path_is_not_found(radicale: RadicaleServer) -> None:
    url = f"{radicale.base_url}/{radicale.username}/no-such-calendar/"
    message = refused(lambda: fetch(radicale, url), radicale.username, "no-such-calendar")
    assert message == "CalDAV calendar not found"


def test_stopped_server_cannot_be_reached(radicale: RadicaleServer) -> None:
    radicale.stop()
    assert refused(lambda: fetch(radicale), radicale.username) == "CalDAV server could not be reached"


def test_not_an_http_address_is_a_source_error() -> None:
    message = refused(lambda: fetch_caldav("ftp://user:pw@cal.example/x/", "user", "pw", *WINDOW, timeout=5),
                      "cal.example", "user", "pw")
    assert message == "CalDAV address is not an http(s) URL"


class Silent:
    """A TCP port that accepts connections and never says a word."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/mediator-a/busy/"
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.accepted.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        for conn in [self.sock, *self.accepted]:
            conn.close()


def timeout_refusal(url: str, timeout: float) -> str:
    """The refusal `fetch_caldav` gives for this server (speed itself is never asserted: these
    machines are shared and noisy; a missing timeout would hang the test instead)."""
    return refused(lambda: fetch_caldav(url, "mediator-a", "pw-123", *WINDOW, timeout=timeout),
                   "mediator-a", "pw-123")


def test_a_server_that_never_answers_times_out_after_the_timeout() -> None:
    silent = Silent()
    try:
        message = timeout_refusal(silent.url, timeout=0.6)
    finally:
        silent.close()
    assert message == "CalDAV server timed out after 0.6 s"
    assert silent.accepted, "the request never reached the server"


class ScriptedDav:
    """A plain HTTP server that plays one broken CalDAV server.

    ``stall_after_sign_in``: 401 to the anonymous first request, silence once
    credentials come, so the timeout is seen on a later request too.
    ``garbage``: a 207 Multi-Status whose body is not XML.
    """

    def __init__(self, mode: str) -> None:
        self.stop, self.signed_in = threading.Event(), 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass
            def do_REPORT(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if mode == "garbage":
                    self._send(207, b"<<< this is not XML", {"Content-Type": "application/xml"})
                elif "Authorization" not in self.headers:
                    self._send(401, b"", {"WWW-Authenticate": 'Basic realm="dav"'})
                else:
                    owner.signed_in += 1
                    owner.stop.wait(30)

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/mediator-a/busy/"
        threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.http.shutdown()
        self.http.server_close()


def test_a_server_that_stalls_after_sign_in_times_out_too() -> None:
    dav = ScriptedDav("stall_after_sign_in")
    try:
        message = timeout_refusal(dav.url, timeout=0.6)
    finally:
        dav.close()
    assert message == "CalDAV server timed out after 0.6 s"
    assert dav.signed_in == 1


def test_a_connect_that_hangs_times_out() -> None:
    """A full listen backlog: the SYN is dropped and connect() waits (as for a firewalled host)."""
    sock = socket.create_server(("127.0.0.1", 0), backlog=0)
    port = sock.getsockname()[1]
    fillers = [socket.socket() for _ in range(3)]
    try:
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        probe = socket.socket()
        probe.settimeout(0.3)
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            pytest.skip("this system accepts connections beyond the backlog")
        probe.close()
        message = timeout_refusal(f"http://127.0.0.1:{port}/mediator-a/busy/", timeout=0.6)
    finally:
        for filler in fillers:
            filler.close()
        sock.close()
    assert message == "CalDAV server timed out after 0.6 s"


def test_an_answer_that_is_not_xml_is_unreadable() -> None:
    dav = ScriptedDav("garbage")
    try:
        message = timeout_refusal(dav.url, timeout=5)
    finally:
        dav.close()
    assert message == "CalDAV server sent an answer that could not be read"


def test_logs_hold_no_credentials_or_event_text(radicale: RadicaleServer, caplog: pytest.LogCaptureFixture) -> None:
    radicale.put_event(WEEKLY, "weekly")
    caplog.set_level(logging.DEBUG)
    assert busy(fetch(radicale))
    with pytest.raises(SourceError):
        fetch(radicale, password="wrong-secret")
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "CalDAV fetch failed: CalDAV sign-in refused" in logged
    basic = base64.b64encode(f"{radicale.username}:{radicale.password}".encode()).decode()
    for secret in (radicale.password, "wrong-secret", basic, PRIVATE, "SUMMARY", "BEGIN:VEVENT"):
        assert secret not in logged, secret
    # urllib3 logs request lines at DEBUG (as for all HTTP); our own records name no user or address
    ours = " ".join(r.getMessage() for r in caplog.records if r.name == "calendars.caldav_source")
    assert radicale.username not in ours and "127.0.0.1" not in ours, ours
