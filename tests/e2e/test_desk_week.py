"""The week views and Today in Chromium, on a busy office: what a mediator and a coordinator see first.

Screenshots (laptop and phone) go where tests/e2e/desk.py says: week-*, today-*.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.auth import create_user
from core.db import Database, utcnow
from notifications.models import OutboxMessage
from scheduler.demo import DEMO_PASSWORD, load_demo
from scheduler.models import Appointment, BusyBlock, Case, Mediator, Room
from scheduler.week_layout import monday_of
from telephony.models import CallbackAttempt, CallbackRequest
from tests.e2e.desk import look, sign_in
from tests.support.days import OFFICE, local

AMS = ZoneInfo("Europe/Amsterdam")
PASSWORD = "a long enough password"


def _fill_office(s: Any) -> None:
    """The demo office, with a full week for Anouk and four weeks of callbacks, messages and bookings."""
    load_demo(s, with_users=True)
    today = utcnow().astimezone(AMS).date()
    monday = monday_of(today)
    anouk = s.scalar(select(Mediator).where(Mediator.name == "Anouk de Vries"))
    bram = s.scalar(select(Mediator).where(Mediator.name == "Bram Jansen"))
    cases = list(s.scalars(select(Case).order_by(Case.id)))
    rooms = list(s.scalars(select(Room).order_by(Room.id)))
    plan = [  # (weekday, hour, minutes, case, kind, mode, room, status, with Bram)
        (0, 9, 60, 0, "intake", "home_visit", None, "confirmed", False),
        (0, 13, 90, 0, "preparation", "in_person", 0, "confirmed", False),
        (1, 10, 60, 2, "intake", "phone", None, "confirmed", False),
        (1, 14, 120, 1, "meeting", "in_person", 2, "confirmed", True),
        (2, 11, 60, 0, "follow_up", "video", None, "held", False),
        (3, 9, 60, 0, "intake", "in_person", 1, "cancelled", False),
        (3, 15, 60, 0, "preparation", "phone", None, "confirmed", False),
        (4, 10, 90, 0, "meeting", "in_person", 0, "confirmed", False),
    ]
    for weekday, hour, minutes, case, kind, mode, room, status, joint in plan:
        start = local(monday + timedelta(days=weekday), hour)
        row = Appointment(case_id=cases[case].id, kind=kind, mode=mode, start=start,
                          end=start + timedelta(minutes=minutes), status=status,
                          room_id=rooms[room].id if room is not None else None,
                          hold_expires_at=utcnow() + timedelta(days=2) if status == "held" else None,
                          cancel_reason="participant_request" if status == "cancelled" else None)
        row.mediators = [anouk, bram] if joint else [anouk]
        s.add(row)
    for weekday, start_hour, end_hour in ((2, 8, 10), (3, 12, 13)):
        day = monday + timedelta(days=weekday)
        s.add(BusyBlock(source_id=1, mediator_id=anouk.id, starts_at=local(day, start_hour),
                        ends_at=local(day, end_hour), uid="private"))
    s.add(BusyBlock(source_id=1, mediator_id=anouk.id, starts_at=local(monday + timedelta(days=5), 0),
                    ends_at=local(monday + timedelta(days=7), 0), uid="weekend"))
    s.add(BusyBlock(source_id=2, room_id=rooms[0].id, starts_at=local(monday + timedelta(days=1), 9),
                    ends_at=local(monday + timedelta(days=1), 12), uid="room"))
    _history(s, today, monday, cases, rooms)


def _history(s: Any, today: date, monday: date, cases: list[Case], rooms: list[Room]) -> None:
    rng = random.Random(12)
    numbers = iter(range(10_000, 99_999))
    for back in range(27, -1, -1):
        day = today - timedelta(days=back)
        if not OFFICE.is_working_day(day):
            continue
        for _ in range(rng.randint(2, 9)):
            created = local(day, rng.randint(8, 17), rng.choice((0, 15, 30, 45)))
            due = created + timedelta(hours=20)
            done = back > 0 or rng.random() < .3
            row = CallbackRequest(number=f"+316{next(numbers):08d}", number_typed_in=False, caller_number=None,
                                  language="nl", moment="no_preference", may_identify=False,
                                  wants_confirmation=False, status="done" if done else "open",
                                  created_at=created, updated_at=created, window_start=created, due_at=due)
            s.add(row)
            s.flush()
            if done:
                late = rng.random() < .15
                s.add(CallbackAttempt(callback_id=row.id, outcome="reached",
                                      at=due + timedelta(hours=3) if late else created + timedelta(hours=4)))
        for n in range(rng.randint(4, 16)):
            sent = local(day, rng.randint(8, 18))
            failed = rng.random() < .08
            s.add(OutboxMessage(idempotency_key=f"shot-{day}-{n}", kind="appointment_reminder", channel="sms",
                                recipient_kind="participant", status="undelivered" if failed else "delivered",
                                sent_at=sent, finished_at=sent))
    for week in range(-8, 5):
        first = monday + timedelta(weeks=week)
        for _ in range(rng.randint(2, 7) if week <= 0 else rng.randint(0, 5 - max(week, 0))):
            start = local(first + timedelta(days=rng.randint(0, 4)), rng.randint(9, 15))
            s.add(Appointment(case_id=rng.choice(cases).id, kind="intake", mode="phone", start=start,
                              end=start + timedelta(hours=1), status="completed" if week < 0 else "confirmed"))
        for _ in range(rng.randint(6, 22) if week <= 0 else rng.randint(2, 10)):
            start = local(first + timedelta(days=rng.randint(0, 4)), rng.randint(9, 14))
            s.add(Appointment(case_id=rng.choice(cases).id, kind="meeting", mode="in_person", start=start,
                              end=start + timedelta(hours=2), status="completed" if week < 0 else "confirmed",
                              room_id=rng.choice(rooms).id))


def test_a_mediator_lands_on_a_printable_week(database: Database, live_url: str, page: Any) -> None:
    with database.write_session() as s:
        _fill_office(s)
    sign_in(page, live_url, "anouk.devries@example.org", DEMO_PASSWORD)
    assert page.url == f"{live_url}/"  # home is the own week
    page.wait_for_selector("h1:text('Mijn week')")
    assert page.locator(".week .day").count() == 7
    assert page.locator(".week .item.busy").count() >= 4
    assert page.locator(".week .item.hold").count() == 1
    assert "private" not in page.content()
    look(page, "week-mine")
    page.emulate_media(media="print")
    assert not page.locator(".week-chooser").is_visible() and not page.locator("header.top").is_visible()
    page.set_viewport_size({"width": 1123, "height": 794})  # A4 landscape
    page.screenshot(path=str(_shots() / "week-mine-print.png"), full_page=True)
    page.emulate_media(media="screen")
    page.click("text=Volgende week")
    page.wait_for_selector("h1:text('Mijn week')")
    assert "week=" in page.url
    page.select_option("#choose-room", index=0)
    page.click(".week-chooser form:has(#choose-room) button")
    page.wait_for_selector("h1:text('Ruimte')")
    look(page, "week-room")


def test_the_office_lands_on_today(database: Database, live_url: str, page: Any) -> None:
    with database.write_session() as s:
        _fill_office(s)
        create_user(s, "coord@example.org", "Coco", "coordinator", PASSWORD)
    sign_in(page, live_url, "coord@example.org", PASSWORD)
    assert page.url == f"{live_url}/"  # home is Today
    page.wait_for_selector("h1:text('Vandaag')")
    assert page.locator("figure.chart svg[role=img]").count() == 4
    look(page, "today")
    page.goto(f"{live_url}/week")
    page.wait_for_selector("h1:text('Weken')")
    page.click("main >> text=Anouk de Vries")
    page.wait_for_selector("h1:text('Week van Anouk de Vries')")
    look(page, "week-coordinator")


def _shots() -> Any:
    from tests.e2e.desk import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
