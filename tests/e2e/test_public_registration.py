"""A registration in Chromium, from the public page on a 375-pixel phone to a case on the desk.

A relative registers someone on their behalf, a refused field comes back named, the next-steps page follows;
a coordinator signs in, finds it under Aanmeldingen and opens the case, prefilled. Screenshots (laptop and
phone) go where tests/e2e/desk.py says: registration-*. axe-core: no serious or critical violation.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.auth import create_user
from scheduler.models import Case, Participant
from scheduler.registration_models import Registration
from tests.e2e.desk import PHONE, look, sign_in

PASSWORD = "a long enough password"
MIN_FILL_WAIT_MS = 3200  # core.public_forms.MIN_FILL_SECONDS is 3: a person takes longer than that


def _fill(page: Any) -> None:
    page.check("input[name=registrant][value=relative]")
    page.fill("#registrant_name", "Sanne de Wit")
    page.fill("#registrant_phone", "06 87654321")
    page.fill("#name", "Joris de Wit")
    page.fill("#phone", "06 1234")  # one digit short of a number: refused, named
    page.fill("#email", "joris@example.org")
    page.check("input[name=role][value=victim]")
    page.check("input[name=kind][value=traffic_accident]")
    page.check("input[name=other_party_known][value=unknown]")
    page.check("#contact_call")
    page.check("#contact_sms")
    page.check("input[name=moment][value=afternoon]")


def test_a_relative_registers_and_the_office_opens_a_case(page: Any, live_url: str, runtime: Any) -> None:
    with runtime.db.write_session() as s:
        create_user(s, "coord@example.org", "Coco Coördinator", "coordinator", PASSWORD)

    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/aanmelden")
    assert page.inner_text("h1") == "Aanmelden voor bemiddeling"
    assert "vrijwillig" in page.inner_text("main")
    assert "Alleen de coördinatoren van ons bureau zien het" in page.inner_text("footer")
    look(page, "registration-form")
    _fill(page)
    page.wait_for_timeout(MIN_FILL_WAIT_MS)
    page.click("form.registration button[type=submit]")
    summary = page.inner_text(".error-summary")
    assert "Telefoonnummer" in summary and "geen geldig telefoonnummer" in summary
    assert page.input_value("#name") == "Joris de Wit"  # nothing typed is lost
    look(page, "registration-refused")
    page.fill("#phone", "06 12345678")
    page.click("form.registration button[type=submit]")
    page.wait_for_url(f"{live_url}/aanmelden/verzonden")
    assert "Dank u wel" in page.inner_text("h1") and "op de manier die u koos" in page.inner_text("main")
    look(page, "registration-sent")

    with runtime.db.session() as s:
        row = s.scalars(select(Registration)).one()
        assert (row.registrant, row.registrant_name, row.name, row.phone, row.kind, row.moment) == (
            "relative", "Sanne de Wit", "Joris de Wit", "+31612345678", "traffic_accident", "afternoon")

    page.context.clear_cookies()
    page.set_viewport_size(PHONE)
    sign_in(page, live_url, "coord@example.org", PASSWORD)
    page.click("nav.menu >> text=Aanmeldingen")
    assert "Joris de Wit" in page.inner_text("main") and "vandaag binnengekomen" in page.inner_text("main")
    look(page, "registration-queue")
    page.click("main >> text=Joris de Wit")
    assert "Sanne de Wit" in page.inner_text("main") and "Een familielid of vriend(in)" in page.inner_text("main")
    look(page, "registration-detail")
    page.click("text=Een dossier openen")
    assert page.input_value("#name") == "Joris de Wit" and page.input_value("#phone") == "06 12345678"
    assert page.input_value("#kind") == "traffic_accident" and page.is_checked("#sms_allowed")
    page.click("main form button.primary")
    page.wait_for_url(f"{live_url}/cases/*")
    assert "Het dossier is geopend" in page.inner_text("main") and "Joris de Wit" in page.inner_text("main")

    with runtime.db.session() as s:
        case = s.scalars(select(Case)).one()
        assert s.scalars(select(Participant.name)).all() == ["Joris de Wit"]
        assert s.scalars(select(Registration.case_id)).one() == case.id
    page.goto(f"{live_url}/registrations")
    assert "Er wachten geen aanmeldingen." in page.inner_text("main")


def test_the_english_page_on_a_phone(page: Any, live_url: str, runtime: Any) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/aanmelden")
    page.click("header >> text=English")
    assert page.inner_text("h1") == "Register for mediation" and "Aanmelden" not in page.inner_text("main")
    assert page.is_checked("input[name=language][value=en]")
    look(page, "registration-form-en")
