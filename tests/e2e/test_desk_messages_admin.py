"""Messages and Administration in Chromium: the dead list with a fix and a resend, an appointment's history, the
administration's pages; each page at laptop and phone width with axe-core (tests/e2e/desk.py `look`)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.db import Database, utcnow
from notifications.models import OutboxMessage
from scheduler.models import Appointment, Attendance, Region
from tests import factories
from tests.e2e.desk import look, sign_in
from tests.support.days import working_day_at

PASSWORD = "correct horse battery"


def _world(database: Database) -> dict[str, Any]:
    start = working_day_at(10)
    with database.write_session() as s:
        region = Region(name="Utrecht")
        s.add(region)
        anouk = factories.mediator(s, name="Anouk de Vries", language="en", video_url="https://meet.jit.si/anouk")
        anouk.region = region
        factories.mediator(s, name="Bram Jansen")
        place = factories.location(s, rooms=2, name="Huis aan de Gracht")
        place.rooms[1].separate_waiting_area = False
        case = factories.case(s, [anouk])
        victim, offender = case.participants
        appointment = Appointment(case_id=case.id, kind="intake", mode="video", start=start,
                                  end=start + timedelta(hours=1), status="confirmed", mediators=[anouk])
        appointment.attendances = [Attendance(participant_id=victim.id, arrival=start)]
        s.add(appointment)
        s.flush()
        now = utcnow()
        rows = [
            OutboxMessage(idempotency_key=f"appt:{appointment.id}:v1:appointment_confirmed:sms:p{victim.id}",
                          kind="appointment_confirmed", channel="sms",
                          recipient_kind="participant", participant_id=victim.id, appointment_id=appointment.id,
                          appointment_version=1, to_address=victim.phone, body="Bevestigd", status="dead",
                          attempts=1, last_error="permanent: Twilio HTTP 400, error 21211", created_at=now,
                          finished_at=now),
            OutboxMessage(idempotency_key=f"appt:{appointment.id}:v1:appointment_confirmed:email:p{victim.id}",
                          kind="appointment_confirmed", channel="email",
                          recipient_kind="participant", participant_id=victim.id, appointment_id=appointment.id,
                          appointment_version=1, to_address=victim.email, body="Bevestigd", status="delivered",
                          attempts=1, created_at=now, sent_at=now, finished_at=now),
            OutboxMessage(idempotency_key=f"appt:{appointment.id}:v1:appointment_reminder-2880m:email:p{offender.id}",
                          kind="appointment_reminder", channel="email",
                          recipient_kind="participant", participant_id=offender.id, appointment_id=appointment.id,
                          appointment_version=1, to_address=offender.email, body="Herinnering", status="dead",
                          attempts=8, last_error="permanent: SMTP 550 5.1.1 at RCPT", created_at=now,
                          finished_at=now),
        ]
        s.add_all(rows)
        admin = factories.staff(s, "admin")[0]
        admin.phone, admin.on_duty = "+31612345678", True
        s.flush()
        return {"admin": admin.email, "appointment": appointment.id, "dead": rows[0].id, "mediator": anouk.id,
                "location": place.id, "room": place.rooms[0].id}


def test_messages_pages_fix_and_send_again(database: Database, live_url: str, page: Any) -> None:
    world = _world(database)
    sign_in(page, live_url, world["admin"], PASSWORD)
    page.goto(f"{live_url}/messages/dead")
    assert page.inner_text("h1") == "Berichten die niet aankwamen"
    assert "Het telefoonnummer bestaat niet of is niet geldig." in page.inner_text("main")
    look(page, "messages-dead")
    page.fill(f"#m{world['dead']}-phone", "06 8765 4321")
    page.click(f"#message-{world['dead']} >> text=Nummer opslaan")
    page.wait_for_selector(".flash-success")
    page.click(f"#message-{world['dead']} >> text=Opnieuw versturen")
    page.wait_for_selector("text=Het bericht is opnieuw onderweg.")
    page.goto(f"{live_url}/appointments/{world['appointment']}/messages")
    assert page.locator("section.message").count() >= 4  # the fix also planned the reminders to the new number
    look(page, "messages-appointment")


def test_administration_pages(database: Database, live_url: str, page: Any) -> None:
    world = _world(database)
    sign_in(page, live_url, world["admin"], PASSWORD)
    for path, name in (("/admin", "admin-index"), ("/admin/regions", "admin-regions"),
                       ("/admin/mediators", "admin-mediators"),
                       (f"/admin/mediators/{world['mediator']}", "admin-mediator"),
                       ("/admin/locations", "admin-locations"), (f"/admin/rooms/{world['room']}", "admin-room"),
                       ("/admin/users", "admin-users"), ("/admin/users/new", "admin-new-user")):
        page.goto(f"{live_url}{path}")
        assert page.locator("h1").count() == 1, path
        look(page, name)
    # An overlap is refused next to its day, on the phone too.
    page.goto(f"{live_url}/admin/mediators/{world['mediator']}")
    page.fill("#day_1", "09:00-12:00, 11:00-13:00")
    page.click("main button[type=submit]")
    page.wait_for_selector("#day_1-error")
    assert "Deze tijden overlappen." in page.inner_text("#day_1-error")
    look(page, "admin-mediator-error")
