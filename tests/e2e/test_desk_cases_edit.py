"""The case's details on a page of their own, in Chromium: from the case page to the form and back.

Screenshot cases-edit (laptop and phone), axe-core, and the 375-pixel phone
width, as tests/e2e/desk.py's `look` checks every page.
"""
from __future__ import annotations

from typing import Any

from core.db import Database
from scheduler.models import Case
from tests.e2e.desk import look, sign_in
from tests.e2e.test_desk_cases import PASSWORD, _office


def test_change_a_case_on_its_own_page(database: Database, live_url: str, browser: Any) -> None:
    with database.write_session() as s:
        ids = _office(s)
    page = browser.new_page()
    sign_in(page, live_url, "coord@example.org", PASSWORD)
    page.goto(f"{live_url}/cases/{ids['late']}")
    page.click("main .actions >> text=Dossier wijzigen")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/cases/{ids['late']}/edit")
    assert page.input_value("#status") == "registered"
    look(page, "cases-edit")
    page.select_option("#status", "intake")
    page.select_option("#mediator_2", index=2)
    page.click("main button[type=submit].primary")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/cases/{ids['late']}")
    assert "Het dossier is gewijzigd." in page.inner_text("main")
    with database.session() as s:
        case = s.get(Case, ids["late"])
        assert case.status == "intake" and len(case.mediators) == 2
