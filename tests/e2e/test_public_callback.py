"""A web callback request in Chromium, from the public page on a 375-pixel phone to the desk's queue.

Someone asks to be called back: a wrong number comes back named, then the next-steps page promises Tuesday
morning (the phone line's clock stands on Monday 30 November 2026, 10:00) and names the office number that
will show. A coordinator signs in and finds the request in the queue among the phone line's, marked as asked
on a web page. The English page and the kind 429 page are looked at too. Screenshots: public-callback-*;
axe-core: no serious or critical violation (tests/e2e/desk.py).
"""
from __future__ import annotations

import time
from typing import Any

import pytest

from core.auth import create_user
from core.config import Settings
from tests.conftest import with_settings
from tests.e2e.desk import PHONE, look, sign_in
from tests.integration.ivr_helpers import local, requests

PASSWORD = "a long enough password"
MIN_FILL_SECONDS = 3.2  # core.public_forms.MIN_FILL_SECONDS is 3: a person takes longer than that
MONDAY_10 = local(2026, 11, 30, 10, 0)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Two posts of a public form per address an hour, so the third shows the 429 page."""
    return with_settings(settings, public_form_limit_address="2 per hour")


def _send_when_a_person_could(page: Any, served_at: float) -> None:
    """Press the button, having waited only what remains of the minimum fill-in time."""
    page.wait_for_timeout(max(0.0, MIN_FILL_SECONDS - (time.monotonic() - served_at)) * 1000)
    with page.expect_navigation():
        page.click("form.callback-request button[type=submit]")


def test_a_callback_request_from_a_phone_reaches_the_desk_queue(app: Any, page: Any, live_url: str,
                                                                 runtime: Any) -> None:
    app.config["PENDEL_NOW"] = MONDAY_10
    with runtime.db.write_session() as s:
        create_user(s, "coord@example.org", "Coco Coördinator", "coordinator", PASSWORD)

    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/bel-mij-terug")
    served_at = time.monotonic()
    assert page.inner_text("h1") == "Bel mij terug"
    assert "Nederlands mobiel nummer (06)" in page.inner_text("main")
    assert "180 dagen" in page.inner_text("footer")  # the retention, in the privacy note
    assert page.is_checked("input[name=may_identify][value=no]")  # the safe default
    look(page, "public-callback-form")
    page.fill("#number", "06 1234")  # one digit short of a number
    page.check("input[name=moment][value=morning]")
    page.check("#wants_confirmation")
    _send_when_a_person_could(page, served_at)
    assert "Uw telefoonnummer" in page.inner_text(".error-summary")  # named, and a link to the field
    assert "bijvoorbeeld 06 12345678" in page.inner_text("#number-error")
    assert page.is_checked("input[name=moment][value=morning]")  # nothing chosen is lost
    look(page, "public-callback-refused")
    assert requests(runtime) == []

    page.fill("#number", "06 12345678")
    served_at = time.monotonic()  # the refused page carries a fresh start stamp
    _send_when_a_person_could(page, served_at)
    assert page.url.startswith(f"{live_url}/bel-mij-terug/verstuurd")
    main = page.inner_text("main")
    assert "Wij bellen u op dinsdag 1 december tussen 09:00 en 12:00." in main
    assert "030 123 4567" in main and "U krijgt een sms" in main
    look(page, "public-callback-done")
    [row] = requests(runtime)
    assert (row.number, row.moment, row.may_identify, row.wants_confirmation) == ("+31612345678", "morning",
                                                                                  False, True)

    page.context.clear_cookies()
    sign_in(page, live_url, "coord@example.org", PASSWORD)
    page.goto(f"{live_url}/callbacks")
    assert "06 12345678" in page.inner_text("main")
    page.click(f"a[href='/callbacks/{row.id}']")
    main = page.inner_text("main")
    assert "gevraagd op een webpagina" in main and "identiteit controleren" in main
    look(page, "public-callback-desk-detail")


def test_the_english_page_and_the_kind_page_when_over_the_limit(app: Any, page: Any, live_url: str,
                                                                 runtime: Any) -> None:
    app.config["PENDEL_NOW"] = MONDAY_10
    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/bel-mij-terug")
    with page.expect_navigation():
        page.click("header button[lang=en]")
    assert page.inner_text("h1") == "Call me back" and page.url == f"{live_url}/bel-mij-terug"
    look(page, "public-callback-form-en")
    for number in ("+44 7911 123456", "020 123 4567", "06 87654321"):
        page.goto(f"{live_url}/bel-mij-terug")
        served_at = time.monotonic()
        page.fill("#number", number)
        page.check("input[name=moment][value=afternoon]")
        page.check("#wants_confirmation")
        _send_when_a_person_could(page, served_at)
    main = page.inner_text("main")
    assert page.inner_text("h1") == "Please try again later" and "not kept this one" in main
    look(page, "public-callback-too-many")
    assert [(r.number, r.language, r.wants_confirmation) for r in requests(runtime)] == [
        ("+447911123456", "en", False), ("+31201234567", "en", False)]
