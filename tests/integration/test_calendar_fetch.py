"""calendars.fetch.fetch_ics against real servers on loopback: HTTP, TLS, limits, redirects, refusals.

The servers listen on 127.0.0.1, a loopback address: tests that are about
HTTP pass allow_private=True; the refusal tests leave it off (or open only
127.0.0.1/32 to reach the first hop and show that a redirect is checked).
Sync-level behaviour (304 writes nothing, last good copy kept) is in
test_calendar_sync.py.
"""
from __future__ import annotations

import ipaddress
import time
from pathlib import Path
from typing import Iterator

import pytest

from calendars.errors import SourceError
from calendars.fetch import fetch_ics
from tests.support.feed_server import FeedServer, Reply, make_tls

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ics"
GOOGLE = (FIXTURES / "google.ics").read_bytes()
HTML = (FIXTURES / "not_ical.html").read_bytes()
LOOPBACK_ONLY = (ipaddress.ip_network("127.0.0.1/32"),)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feed = FeedServer()
    feed.start()
    yield feed
    feed.stop()


def refused(url: str, **kw: object) -> str:
    with pytest.raises(SourceError) as caught:
        fetch_ics(url, **{"allow_private": True, "timeout": 5, **kw})  # type: ignore[arg-type]
    message = str(caught.value)
    assert "127.0.0.1" not in message and "/feed" not in message and "localhost" not in message
    return message


def test_200_returns_body_and_validators(server: FeedServer) -> None:
    server.routes["/feed.ics?token=s3cret"] = Reply(body=GOOGLE, etag='"v1"',
                                                    headers={"Last-Modified": "Mon, 02 Mar 2026 08:00:00 GMT"})
    got = fetch_ics(server.url("/feed.ics?token=s3cret"), allow_private=True)
    assert (got.status, got.body, got.etag, got.last_modified) == (200, GOOGLE, '"v1"', "Mon, 02 Mar 2026 08:00:00 GMT")
    path, headers = server.requests[0]
    assert path == "/feed.ics?token=s3cret"
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert "if-none-match" not in headers and "if-modified-since" not in headers


def test_conditional_get_gives_304_without_a_body(server: FeedServer) -> None:
    server.routes["/feed.ics"] = Reply(body=GOOGLE, etag='"v1"')
    got = fetch_ics(server.url("/feed.ics"), etag='"v1"', last_modified="Mon, 02 Mar 2026 08:00:00 GMT",
                    allow_private=True)
    assert (got.status, got.body, got.etag) == (304, None, '"v1"')
    headers = server.requests[0][1]
    assert headers["if-none-match"] == '"v1"'
    assert headers["if-modified-since"] == "Mon, 02 Mar 2026 08:00:00 GMT"
    assert fetch_ics(server.url("/feed.ics"), etag='"v0"', allow_private=True).status == 200


@pytest.mark.parametrize(("status", "says"), [(500, "HTTP 500"), (503, "HTTP 503"),
                                              (404, "HTTP 404: calendar not found"), (401, "HTTP 401: access denied")])
def test_http_errors_are_named_without_the_address(server: FeedServer, status: int, says: str) -> None:
    server.routes["/feed.ics"] = Reply(status, b"oops", "text/plain")
    assert says in refused(server.url("/feed.ics"))


def test_a_server_that_does_not_answer_times_out_within_the_timeout(server: FeedServer) -> None:
    server.routes["/feed.ics"] = Reply(body=GOOGLE, delay=5)
    started = time.monotonic()
    assert refused(server.url("/feed.ics"), timeout=1) == "calendar server did not answer within 1 s"
    assert time.monotonic() - started < 2.5


def test_a_dripping_server_is_cut_at_the_total_deadline(server: FeedServer) -> None:
    """Each piece arrives well inside the read timeout; only the total deadline can stop it."""
    server.routes["/feed.ics"] = Reply(body=GOOGLE, drip=0.2)
    started = time.monotonic()
    assert refused(server.url("/feed.ics"), timeout=2, total=1) == "calendar took longer than 1 s to download"
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(("content_type", "body", "says"), [
    ("text/html; charset=utf-8", HTML, "not iCalendar (content type text/html)"),
    ("text/plain", HTML, "not iCalendar (content type text/plain)"),
    ("application/json", b'{"events": []}', "not iCalendar (content type application/json)"),
])
def test_wrong_content_type_is_refused(server: FeedServer, content_type: str, body: bytes, says: str) -> None:
    server.routes["/feed.ics"] = Reply(body=body, content_type=content_type)
    assert refused(server.url("/feed.ics")) == says


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream", "text/calendar"])
def test_calendar_text_under_a_generic_type_is_accepted(server: FeedServer, content_type: str) -> None:
    server.routes["/feed.ics"] = Reply(body=b"\xef\xbb\xbf" + GOOGLE, content_type=content_type)
    assert fetch_ics(server.url("/feed.ics"), allow_private=True).status == 200


