"""Every answer carries Pendel's security headers: pages, the sign-in page, the JSON API, calendar feeds.

A Content-Security-Policy that allows no inline script or style (pages
load only Pendel's own files), no framing, no MIME sniffing, a strict
referrer policy; HSTS only when Pendel is served over https
(PUBLIC_BASE_URL), since a browser must never be told to insist on https
for a site that has none.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from calendars.feeds import issue_feed_token
from tests import factories as f
from tests.conftest import with_settings

PASSWORD = "correct horse battery"


def _answers(app: Any, database: Any) -> Iterator[tuple[str, Any]]:
    """A staff page, the sign-in page, a JSON API answer and an ICS feed, from one app."""
    with database.write_session() as s:
        user, bearer = f.staff(s, "coordinator")
        feed = issue_feed_token(s, mediator_id=f.mediator(s).id)
    client = app.test_client()
    yield "sign-in page", client.get("/login")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    yield "staff page", client.get("/callbacks")
    yield "duty form refused", client.post("/duty", data={"phone": "12345"})
    yield "JSON API", app.test_client().get("/api/v1/me", headers=bearer)
    yield "ICS feed", app.test_client().get(f"/calendars/feeds/{feed}.ics")


def _check(name: str, response: Any) -> None:
    headers = response.headers
    assert response.status_code in (200, 400), name
    csp = headers.get("Content-Security-Policy", "")
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part.strip())
    assert directives.get("script-src") == "'self'" and directives.get("style-src") == "'self'", (name, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, name
    assert directives.get("frame-ancestors") == "'none'" and directives.get("object-src") == "'none'", name
    assert headers.get("X-Frame-Options") == "DENY", name
    assert headers.get("X-Content-Type-Options") == "nosniff", name
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin"), name


def test_every_kind_of_answer_carries_the_headers_and_hsts_over_https(app: Any, database: Any) -> None:
    assert app.extensions["pendel"].settings.public_base_url.startswith("https://")  # the test settings
    seen = []
    for name, response in _answers(app, database):
        _check(name, response)
        hsts = response.headers.get("Strict-Transport-Security", "")
        assert hsts.startswith("max-age=") and int(hsts.split("=")[1].split(";")[0]) >= 180 * 86400, name
        seen.append((name, response.mimetype))
    assert [m for _, m in seen] == ["text/html", "text/html", "text/html", "application/json", "text/calendar"]


@pytest.fixture
def plain_http_app(settings: Any) -> Iterator[Any]:
    from app import create_app

    served = create_app(with_settings(settings, public_base_url="http://pendel.test"))
    yield served
    served.extensions["pendel"].db.dispose()


def test_no_hsts_when_pendel_is_served_over_plain_http(plain_http_app: Any, database: Any) -> None:
    for name, response in _answers(plain_http_app, database):
        _check(name, response)
        assert "Strict-Transport-Security" not in response.headers, name
