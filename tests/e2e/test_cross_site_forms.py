"""A page on another origin posts forms at a signed-in coordinator's browser; Chromium sends her cookie
(another port of 127.0.0.1 is the same site, so SameSite=Lax does not stop it), and Pendel changes nothing:
the forms lack the page's CSRF token (400, "nothing was changed"), and a form that had one would still
come from another origin (core.auth.from_own_pages: 403); the API wants its bearer token (401)."""
from __future__ import annotations

import threading
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from core.auth import create_user
from core.db import Database
from core.models import User
from scheduler.models import Participant
from tests import factories

PASSWORD = "a long enough password"


@pytest.fixture
def other_site() -> Iterator[tuple[str, dict[str, str]]]:
    """Serves whatever HTML is put in the dict under its path, from an origin of its own."""
    pages: dict[str, str] = {}

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = pages.get(environ["PATH_INFO"], "").encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body]

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", pages
    server.shutdown()


def _auto_post(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items())
    return f'<form method="post" action="{action}">{inputs}</form><script>document.forms[0].submit()</script>'


def test_forms_posted_from_another_origin_change_nothing(database: Database, live_url: str, browser: Any,
                                                         other_site: tuple[str, dict[str, str]]) -> None:
    evil, pages = other_site
    with database.write_session() as s:
        create_user(s, "coord@example.org", "Coco", "coordinator", PASSWORD)
        person = factories.case(s, [factories.mediator(s)]).participants[0].id
    page = browser.new_page()
    page.goto(f"{live_url}/login")
    page.fill("#email", "coord@example.org")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    home = page.url
    assert not home.startswith(f"{live_url}/login")

    pages["/duty"] = _auto_post(f"{live_url}/duty", {"phone": "06 12345678", "on_duty": "on"})
    pages["/withdraw"] = _auto_post(f"{live_url}/api/v1/participants/{person}/withdraw", {})
    pages["/logout"] = _auto_post(f"{live_url}/logout", {})
    statuses = []
    for path in ("/duty", "/withdraw", "/logout"):
        with page.expect_response(lambda r: r.url.startswith(live_url) and r.request.method == "POST") as answer:
            page.goto(f"{evil}{path}")
        statuses.append(answer.value.status)
        if path != "/withdraw":
            assert "niets gewijzigd" in page.inner_text("main")  # Dutch: the browser's and the office's language
    assert statuses == [400, 401, 400]
    with database.session() as s:
        assert s.scalar(select(User.on_duty).where(User.email == "coord@example.org")) is False
        assert s.get(Participant, person).withdrawn_at is None
    page.goto(f"{live_url}/")
    assert page.url == home  # still signed in: the sign-out from elsewhere was refused
    with page.expect_navigation():
        page.click("header >> text=Afmelden")  # her own page's form does sign her out
    page.goto(f"{live_url}/")
    assert page.url.startswith(f"{live_url}/login")
