"""The office's day in Chromium, as a coordinator and a mediator walk it, through the pages only.

Seeded like an office that just started: the demo data (scheduler/demo.py)
and one callback request taken as the phone line takes it
(telephony.callbacks.submit, the IVR's own call). From then on everything
goes through the pages; the database is only read, to check what the pages
say. The day:

1. The coordinator (Demi) finds the callback request in the queue and opens a
   case from it (the caller is the first participant), then adds the other
   party.
2. She plans the caller's intake through the slot picker (pick, confirm) and
   finds its confirmation among the appointment's messages.
3. Two browsers after the same time: Demi plans the other party's intake,
   the mediator (Anouk, in her own browser) an intake of another case of hers;
   both see Anouk's same free time. Demi takes it first; Anouk gets a sentence
   and fresh times, not an error page, and books one of those.
4. Demi plans the joint meeting with staggered times (each party's own arrival
   and departure, checked and then planned).
5. The other party stops; Demi undoes it.
6. Anouk adds her calendar, an uploaded file (tests/fixtures/ics/google.ics,
   an open weekly series), and sees its busy time in her own week.
   (A coordinator uploading a calendar for a mediator: tests/e2e/test_desk_calendars.py.)
7. Anouk falls ill: Demi moves her week to colleagues; Anouk's week no
   longer holds the caller's intake.

Screenshots (laptop and phone) of the steps' own states go where
tests/e2e/desk.py says: walk-*. No step depends on the day the test runs.
"""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from core.db import utcnow
from core.officehours import OfficeHours
from core.workdays import WorkingDayCalendar
from notifications.models import OutboxMessage
from scheduler.demo import DEMO_PASSWORD, load_demo
from scheduler.models import Appointment, Case, Participant
from telephony.callbacks import Choices, callback_window, submit
from tests.e2e.desk import LAPTOP, look, sign_in
from tests.support.days import AMS

COORDINATOR = "coordinator@example.org"  # Demi Coördinator, from the demo
MEDIATOR = "anouk.devries@example.org"   # Anouk de Vries, from the demo
CALLER = "+31687650001"
GOOGLE = Path(__file__).resolve().parents[1] / "fixtures" / "ics" / "google.ics"


def _seed(runtime: Any) -> dict[str, int]:
    """The demo office, and a caller who asked for a callback on the phone line (the IVR's `submit`)."""
    with runtime.db.write_session() as s:
        load_demo(s, with_users=True)
        window = callback_window(utcnow(), "morning", WorkingDayCalendar(), OfficeHours(), AMS)
        callback = submit(s, Choices(number=CALLER, number_typed_in=False, caller_number=CALLER, language="nl",
                                     moment="morning", may_identify=True, wants_confirmation=False,
                                     call_sid="CA" + "7" * 32), window)
        demo_case = s.scalar(select(Case).where(Case.reference == "HB-2026-0001"))  # Anouk's, with Kevin Smit
        assert demo_case is not None
        kevin = next(p for p in demo_case.participants if p.name == "Kevin Smit")
        return {"callback": callback, "demo_case": demo_case.id, "kevin": kevin.id}


def _go(page: Any, click: Any) -> None:
    """Click something that loads a new page (a link or a form's button) and wait for it."""
    with page.expect_navigation():
        click()
    page.wait_for_load_state("networkidle")


def _link(page: Any, name: str | re.Pattern[str]) -> None:
    _go(page, lambda: page.get_by_role("link", name=name, exact=True).first.click())


def _menu(page: Any, path: str) -> None:
    """The header's menu entry to `path` (by address: the menu's words are the catalog's to choose)."""
    _go(page, lambda: page.locator(f"header nav.menu a[href='{path}']").click())


def _button(page: Any, name: str) -> None:
    _go(page, lambda: page.get_by_role("button", name=name, exact=True).first.click())


def _path(page: Any) -> str:
    return urlsplit(page.url).path


def _slots(page: Any) -> list[str]:
    return [b.get_attribute("value") for b in page.locator(".day button.slot").all()]


def _pick(page: Any, value: str) -> None:
    _go(page, lambda: page.locator(f".day button.slot[value='{value}']").click())


def _search_by_phone(page: Any) -> None:
    page.check("input[name=mode][value=phone]")
    _go(page, lambda: page.click("form.search button[type=submit]"))


