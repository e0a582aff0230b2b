"""Calendars and a sick mediator in Chromium: upload a calendar and see its busy time; move a colleague's days."""
from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from core.db import Database, utcnow
from scheduler import booking
from scheduler.policy import policy_of
from scheduler.rules import BookingRequest
from tests import factories
from tests.e2e.desk import look, sign_in
from tests.support.days import local, working_day

PASSWORD = "correct horse battery"


def _one_event(start: Any, end: Any) -> bytes:
    fmt = "%Y%m%dT%H%M%SZ"
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//test//EN\r\nBEGIN:VEVENT\r\nUID:tandarts@example.org\r\n"
            f"DTSTAMP:{start.astimezone(timezone.utc):{fmt}}\r\nDTSTART:{start.astimezone(timezone.utc):{fmt}}\r\n"
            f"DTEND:{end.astimezone(timezone.utc):{fmt}}\r\nSUMMARY:Tandarts (privé)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            ).encode()


def test_an_uploaded_calendar_shows_as_busy_time(database: Database, live_url: str, page: Any, app: Any) -> None:
    with database.write_session() as s:
        mediator = factories.mediator(s, name="Mila Mediator")
        factories.location(s)
        coordinator, _ = factories.staff(s, "coordinator")
        mediator_id, email = mediator.id, coordinator.email
    day = working_day(14)
    sign_in(page, live_url, email, PASSWORD)
    page.click("header >> text=Agenda's")
    page.wait_for_selector("h1:text(\"Agenda's\")")
    look(page, "calendars-index")
    page.click("main >> text=Mila Mediator")
    page.wait_for_selector("h1:text(\"Agenda's van Mila Mediator\")")
    page.set_input_files("#upload-file", files=[{"name": "tandarts.ics", "mimeType": "text/calendar",
                                                 "buffer": _one_event(local(day, 10), local(day, 11))}])
    page.fill("#upload-label", "Privé-agenda")
    page.click("button:text-is('Uploaden')")
    page.wait_for_selector(".flash-success")
    assert "1 bezette periode" in page.inner_text(".flash-success")
    row = page.inner_text("main table")
    assert "Privé-agenda" in row and "bijgewerkt" in row and "Tandarts" not in page.content()
    page.click("button:text-is('Link maken')")
    page.wait_for_selector("#feed-url")
    assert page.input_value("#feed-url").startswith("https://pendel.test/calendars/feeds/")
    look(page, "calendars-owner")
    if "desk_week.mediator" in app.view_functions:  # the week view (another page of the desk)
        year, week, _weekday = day.isocalendar()
        page.goto(f"{live_url}/mediators/{mediator_id}/week?week={year}-W{week:02d}")
        busy = page.locator(".week .item.busy")
        assert busy.count() == 1
        assert "10:00" in busy.inner_text() and "Tandarts" not in page.content()


def test_a_sick_mediators_days_move_in_one_go(database: Database, live_url: str, page: Any, runtime: Any) -> None:
    day = working_day(14)
    with database.write_session() as s:
        sick, colleague = factories.mediator(s, name="Sam Ziek"), factories.mediator(s, name="Carla Collega")
        rooms = factories.location(s, rooms=2).rooms
        room = rooms[0]
        case, other = factories.case(s, [sick]), factories.case(s, [colleague])
        policy = policy_of(runtime.settings, runtime.workdays)
        # Sam has three intakes that day; Carla is free for two of them (at 16:00 she has one of her own).
        for hour, who, of, place in ((10, sick, case, room), (14, sick, case, room), (16, sick, case, room),
                                     (16, colleague, other, rooms[1])):
            start = local(day, hour)
            booking.book(s, BookingRequest(case_id=of.id, kind="intake", mode="in_person", start=start,
                                           end=start + timedelta(hours=1), mediator_ids=(who.id,), room_id=place.id,
                                           participant_ids=(of.participants[0].id,)), None, utcnow(), policy=policy)
        coordinator, _ = factories.staff(s, "coordinator")
        email = coordinator.email
    sign_in(page, live_url, email, PASSWORD)
    page.click("header >> text=Bemiddelaar ziek")
    page.wait_for_selector("h1")
    page.select_option("#mediator_id", label="Sam Ziek")
    page.fill("#first_day", day.isoformat())
    page.fill("#last_day", day.isoformat())
    page.click("text=Toon het voorstel")
    page.wait_for_selector("text=Voorgestelde collega")
    assert page.locator("main tbody tr").count() == 3
    assert page.inner_text("main tbody").count("Carla Collega") == 2
    assert "1 collega is dan bezet" in page.inner_text("main tbody")
    look(page, "reassign-preview")
    page.click("text=Uitvoeren: 2 afspraken overdragen")
    page.wait_for_selector("h2:text('Overgedragen')")
    assert "2 afspraken overgedragen" in page.inner_text(".flash-success")
    assert "1 afspraak kon niet worden overgedragen" in page.inner_text(".flash-warning")
    assert page.locator("main section:has(h2:text('Niet overgedragen')) tbody tr").count() == 1
    look(page, "reassign-done")
