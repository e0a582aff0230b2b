"""The case pages in Chromium: the list, a case, opening a case from a callback request, a refused phone number.

Screenshots (laptop and phone) go where tests/e2e/desk.py says: cases-*.
Each page is checked with axe-core and must fit a 375-pixel phone.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from core.auth import create_user
from core.db import Database, utcnow
from scheduler.demo import load_demo
from scheduler.models import Appointment, Case, Mediator, MediatorTask, Participant, Region
from telephony.models import CallbackRequest
from tests.e2e.desk import look, sign_in
from tests.support.days import AMS, OFFICE, local, working_day_at

PASSWORD = "a long enough password"


def _office(s: Any) -> dict[str, int]:
    """The demo office, in two regions, with a late case, some history, a task and an open callback request."""
    load_demo(s, with_users=True)
    create_user(s, "coord@example.org", "Coco Coördinator", "coordinator", PASSWORD)
    north, south = Region(name="Utrecht"), Region(name="Gelderland")
    s.add_all([north, south])
    s.flush()
    cases = list(s.scalars(select(Case).order_by(Case.id)))
    mediators = list(s.scalars(select(Mediator).order_by(Mediator.id)))
    today = utcnow().astimezone(AMS).date()
    for i, case in enumerate(cases):
        case.region = north if i % 2 == 0 else south
    late = Case(reference="HB-2026-0042", kind="traffic_accident", status="registered", mediators=[mediators[0]],
                region=north, created_at=local(OFFICE.add_working_days(today, -14), 10))
    late.participants = [Participant(name="Mila Jansen", role="victim", phone="+31612345001", language="nl",
                                     sms_allowed=True, email="mila@example.net", email_allowed=True),
                         Participant(name="Tom Peters", role="causer", phone="+31301234567", language="en",
                                     address="Oudegracht 1, Utrecht")]
    s.add(late)
    s.flush()
    start = working_day_at(10)
    meeting = Appointment(case_id=late.id, kind="preparation", mode="home_visit", start=start,
                          end=start + timedelta(hours=1), status="cancelled", cancel_reason="participant_request",
                          mediators=[mediators[0]])
    s.add(meeting)
    s.flush()
    s.add(MediatorTask(mediator_id=mediators[0].id, case_id=late.id, kind="inform_other_party",
                       appointment_id=meeting.id))
    due = working_day_at(12, days_ahead=1)
    callback = CallbackRequest(number="+31687654321", number_typed_in=False, caller_number="+31687654321",
                               language="nl", moment="morning", may_identify=True, wants_confirmation=False,
                               status="in_progress", window_start=due - timedelta(hours=3), due_at=due)
    s.add(callback)
    s.flush()
    return {"late": late.id, "callback": callback.id}


def test_case_pages_in_the_browser(database: Database, live_url: str, browser: Any) -> None:
    with database.write_session() as s:
        ids = _office(s)
    page = browser.new_page()
    sign_in(page, live_url, "coord@example.org", PASSWORD)

    page.goto(f"{live_url}/cases")
    assert "HB-2026-0042" in page.inner_text("main")
    look(page, "cases-list")
    page.check("#overdue")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "overdue=y" in page.url
    assert "HB-2026-0042" in page.inner_text("main")

    # Opening a case straight from the callback request: its number is filled in.
    page.goto(f"{live_url}/cases/new?callback_id={ids['callback']}")
    assert page.input_value("#phone") == "+31687654321"
    look(page, "cases-new-from-callback")
    page.fill("#name", "Sanne Visser")
    page.select_option("#kind", "crime")
    page.select_option("#region", label="Utrecht")
    page.select_option("#mediator_1", index=1)
    page.check("#sms_allowed")
    page.click("main button[type=submit].primary")
    page.wait_for_load_state("networkidle")
    text = page.inner_text("main")
    assert "Het dossier is geopend." in text and "Sanne Visser" in text
    assert "Terugbelverzoek gekoppeld aan dit dossier" in text
    new_case = page.url.rsplit("/", 1)[1]
    look(page, "cases-opened")  # with its history: opened, participant added, callback request linked
    with database.session() as s:
        assert s.get(CallbackRequest, ids["callback"]).case_id == int(new_case)

    page.goto(f"{live_url}/cases/{ids['late']}")
    assert "te laat" in page.inner_text("main h1")
    look(page, "cases-show")

    # A phone number that is none: the error next to the field, nothing added.
    page.goto(f"{live_url}/cases/{ids['late']}/participants/new")
    page.fill("#name", "Kees")
    page.fill("#phone", "0612")
    page.click("main button[type=submit].primary")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#phone-error") == "Dit is geen geldig telefoonnummer."
    look(page, "cases-participant-error")
    with database.session() as s:
        assert s.scalar(select(Participant).where(Participant.name == "Kees")) is None
