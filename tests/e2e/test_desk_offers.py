"""Offering times in Chromium: tick three of the intake picker's times, offer them, see them on the case page
and as "offered" in the mediator's week, then book one for the participant (agreed by phone).

Screenshots (laptop and phone) go where tests/e2e/desk.py says: offers-*. Each page is checked with
axe-core and must fit a 375-pixel phone.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.auth import create_user
from core.db import Database
from scheduler.demo import load_demo
from scheduler.models import Case
from scheduler.participant_models import Offer
from scheduler.week_layout import week_code
from tests.e2e.desk import look, sign_in

PASSWORD = "a long enough password"


def _office(db: Database) -> dict[str, Any]:
    """The demo office, a coordinator, and a case whose first participant may get texts."""
    with db.write_session() as s:
        load_demo(s, with_users=True)
        create_user(s, "coord@example.org", "Coco Coördinator", "coordinator", PASSWORD)
        case = s.scalars(select(Case).order_by(Case.id)).first()
        assert case is not None and case.mediators
        person = case.participants[0]
        person.sms_allowed, person.phone, person.withdrawn_at = True, person.phone or "+31612345678", None
        return {"case": case.id, "participant": person.id, "mediator": case.mediators[0].id}


def test_offer_three_times_and_book_one_for_them(page: Any, live_url: str, app: Any) -> None:
    runtime = app.extensions["pendel"]
    office = _office(runtime.db)
    sign_in(page, live_url, "coord@example.org", PASSWORD)
    page.goto(f"{live_url}/cases/{office['case']}/intake?participant_id={office['participant']}"
              f"&mode=phone&duration=60&mediator={office['mediator']}")
    ticks = page.locator(".day input[name=offer]")
    assert ticks.count() >= 9
    look(page, "offers-picker")

    ticks.nth(0).check()  # one alone is not an offer: said above the times, nothing held
    page.click("text=Aangevinkte tijden aanbieden")
    page.wait_for_load_state("networkidle")
    assert "Vink twee tot vier" in page.inner_text("main")
    look(page, "offers-refused")

    ticks = page.locator(".day input[name=offer]")
    for i in (0, 4, 8):  # two hours apart or more: they do not overlap
        ticks.nth(i).check()
    page.click("text=Aangevinkte tijden aanbieden")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/cases/{office['case']}#offers"), page.url
    main = page.inner_text("main")
    assert "3 tijden zijn aangeboden" in main and "Aangeboden tijden" in main
    section = page.locator("section.offers")
    assert section.locator("ul.offered li").count() == 3
    assert section.locator("button:has-text('Deze tijd voor de deelnemer boeken')").count() == 3
    look(page, "offers-case")

    with runtime.db.session() as s:
        offer = s.scalars(select(Offer)).one()
        first = min(a.start for a in offer.slots)
    week = week_code(first.astimezone(runtime.settings.tz).date())
    page.goto(f"{live_url}/mediators/{office['mediator']}/week?week={week}")
    assert page.locator(".week .item.offered").count() >= 1
    assert "aangeboden (vastgehouden tot de deelnemer kiest)" in page.inner_text("main")
    look(page, "offers-week")

    page.goto(f"{live_url}/cases/{office['case']}")
    page.locator("section.offers button:has-text('Deze tijd voor de deelnemer boeken')").nth(1).click()
    page.wait_for_load_state("networkidle")
    assert "/appointments/" in page.url and "Geboekt op" in page.inner_text("main")
    page.goto(f"{live_url}/cases/{office['case']}#offers")
    offered = page.locator("section.offers").inner_text()
    assert "gekozen" in offered and "vrijgegeven" in offered
    look(page, "offers-case-chosen")
    with runtime.db.session() as s:
        assert s.scalars(select(Offer)).one().status == "chosen"
