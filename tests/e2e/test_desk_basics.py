"""The desk's common ground in Chromium: sign-in, one language at a time, the security policy holding."""
from __future__ import annotations

from typing import Any

from core.auth import create_user
from core.db import Database
from tests.e2e.desk import look, sign_in

PASSWORD = "a long enough password"


def test_sign_in_page_is_accessible_and_switches_language(database: Database, live_url: str, page: Any) -> None:
    page.goto(f"{live_url}/login")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.inner_text("h1") == "Aanmelden"
    look(page, "sign-in")
    page.click("text=English")
    page.wait_for_selector("h1:text('Sign in')")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Aanmelden" not in page.inner_text("body")


def test_signed_in_user_language_follows_them_and_no_script_breaks_the_policy(database: Database, live_url: str,
                                                                            page: Any) -> None:
    with database.write_session() as s:
        create_user(s, "coord@example.org", "Coco", "coordinator", PASSWORD)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, live_url, "coord@example.org", PASSWORD)
    page.click("header >> text=English")
    page.wait_for_selector("header >> text=Sign out")
    with database.session() as s:
        from core.models import User

        assert s.query(User).one().language == "en"
    page.click("header >> text=Sign out")
    page.wait_for_selector("#email")
    assert not violations, violations
