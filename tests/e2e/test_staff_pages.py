"""Staff pages in a real browser: Debian's Chromium driven by Playwright."""
from __future__ import annotations

from typing import Any

from core.auth import create_user
from core.db import Database
from scheduler.demo import load_demo


def _sign_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")  # the header's language switch is a button too


def test_coordinator_signs_in_and_sees_all_cases(database: Database, live_url: str, browser: Any) -> None:
    with database.write_session() as s:
        load_demo(s)
        user = create_user(s, "coord@example.org", "Coco", "coordinator", "a long enough password")
    page = browser.new_page()
    _sign_in(page, live_url, user.email, "a long enough password")
    page.wait_for_selector("h1")
    assert page.url == f"{live_url}/"
    page.goto(f"{live_url}/cases")  # home is Today, the office's dashboard; the cases are on their list
    text = page.inner_text("main")
    assert all(ref in text for ref in ("HB-2026-0001", "HB-2026-0002", "HB-2026-0003"))
    page.click("header >> text=Afmelden")
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
    page.click("main button[type=submit]")
    page.wait_for_selector("h1:text('Mijn week')")  # a mediator's home is their own week
    page.goto(f"{live_url}/cases")
    text = page.inner_text("main")
    assert "HB-2026-0001" in text
    assert "HB-2026-0002" not in text and "HB-2026-0003" not in text