def _open_case_from_callback(page: Any, base: str, ids: dict[str, int]) -> int:
    sign_in(page, base, COORDINATOR, DEMO_PASSWORD)
    _menu(page, "/callbacks")
    assert "06 87650001" in page.inner_text("main table")
    _link(page, f"#{ids['callback']}")
    _link(page, "Een dossier openen voor dit verzoek")
    assert page.input_value("#phone") == CALLER
    page.fill("#name", "Lotte Hendriks")
    page.select_option("#role", "victim")
    page.fill("#address", "Biltstraat 20, Utrecht")
    page.fill("#email", "lotte@example.net")
    page.check("#sms_allowed")
    page.check("#email_allowed")
    page.select_option("#kind", "crime")
    page.select_option("#mediator_1", label="Anouk de Vries")
    _button(page, "Dossier openen")
    text = page.inner_text("main")
    assert "Het dossier is geopend." in text and "Terugbelverzoek gekoppeld aan dit dossier" in text
    case_id = int(page.url.rsplit("/", 1)[1])

    _link(page, "Deelnemer toevoegen")
    page.fill("#name", "Jesse de Wit")
    page.select_option("#role", "offender")
    page.fill("#phone", "06 87650002")
    page.check("#sms_allowed")
    _go(page, lambda: page.click("main button[type=submit].primary"))
    assert _path(page) == f"/cases/{case_id}"
    participants = page.inner_text("section[aria-labelledby=participants] tbody")
    assert "Lotte Hendriks" in participants and "Jesse de Wit" in participants
    return case_id


def _plan_callers_intake(page: Any, runtime: Any) -> int:
    _link(page, "Intake plannen Lotte Hendriks")
    assert "Lotte Hendriks" in page.locator("#participant_id option:checked").inner_text()
    wanted = _slots(page)[0]
    _pick(page, wanted)
    assert "/held" in page.url
    _button(page, "Bevestigen en boeken")
    assert "De afspraak is geboekt." in page.inner_text(".flash-success")
    appointment_id = int(page.url.rsplit("/", 1)[1])
    _link(page, "Elk bericht over deze afspraak en wat ermee gebeurd is")
    confirmation = page.locator("section.message", has_text="bevestiging").filter(has_text="Lotte Hendriks")
    assert confirmation.count() >= 1, page.inner_text("main")
    look(page, "walk-intake-messages")
    with runtime.db.session() as s:
        sent = s.scalars(select(OutboxMessage).where(OutboxMessage.appointment_id == appointment_id,
                                                     OutboxMessage.kind == "appointment_confirmed",
                                                     OutboxMessage.recipient_kind == "participant")).all()
        lotte = s.scalar(select(Participant).where(Participant.name == "Lotte Hendriks"))
        assert sent and {m.participant_id for m in sent} == {lotte.id}
        assert {m.channel for m in sent} <= {"sms", "email"}
    return appointment_id


def _two_browsers_one_time(coordinator: Any, mediator: Any, base: str, case_id: int, ids: dict[str, int],
                           runtime: Any) -> None:
    """Demi (the other party's intake) and Anouk (an intake of her demo case) after Anouk's same free time."""
    jesse = _participant_id(runtime, "Jesse de Wit")
    coordinator.goto(f"{base}/cases/{case_id}/intake?participant_id={jesse}")
    _search_by_phone(coordinator)
    sign_in(mediator, base, MEDIATOR, DEMO_PASSWORD)
    mediator.goto(f"{base}/cases/{ids['demo_case']}/intake?participant_id={ids['kevin']}")
    _search_by_phone(mediator)
    both = [v for v in _slots(coordinator) if v in set(_slots(mediator))]
    assert both, "the two searches show none of Anouk's free times in common"
    wanted = both[0]

    _pick(coordinator, wanted)
    _button(coordinator, "Bevestigen en boeken")
    assert "De afspraak is geboekt." in coordinator.inner_text(".flash-success")

    _pick(mediator, wanted)  # taken meanwhile
    assert mediator.url.startswith(f"{base}/cases/{ids['demo_case']}/intake")
    sentence = mediator.inner_text("[role=alert]")
    assert "net bezet" in sentence, sentence
    fresh = _slots(mediator)
    assert fresh and wanted not in fresh
    look(mediator, "walk-slot-taken")
    _pick(mediator, fresh[0])
    _button(mediator, "Bevestigen en boeken")
    assert "De afspraak is geboekt." in mediator.inner_text(".flash-success")


def _plan_joint_meeting(page: Any, base: str, case_id: int) -> int:
    page.goto(f"{base}/cases/{case_id}")
    _link(page, "Gezamenlijk gesprek plannen")
    assert page.is_checked("main input[name=participant_ids] >> nth=0")
    _button(page, "Vrije tijden tonen")
    first = page.locator(".slots button[name=slot]").first
    _go(page, first.click)  # a free time fills in the date and start, and checks the times
    times = _times(page)
    look(page, "walk-meeting-checked")
    _button(page, "Gesprek plannen")
    assert "/meetings/" in page.url
    assert "Het gezamenlijke gesprek is gepland." in page.inner_text(".flash-success")
    assert _times(page) == times
    look(page, "walk-meeting-planned")
    return int(page.url.rsplit("/", 1)[1])


