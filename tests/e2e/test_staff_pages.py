"""Staff pages in a real browser: Debian's Chromium driven by Playwright."""
from __future__ import annotations

import shutil
import threading
from typing import Any, Iterator

import pytest
from werkzeug.serving import make_server

from core.db import Database
from scheduler.demo import load_demo
from core.auth import create_user
from tests.conftest import service_unavailable

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def live_url(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which("chromium"):
        service_unavailable("Debian's chromium (make test installs it)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def _sign_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_coordinator_signs_in_and_sees_all_cases(database: Database, live_url: str, browser: Any) -> None:
    with database.write_session() as s:
        load_demo(s)
        user = create_user(s, "coord@example.org", "Coco", "coordinator", "a long enough password")
    page = browser.new_page()
    _sign_in(page, live_url, user.email, "a long enough password")
    page.wait_for_selector("h1")
    assert page.url == f"{live_url}/"
    text = page.inner_text("main")
    assert all(ref in text for ref in ("HB-2026-0001", "HB-2026-0002", "HB-2026-0003"))
    page.click("text=Afmelden / Sign out")
    page.wait_for_selector("#email")
    page.goto(f"{live_url}/")
    assert page.url.startswith(f"{live_url}/login")


def test_mediator_sees_only_own_cases_and_wrong_password_is_refused(database: Database, live_url: str,
                                                                    browser: Any) -> None:
    with database.write_session() as s:
        load_demo(s, with_users=True)
    page = browser.new_page()
    _sign_in(page, live_url, "anouk.devries@example.org", "wrong password")
    assert "verkeerd wachtwoord" in page.inner_text("[role=alert]")
    from scheduler.demo import DEMO_PASSWORD

    page.fill("#email", "anouk.devries@example.org")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Overzicht")
    text = page.inner_text("main")
    assert "HB-2026-0001" in text
    assert "HB-2026-0002" not in text and "HB-2026-0003" not in text
