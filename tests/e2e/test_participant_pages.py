"""A participant's own pages in Chromium on a phone, starting from the text Pendel actually wrote.

The appointment is booked the way the desk books it (scheduler.booking, with every subscriber), so the
confirmation SMS lands in the outbox with its personal link; the test reads that text, opens the link at
375 pixels wide, and walks: "I'll come", then "I can't" (with a reason and two moments), then stopping.
Every page is screenshotted (participant-*), checked with axe-core, and searched for anything of the other
participant.
"""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from core.db import utcnow
from notifications.models import OutboxMessage
from scheduler import booking
from scheduler.models import Attendance, MediatorTask, Participant
from tests.conftest import with_settings
from tests.e2e.desk import PHONE, look
from tests.integration.booking_helpers import POLICY, build_world, future_start, request
from tests.support.days import AMS

LINK = re.compile(r"https?://\S+?(/a/[A-Za-z0-9_-]{22})\b")


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return with_settings(settings, public_base_url="http://127.0.0.1")  # the server's own (loopback) address


def _confirmation_link(runtime: Any, participant_id: int) -> str:
    """The personal link in the participant's confirmation SMS, as written to the outbox."""
    with runtime.db.sessions() as s:
        body = s.scalar(select(OutboxMessage.body).where(
            OutboxMessage.participant_id == participant_id, OutboxMessage.channel == "sms",
            OutboxMessage.kind == "appointment_confirmed"))
    assert body, "no confirmation text was written"
    found = LINK.search(body)
    assert found, f"no personal link in the text: {body!r}"
    return found.group(1)


def _never_shows(page: Any, leaks: list[str]) -> None:
    html = page.content()
    for leaked in leaks:
        assert leaked not in html, leaked


def test_a_participant_answers_and_stops_from_the_link_in_their_text(page: Any, live_url: str, runtime: Any) -> None:
    world = build_world(runtime.db)
    me, other = world.participant_ids
    start = future_start()
    with runtime.db.write_session() as s:
        appointment = booking.book(s, request(world, start, kind="meeting", participant_ids=(me, other), minutes=90,
                                              arrivals={me: start, other: start + timedelta(minutes=15)}),
                                   None, utcnow(), policy=POLICY)
        appointment_id = appointment.id
        them = s.get(Participant, other)
        leaks = [them.name, them.phone, them.email, them.phone.replace("+31", "0")]
    page.set_viewport_size(PHONE)
    page.goto(live_url + _confirmation_link(runtime, me))
    assert urlsplit(page.url).path == "/a/"  # the token left the address bar
    assert page.get_by_role("heading", name="Uw afspraak").is_visible()
    assert start.astimezone(AMS).strftime("%H:%M") in page.inner_text("main")
    _never_shows(page, leaks)
    look(page, "participant-appointment")

    page.get_by_role("link", name="Ik kom").click()
    look(page, "participant-coming")
    page.get_by_role("button", name="Ja, ik kom").click()
    assert page.get_by_role("heading", name="Dank u wel").is_visible()
    look(page, "participant-answered")

    page.goto(live_url + "/a/")
    page.get_by_role("link", name="Ik kan niet").click()
    page.get_by_label("Wat zit u in de weg? (u mag dit leeg laten)").fill("Mijn kind is ziek")
    boxes = page.locator("input[name=moments]")
    boxes.nth(0).check()
    boxes.nth(3).check()
    look(page, "participant-cannot-come")
    page.get_by_role("button", name="Versturen").click()
    assert "niet kunt komen" in page.inner_text("main")
    with runtime.db.sessions() as s:
        assert s.get(Attendance, (appointment_id, me)).response == "cannot_come"
        note = s.scalar(select(MediatorTask.note).where(MediatorTask.kind == "participant_cannot_come"))
    assert note and note.startswith("Mijn kind is ziek") and note.count("\n- ") == 2

    page.goto(live_url + "/a/")
    page.get_by_role("link", name="Ik wil stoppen").click()
    assert "vrijwillig" in page.inner_text("main")
    look(page, "participant-stop")
    page.get_by_role("button", name="Ja, ik wil stoppen").click()
    assert page.get_by_role("heading", name="U bent gestopt").is_visible()
    look(page, "participant-stopped")
    with runtime.db.sessions() as s:
        assert s.get(Participant, me).withdrawn_at is not None

    page.goto(live_url + "/a/")  # the link no longer works: the one neutral page, with the office's number
    assert page.get_by_role("heading", name="Deze link werkt niet meer").is_visible()
    assert "030 123 4567" in page.inner_text("body")
    look(page, "participant-closed")


