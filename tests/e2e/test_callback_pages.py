"""The callback queue in a real browser: a coordinator goes on duty and works two requests.

Two callers ask for a callback by walking the phone line (signed webhook
requests, as Twilio sends them); then Debian's Chromium, driven by
Playwright, signs in as a coordinator against a real server thread. The
pages speak Dutch (the browser's and the office's language); each is
screenshot at laptop and phone width and checked with axe-core (tests/e2e/desk.py).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.auth import create_user
from telephony.models import CallbackAttempt, CallbackRequest
from tests.e2e.desk import look
from tests.integration.ivr_helpers import Caller, local, requests

PASSWORD = "a long enough password"
MONDAY_10 = local(2026, 11, 30, 10, 0)


def _submit(page: Any, role: str, name: str) -> None:
    """Press a form button and wait for the page the POST redirects to."""
    with page.expect_navigation():
        page.get_by_role(role, name=name).click()


def test_coordinator_goes_on_duty_claims_tries_and_closes(app: Any, database: Any, live_url: str,
                                                         browser: Any) -> None:
    app.config["PENDEL_NOW"] = MONDAY_10
    with database.write_session() as s:
        coordinator = create_user(s, "coord@example.org", "Coco Coördinator", "coordinator", PASSWORD)
    # Two callers ask for a callback on the phone line: own number, morning, don't say who we are, no text.
    phone_line = app.test_client()
    for number in ("+31612345678", "+31687654321"):
        assert Caller(phone_line, number).walk("2", "1", "1", "2", "2").hung_up
    first, second = (row.id for row in requests(app.extensions["pendel"]))

    page = browser.new_page()
    page.goto(f"{live_url}/duty")
    assert page.url.startswith(f"{live_url}/login")
    page.fill("#email", coordinator.email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.url == f"{live_url}/duty"

    page.fill("#phone", "12345")
    page.check("#on_duty")
    _submit(page, "button", "Opslaan")
    assert "Dit is geen geldig telefoonnummer" in page.inner_text("#phone-error")  # next to the field
    look(page, "callback-duty-error")
    page.fill("#phone", "0655512345")
    _submit(page, "button", "Opslaan")
    assert "Opgeslagen" in page.inner_text("[role=status]")
    assert page.input_value("#phone") == "06 55512345" and page.is_checked("#on_duty")
    assert "Coco Coördinator" in page.inner_text("#on-duty")
    look(page, "callback-duty")

    with page.expect_navigation():
        page.get_by_role("link", name="Terugbelverzoeken", exact=True).click()
    table = page.inner_text("table")
    assert "06 12345678" in table and "06 87654321" in table
    assert "niet zeggen wie wij zijn" in table and "ochtend" in table and "te laat" not in table
    look(page, "callback-queue")
    _submit(page, "button", f"Verzoek {first} oppakken")
    assert page.url == f"{live_url}/callbacks/{first}"
    assert "U behandelt dit verzoek nu" in page.inner_text("[role=status]")
    assert "in behandeling" in page.inner_text("#status")
    assert "niet ingesteld" in page.inner_text("#no-call")  # no Twilio account in these settings
    assert page.get_by_role("button", name="Bellen").count() == 0

    _submit(page, "button", "geen gehoor")
    assert "Poging vastgelegd: geen gehoor" in page.inner_text("[role=status]")
    attempts = page.inner_text("section[aria-labelledby=attempts-title] table")
    assert "ma 30 nov, 10:00" in attempts and "geen gehoor" in attempts and "Coco Coördinator" in attempts
    look(page, "callback-detail")

    page.goto(f"{live_url}/callbacks/{second}")
    _submit(page, "button", "afgerond")
    assert "Verzoek afgesloten: afgerond" in page.inner_text("[role=status]")
    assert "afgerond" in page.inner_text("#status")

    page.goto(f"{live_url}/callbacks")
    rows = page.inner_text("tbody")
    assert "06 12345678" in rows and "06 87654321" not in rows and "Coco Coördinator" in rows
    assert page.get_by_role("button", name=f"Verzoek {first} oppakken").count() == 0
    with page.expect_navigation():
        page.get_by_role("link", name="afgesloten").click()
    assert "06 87654321" in page.inner_text("tbody")
    page.goto(f"{live_url}/")  # the office's home (Today) carries the callback section
    assert "1 open" in page.inner_text("section[aria-labelledby=callbacks-title]")

    with database.session() as s:
        rows_now = {r.id: (r.status, r.assignee_id) for r in s.scalars(select(CallbackRequest))}
        assert rows_now == {first: ("in_progress", coordinator.id), second: ("done", coordinator.id)}
        assert [(a.callback_id, a.outcome, a.by_user_id) for a in s.scalars(select(CallbackAttempt))] == [
            (first, "no_answer", coordinator.id)]