@pytest.mark.parametrize("declare_length", [True, False])
def test_oversized_body_is_refused(server: FeedServer, declare_length: bool) -> None:
    big = GOOGLE.replace(b"END:VCALENDAR", b"X-PAD:" + b"x" * 70 + b"\r\n") * 200
    server.routes["/feed.ics"] = Reply(body=big, declare_length=declare_length)
    assert refused(server.url("/feed.ics"), max_bytes=10 * 1024) == "calendar is larger than 10 KB"
    assert fetch_ics(server.url("/feed.ics"), allow_private=True, max_bytes=len(big)).body == big


def test_up_to_three_redirects_are_followed(server: FeedServer) -> None:
    server.routes["/feed.ics"] = Reply(body=GOOGLE)
    for hop in range(1, 5):
        server.routes[f"/r{hop}"] = Reply(302 if hop % 2 else 301, headers={"Location": f"/r{hop - 1}"})
    server.routes["/r0"] = Reply(307, headers={"Location": server.url("/feed.ics")})
    assert fetch_ics(server.url("/r2"), allow_private=True).body == GOOGLE  # r2 -> r1 -> r0 -> feed
    assert refused(server.url("/r3")) == "calendar server redirected more than 3 times"


def test_a_loopback_url_is_refused_without_contacting_it(server: FeedServer) -> None:
    server.routes["/feed.ics"] = Reply(body=GOOGLE)
    for url in (server.url("/feed.ics"), server.url("/feed.ics", host="localhost"), f"http://[::1]:{server.port}/"):
        assert refused(url, allow_private=False).startswith("address not allowed")
    assert server.requests == []


def test_a_redirect_to_a_private_address_is_refused(server: FeedServer) -> None:
    """127.0.0.1 alone is opened, so the first hop goes through and the redirect's own check must refuse."""
    server.routes["/feed.ics"] = Reply(body=GOOGLE)
    assert fetch_ics(server.url("/feed.ics"), allow_private=False, allow_networks=LOOPBACK_ONLY).body == GOOGLE
    for target in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.7/calendar.ics",
                   f"http://127.0.0.2:{server.port}/feed.ics", f"http://[::1]:{server.port}/feed.ics"):
        server.routes["/moved"] = Reply(302, headers={"Location": target})
        message = refused(server.url("/moved"), allow_private=False, allow_networks=LOOPBACK_ONLY)
        assert message == "address not allowed: the calendar server is on a private or local network"
    assert [path for path, _ in server.requests] == ["/feed.ics"] + ["/moved"] * 4


def test_unsupported_addresses_are_refused() -> None:
    assert refused("ftp://calendar.example.org/a.ics") == "only http, https and webcal addresses can be fetched"
    assert refused("https://no-such-host.invalid/a.ics") == "host name not found"
    assert refused("http://127.0.0.1:1/a.ics") == "calendar server refused the connection"


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    """HTTPS with a certificate for "localhost" only, from a CA trusted via SSL_CERT_FILE."""
    context, ca_file = make_tls(tmp_path, ("localhost",))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    feed = FeedServer(tls=context)
    feed.routes["/feed.ics"] = Reply(body=GOOGLE, etag='"t1"')
    feed.start()
    yield feed
    feed.stop()


def test_webcal_is_fetched_over_https_with_the_host_name_checked(tls_server: FeedServer) -> None:
    """The connection goes to the checked 127.0.0.1, yet SNI, certificate and Host use "localhost"."""
    got = fetch_ics(tls_server.url("/feed.ics", scheme="webcal", host="localhost"), allow_private=True)
    assert (got.status, got.body, got.etag) == (200, GOOGLE, '"t1"')
    assert tls_server.requests[-1][1]["host"] == f"localhost:{tls_server.port}"


def test_a_certificate_for_another_name_is_refused(tls_server: FeedServer) -> None:
    message = refused(tls_server.url("/feed.ics", host="127.0.0.1"))
    assert message == "calendar server's TLS certificate is not valid for its name"
    assert tls_server.requests == []


def test_https_never_falls_back_to_plain_http(tls_server: FeedServer, server: FeedServer) -> None:
    server.routes["/feed.ics"] = Reply(body=GOOGLE)
    tls_server.routes["/moved"] = Reply(301, headers={"Location": server.url("/feed.ics")})
    message = refused(tls_server.url("/moved", host="localhost"))
    assert message == "calendar server redirected from https to insecure http"
    assert server.requests == []


def test_a_login_in_the_url_goes_to_its_own_origin_only(server: FeedServer) -> None:
    server.routes["/feed.ics"] = Reply(body=GOOGLE)
    server.routes["/same"] = Reply(302, headers={"Location": "/feed.ics"})
    server.routes["/away"] = Reply(302, headers={"Location": server.url("/feed.ics", host="localhost")})
    for path in ("/same", "/away"):
        fetch_ics(server.url(path).replace("http://", "http://jan:ge%40heim@"), allow_private=True)
    sent = [headers.get("authorization") for _, headers in server.requests]
    assert sent == ["Basic amFuOmdlQGhlaW0=", "Basic amFuOmdlQGhlaW0=", "Basic amFuOmdlQGhlaW0=", None]