def _times(page: Any) -> dict[str, tuple[str, str]]:
    """Each participant's own (arrival, departure) from the page's times table; the two are staggered."""
    rows = page.locator("table.times tbody tr").all()
    times = {r.locator("td").nth(0).inner_text(): (r.locator("td").nth(2).inner_text(),
                                                   r.locator("td").nth(3).inner_text()) for r in rows}
    assert set(times) == {"Lotte Hendriks", "Jesse de Wit"}, times
    (lotte_in, lotte_out), (jesse_in, jesse_out) = times["Lotte Hendriks"], times["Jesse de Wit"]
    assert lotte_in < jesse_in and lotte_out < jesse_out, times  # the harmed side comes first and leaves first
    return times


def _withdraw_and_undo(page: Any, base: str, case_id: int, meeting_id: int, runtime: Any) -> None:
    page.goto(f"{base}/cases/{case_id}")
    _link(page, "Stopt Jesse de Wit")
    what = page.inner_text("main")
    assert "Gezamenlijk gesprek" in what or "gezamenlijk gesprek" in what, what
    look(page, "walk-withdraw")
    _button(page, "Ja, Jesse de Wit stopt")
    assert _path(page) == f"/cases/{case_id}"
    # Two cancelled: the meeting and Jesse's own intake.
    assert "Jesse de Wit is gestopt. 2 afspraken zijn vervallen." in page.inner_text(".flash-success")
    with runtime.db.session() as s:
        assert s.get(Appointment, meeting_id).status == "cancelled"
    _link(page, "Stoppen terugdraaien Jesse de Wit")
    look(page, "walk-undo")
    _button(page, "Stoppen terugdraaien")
    assert _path(page) == f"/cases/{case_id}"
    assert "Jesse de Wit doet weer mee en kan worden ingepland." in page.inner_text(".flash-success")
    assert page.get_by_role("link", name="Stopt Jesse de Wit", exact=True).count() == 1
    with runtime.db.session() as s:
        assert s.scalar(select(Participant.withdrawn_at).where(Participant.name == "Jesse de Wit")) is None


def _mediator_adds_her_calendar(page: Any, base: str) -> None:
    page.goto(f"{base}/week")
    _menu(page, "/calendars")
    page.set_input_files("#upload-file", str(GOOGLE))
    page.fill("#upload-label", "Google-agenda")
    _button(page, "Uploaden")
    assert "bezette periode" in page.inner_text(".flash-success")
    assert "Google-agenda" in page.inner_text("main table")
    _menu(page, "/week")
    _link(page, re.compile(r"^Volgende week"))  # the weekly series falls on Thursday, every week
    thursday = page.locator(".week section.day").nth(3)
    assert thursday.locator(".item.busy").count() == 1, thursday.inner_text()
    assert "Spreekuur" not in page.content()  # what the time is for stays in the mediator's own calendar
    look(page, "walk-week-busy")


def _move_a_sick_mediators_week(page: Any, mediator: Any, base: str, intake_id: int, runtime: Any) -> None:
    with runtime.db.session() as s:
        intake = s.get(Appointment, intake_id)
        first = intake.start.astimezone(AMS).date()
        reference = intake.case.reference
    last = first + timedelta(days=6)
    page.goto(f"{base}/today")
    _menu(page, "/reassign")
    page.select_option("#mediator_id", label="Anouk de Vries")
    page.fill("#first_day", first.isoformat())
    page.fill("#last_day", last.isoformat())
    _button(page, "Toon het voorstel")
    assert reference in page.inner_text("main tbody")
    look(page, "walk-reassign-preview")
    apply = page.locator("main form[method=post] button[type=submit]")
    assert re.match(r"Uitvoeren: \d+ afspra", apply.inner_text())
    _go(page, apply.click)
    done = page.inner_text("main section:has(h2:text('Overgedragen'))")
    assert reference in done, done
    with runtime.db.session() as s:
        assert "Anouk de Vries" not in [m.name for m in s.get(Appointment, intake_id).mediators]
    year, week, _ = first.isocalendar()
    mediator.goto(f"{base}/week?week={year}-W{week:02d}")
    assert mediator.locator(f".week a[href='/appointments/{intake_id}']").count() == 0


def _participant_id(runtime: Any, name: str) -> int:
    with runtime.db.session() as s:
        found = s.scalar(select(Participant.id).where(Participant.name == name))
        assert found is not None
        return found


def test_the_offices_day(app: Any, live_url: str, page: Any, browser: Any) -> None:
    runtime = app.extensions["pendel"]
    ids = _seed(runtime)
    anouks = browser.new_context(viewport=LAPTOP, locale="nl-NL")
    try:
        mediator = anouks.new_page()
        case_id = _open_case_from_callback(page, live_url, ids)
        intake_id = _plan_callers_intake(page, runtime)
        _two_browsers_one_time(page, mediator, live_url, case_id, ids, runtime)
        meeting_id = _plan_joint_meeting(page, live_url, case_id)
        _withdraw_and_undo(page, live_url, case_id, meeting_id, runtime)
        _mediator_adds_her_calendar(mediator, live_url)
        _move_a_sick_mediators_week(page, mediator, live_url, intake_id, runtime)
    finally:
        anouks.close()
