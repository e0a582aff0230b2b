"""A participant's personal data in Chromium: from the case page to the data page; erasure waits until they
stopped; the file downloads; erased, the case page shows a dash and the date instead of their details.

Screenshots: privacy-* (tests/e2e/desk.py). Each page is checked with axe-core at phone width too.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from core.auth import create_user
from core.db import Database
from scheduler.demo import load_demo
from scheduler.models import Case
from tests.e2e.desk import look, sign_in

PASSWORD = "a long enough password"


def _office(db: Database) -> dict[str, Any]:
    with db.write_session() as s:
        load_demo(s, with_users=True)
        create_user(s, "coord@example.org", "Coco Coördinator", "coordinator", PASSWORD)
        case = s.scalars(select(Case).where(Case.status != "closed").order_by(Case.id)).first()
        assert case is not None
        person = next(p for p in case.participants if p.withdrawn_at is None)
        return {"case": case.id, "participant": person.id, "name": person.name, "phone": person.phone}


def test_download_their_data_then_erase_it_once_they_stopped(page: Any, live_url: str, app: Any) -> None:
    office = _office(app.extensions["pendel"].db)
    sign_in(page, live_url, "coord@example.org", PASSWORD)
    page.goto(f"{live_url}/cases/{office['case']}")
    page.click(f"a:has-text('Persoonsgegevens {office['name']}')")
    page.wait_for_load_state("networkidle")
    main = page.inner_text("main")
    assert f"Persoonsgegevens van {office['name']}" in main and "doet nog mee" in main
    look(page, "privacy-not-yet")

    with page.expect_download() as download:
        page.click("button:has-text('Hun gegevens downloaden')")
    data = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert data["participant"]["name"] == office["name"] and "nl" in data["about"]

    page.click(f"a:has-text('{office['name']} stopt')")
    page.wait_for_load_state("networkidle")
    page.click(f"button:has-text('Ja, {office['name']} stopt')")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_url}/participants/{office['participant']}/erase")
    assert "niet ongedaan" in page.inner_text("main")
    look(page, "privacy-erase")

    page.click(f"button:has-text('Ja, wis de gegevens van {office['name']}')")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/cases/{office['case']}")
    main = page.inner_text("main")
    assert "persoonsgegevens van de deelnemer zijn gewist" in main.lower() and "gegevens gewist op" in main
    assert office["name"] not in main
    look(page, "privacy-case-after")