def test_a_participant_reads_their_page_in_english(page: Any, live_url: str, runtime: Any) -> None:
    world = build_world(runtime.db)
    me = world.participant_ids[0]
    with runtime.db.write_session() as s:
        s.get(Participant, me).language = "en"
        booking.book(s, request(world, future_start()), None, utcnow(), policy=POLICY)
    page.set_viewport_size(PHONE)
    page.goto(live_url + _confirmation_link(runtime, me))
    assert page.get_by_role("heading", name="Your appointment").is_visible()
    look(page, "participant-appointment-en")


def test_times_offered_at_the_desk_are_chosen_by_the_participant_and_booked_in_the_week(
        page: Any, browser: Any, live_url: str, runtime: Any) -> None:
    from core.auth import create_user
    from scheduler.demo import load_demo
    from scheduler.models import Appointment, Case
    from scheduler.participant_models import Offer
    from scheduler.week_layout import week_code
    from tests.e2e.desk import sign_in

    with runtime.db.write_session() as s:
        load_demo(s, with_users=True)
        create_user(s, "coord@example.org", "Coco Coördinator", "coordinator", "a long enough password")
        case = s.scalars(select(Case).order_by(Case.id)).first()
        person = case.participants[0]
        person.sms_allowed, person.phone, person.withdrawn_at = True, person.phone or "+31612345678", None
        ids = {"case": case.id, "participant": person.id, "mediator": case.mediators[0].id}
        leaks = [v for p in case.participants[1:] for v in (p.name, p.phone, p.email) if v]
    sign_in(page, live_url, "coord@example.org", "a long enough password")
    page.goto(f"{live_url}/cases/{ids['case']}/intake?participant_id={ids['participant']}"
              f"&mode=phone&duration=60&mediator={ids['mediator']}")
    ticks = page.locator(".day input[name=offer]")
    for i in (0, 4, 8):
        ticks.nth(i).check()
    page.click("text=Aangevinkte tijden aanbieden")
    page.wait_for_load_state("networkidle")
    assert "3 tijden zijn aangeboden" in page.inner_text("main")

    with runtime.db.sessions() as s:
        body = s.scalar(select(OutboxMessage.body).where(OutboxMessage.participant_id == ids["participant"],
                                                         OutboxMessage.kind == "slots_offered",
                                                         OutboxMessage.channel == "sms"))
        offer = s.scalars(select(Offer)).one()
        second = sorted(offer.slots, key=lambda a: a.start)[1]
        second_id, second_start = second.id, second.start
    assert body and LINK.search(body), body
    phone = browser.new_context(viewport=PHONE, locale="nl-NL").new_page()
    phone.goto(live_url + LINK.search(body).group(1))
    assert phone.get_by_role("heading", name="Kies een tijd").is_visible()
    assert phone.locator("input[name=slot]").count() == 3
    _never_shows(phone, leaks)
    look(phone, "participant-offer")
    phone.locator(f"input[name=slot][value='{second_id}']").check()
    phone.get_by_role("button", name="Verder").click()
    look(phone, "participant-offer-confirm")
    phone.get_by_role("button", name="Ja, deze tijd vastleggen").click()
    assert phone.get_by_role("heading", name="Uw afspraak").is_visible()
    assert second_start.astimezone(AMS).strftime("%H:%M") in phone.inner_text("main")
    look(phone, "participant-offer-booked")

    with runtime.db.sessions() as s:
        assert s.get(Appointment, second_id).status == "confirmed"
        assert s.scalars(select(Offer)).one().status == "chosen"
    week = week_code(second_start.astimezone(AMS).date())
    page.goto(f"{live_url}/mediators/{ids['mediator']}/week?week={week}")
    booked = page.locator(".week li.item", has=page.locator(f"a.open[href$='/appointments/{second_id}']"))
    assert booked.count() == 1 and "offered" not in (booked.get_attribute("class") or "")
    assert page.locator(".week .item.offered").count() == 0  # the other two were released
    look(page, "participant-offer-week")


def test_when_no_offered_time_is_left_the_participant_asks_to_be_called(page: Any, live_url: str, runtime: Any) -> None:
    from scheduler.participant_models import Offer
    from telephony.models import CallbackRequest
    from tests.integration.participant_helpers import offer_with_link

    world, offer_id, slots, token = offer_with_link(runtime)
    with runtime.db.write_session() as s:
        s.get(Offer, offer_id).expires_at = utcnow() - timedelta(minutes=5)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/a/{token}")
    assert "kunnen niet meer gekozen worden" in page.inner_text("main")
    look(page, "participant-offer-lapsed")
    page.get_by_role("link", name="Bel mij terug").click()
    look(page, "participant-call-me")
    page.get_by_role("button", name="Ja, neem contact met mij op").click()
    assert "We bellen u op" in page.inner_text("main")
    look(page, "participant-called")
    with runtime.db.sessions() as s:
        assert s.scalar(select(CallbackRequest.case_id)) == world.case_id
