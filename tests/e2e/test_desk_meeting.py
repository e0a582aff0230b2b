"""The joint meeting, a withdrawal and its undo in Chromium: each page at laptop and phone width, axe-core clean.

Screenshots go where tests/e2e/desk.py says (meeting-*). The rules themselves are tested in
tests/integration/test_desk_meeting.py; here a coordinator plans a meeting with staggered times through
the page as a browser sends it, sees a refusal as a sentence, and withdraws and undoes a participant.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.auth import create_user
from core.db import Database
from scheduler.models import Appointment, Participant, Room
from tests import factories as f
from tests.e2e.desk import look, sign_in
from tests.support.days import working_day

PASSWORD = "a long enough password"


def _office(db: Database) -> dict[str, Any]:
    with db.write_session() as s:
        mediator = f.mediator(s, name="Anouk de Vries")
        case = f.case(s, [mediator])
        case.participants[0].name, case.participants[1].name = "Lotte Hendriks", "Jesse de Wit"
        location = f.location(s, rooms=1, waiting_area=True, name="Huis van de Wijk")
        s.add(Room(location_id=location.id, name="Kleine kamer", capacity=4, separate_waiting_area=False))
        create_user(s, "coord@example.org", "Coco Coördinator", "coordinator", PASSWORD)
        return {"case": case.id, "jesse": case.participants[1].id}


def _submit(page: Any, name: str) -> None:
    with page.expect_navigation():
        page.click(f"main button:text-is('{name}')")


def test_plan_a_joint_meeting_withdraw_and_undo(page: Any, live_url: str, app: Any) -> None:
    db = app.extensions["pendel"].db
    office = _office(db)
    sign_in(page, live_url, "coord@example.org", PASSWORD)
    page.goto(f"{live_url}/cases/{office['case']}/meeting")
    assert page.inner_text("h1").startswith("Gezamenlijk gesprek plannen")
    look(page, "meeting-plan")
    _submit(page, "Vrije tijden tonen")
    assert page.locator(".slots button[name=slot]").count() > 0
    look(page, "meeting-free-times")

    page.fill("#day", working_day(14).isoformat())
    page.fill("#start_time", "10:00")
    page.fill(f"#arrival_{office['jesse']}", "5")
    _submit(page, "Tijden controleren")
    assert "minstens 15 minuten na elkaar" in page.inner_text("#arrivals-error")
    look(page, "meeting-refused")

    page.fill(f"#arrival_{office['jesse']}", "15")
    _submit(page, "Tijden controleren")
    rows = {r.locator("td").nth(0).inner_text(): (r.locator("td").nth(2).inner_text(),
                                                  r.locator("td").nth(3).inner_text())
            for r in page.locator("table.times tbody tr").all()}
    assert rows == {"Lotte Hendriks": ("10:00", "11:50"), "Jesse de Wit": ("10:15", "12:00")}
    look(page, "meeting-checked")

    _submit(page, "Gesprek plannen")
    assert "/meetings/" in page.url
    look(page, "meeting-planned")
    meeting = int(page.url.rsplit("/", 1)[1])

    page.goto(f"{live_url}/participants/{office['jesse']}/withdraw")
    assert "Niemand krijgt hierover automatisch bericht" in page.inner_text("main")
    look(page, "meeting-withdraw")
    _submit(page, "Ja, Jesse de Wit stopt")
    with db.session() as s:
        assert s.get(Appointment, meeting).status == "cancelled"

    page.goto(f"{live_url}/participants/{office['jesse']}/undo-withdrawal")
    assert "blijven vervallen" in page.inner_text("main")
    look(page, "meeting-undo")
    _submit(page, "Stoppen terugdraaien")
    with db.session() as s:
        assert s.scalar(select(Participant.withdrawn_at).where(Participant.id == office["jesse"])) is None
