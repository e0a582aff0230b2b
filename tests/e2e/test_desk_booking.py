"""Planning in Chromium: an intake through the slot picker, two browsers after the same slot, the other pages.

Screenshots (laptop and phone) go where tests/e2e/desk.py says: booking-*.
Each page is checked with axe-core and must fit a 375-pixel phone.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.auth import create_user
from core.db import Database
from notifications.models import OutboxMessage
from scheduler.demo import load_demo
from scheduler.models import Appointment, Case, Mediator, Region
from tests.e2e.desk import look, sign_in

PASSWORD = "a long enough password"


def _office(db: Database) -> dict[str, Any]:
    """The demo office in one region, a case there, and two coordinators."""
    with db.write_session() as s:
        load_demo(s, with_users=True)
        create_user(s, "coord@example.org", "Coco Coördinator", "coordinator", PASSWORD)
        create_user(s, "coord2@example.org", "Kees Coördinator", "coordinator", PASSWORD)
        utrecht = Region(name="Utrecht")
        s.add(utrecht)
        s.flush()
        for mediator in s.scalars(select(Mediator)):
            mediator.region = utrecht
        case = s.scalars(select(Case).order_by(Case.id)).first()
        assert case is not None
        case.region = utrecht
        return {"case": case.id, "participant": case.participants[0].id}


def _first_slot(page: Any) -> Any:
    return page.locator(".day button.slot").first


def test_plan_an_intake_through_the_picker(page: Any, live_url: str, app: Any) -> None:
    runtime = app.extensions["pendel"]
    office = _office(runtime.db)
    sign_in(page, live_url, "coord@example.org", PASSWORD)
    page.goto(f"{live_url}/cases/{office['case']}/intake?participant_id={office['participant']}")
    assert page.locator("h1").inner_text().startswith("Intake plannen")
    look(page, "booking-plan")
    page.check("input[name=mode][value=video]")
    page.click("form.search button[type=submit]")
    page.wait_for_load_state("networkidle")
    chosen = _first_slot(page).get_attribute("value")
    _first_slot(page).click()
    page.wait_for_load_state("networkidle")
    assert "/held" in page.url
    look(page, "booking-held")
    page.click("text=Bevestigen en boeken")
    page.wait_for_load_state("networkidle")
    assert "De afspraak is geboekt" in page.inner_text("main")
    look(page, "booking-appointment")
    with runtime.db.session() as s:
        appointment = s.scalars(select(Appointment).order_by(Appointment.id.desc())).first()  # the demo has two
        assert appointment.status == "confirmed" and appointment.mode == "video"
        assert chosen.startswith(appointment.start.isoformat()[:16])
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.appointment_id == appointment.id, OutboxMessage.recipient_kind == "participant"))
    page.click("main a:has-text('Verzetten')")
    page.wait_for_load_state("networkidle")
    look(page, "booking-reschedule")
    page.locator(".day button.slot").last.click()
    page.wait_for_load_state("networkidle")
    look(page, "booking-reschedule-confirm")
    page.click("main button:has-text('Verzetten')")
    page.wait_for_load_state("networkidle")
    assert "De afspraak is verzet" in page.inner_text("main")
    page.click("main a:has-text('Annuleren')")
    page.wait_for_load_state("networkidle")
    look(page, "booking-cancel")
    page.select_option("#reason", "mediator_unavailable")
    page.click("main button:has-text('Afspraak annuleren')")
    page.wait_for_load_state("networkidle")
    assert "geannuleerd" in page.inner_text("main")


def test_any_free_mediator_of_the_region(page: Any, live_url: str, app: Any) -> None:
    office = _office(app.extensions["pendel"].db)
    sign_in(page, live_url, "coord@example.org", PASSWORD)
    page.goto(f"{live_url}/cases/{office['case']}/intake")
    page.select_option("#mediator", "region")
    page.click("form.search button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator(".day button.slot .note").count() > 0  # each time names its mediator
    look(page, "booking-region")


def test_two_browsers_take_the_same_slot(browser: Any, live_url: str, app: Any) -> None:
    office = _office(app.extensions["pendel"].db)
    url = f"{live_url}/cases/{office['case']}/intake?participant_id={office['participant']}"
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL") for _ in range(2)]
    try:
        first, second = (c.new_page() for c in contexts)
        for tab, email in ((first, "coord@example.org"), (second, "coord2@example.org")):
            sign_in(tab, live_url, email, PASSWORD)
            tab.goto(url)
        wanted = _first_slot(first).get_attribute("value")
        assert _first_slot(second).get_attribute("value") == wanted
        _first_slot(first).click()
        first.wait_for_load_state("networkidle")
        assert "/held" in first.url
        _first_slot(second).click()
        second.wait_for_load_state("networkidle")
        text = second.inner_text("main")
        assert "net bezet" in text and second.locator("[role=alert]").count() >= 1
        fresh = [b.get_attribute("value") for b in second.locator(".day button.slot").all()]
        assert fresh and wanted not in fresh
        look(second, "booking-taken")
    finally:
        for c in contexts:
            c.close()
