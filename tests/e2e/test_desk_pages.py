"""Every main page of the desk in Chromium, opened by the role that uses it: laptop and phone width, axe-core.

One table of (screenshot name, role, path): each row signs in as that role on
a seeded office, opens the page, expects it to answer 200 with one <h1>, and
passes it through `look` (tests/e2e/desk.py): a screenshot at 1280 and at 375
pixels wide into test-screenshots/page-<name>-{laptop,phone}.png, no sideways
scroll on the phone, and no serious or critical axe-core violation.

The office: the demo data (scheduler/demo.py, with its coordinator and
mediator accounts), an administrator, a callback request from the phone line,
a joint meeting with staggered arrivals, a held intake, a participant who
stopped, an uploaded calendar (tests/fixtures/ics/google.ics) and a message
that could not be delivered. Dates come from tests/support/days.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

import pytest
from sqlalchemy import select

from calendars.sources import create_source
from core.auth import create_user
from core.db import utcnow
from core.officehours import OfficeHours
from core.workdays import WorkingDayCalendar
from notifications.models import OutboxMessage
from scheduler import booking, withdrawal
from scheduler.demo import DEMO_PASSWORD, load_demo
from scheduler.models import Appointment, Case, Location, Mediator, Room
from scheduler.policy import policy_of
from scheduler.rules import BookingRequest
from telephony.callbacks import Choices, callback_window, submit
from tests.e2e.desk import look, sign_in
from tests.support.days import AMS, local, working_day

ADMIN, ADMIN_PASSWORD = "admin@example.org", "a long enough password"
ACCOUNTS = {"coordinator": ("coordinator@example.org", DEMO_PASSWORD),  # from the demo
            "mediator": ("anouk.devries@example.org", DEMO_PASSWORD),   # Anouk de Vries, from the demo
            "admin": (ADMIN, ADMIN_PASSWORD)}
GOOGLE = Path(__file__).resolve().parents[1] / "fixtures" / "ics" / "google.ics"


@dataclass(frozen=True)
class Office:
    """The ids a page's path needs."""

    case: int            # HB-2026-0001: Anouk's, with its two parties, an intake, a meeting and a hold
    victim: int
    stopped: int         # a participant of HB-2026-0002 who stopped
    intake: int          # the demo's first intake (HB-2026-0001)
    meeting: int
    held: int
    anouk: int
    room: int
    location: int
    admin: int
    callback: int
    week: str            # YYYY-Www of the meeting
    day: date            # the meeting's day

    @property
    def meeting_week(self) -> str:
        return f"?week={self.week}"


def _seed(runtime: Any) -> Office:
    policy = policy_of(runtime.settings, runtime.workdays)
    now = utcnow()
    with runtime.db.write_session() as s:
        load_demo(s, with_users=True)
        admin = create_user(s, ADMIN, "Ada Beheer", "admin", ADMIN_PASSWORD)
        case = s.scalar(select(Case).where(Case.reference == "HB-2026-0001"))
        other = s.scalar(select(Case).where(Case.reference == "HB-2026-0002"))
        assert case is not None and other is not None
        anouk = case.mediators[0]
        victim, offender = case.participants
        room = s.scalar(select(Room).join(Location).where(Room.separate_waiting_area.is_(True))
                        .order_by(Location.name, Room.name))
        assert room is not None
        intake = s.scalar(select(Appointment).where(Appointment.case_id == case.id))
        assert intake is not None
        day = working_day(14)
        start = local(day, 10)
        meeting = booking.book(s, BookingRequest(
            case_id=case.id, kind="meeting", mode="in_person", start=start, end=start + timedelta(hours=2),
            mediator_ids=(anouk.id,), room_id=room.id, participant_ids=(victim.id, offender.id),
            arrivals={victim.id: start, offender.id: start + timedelta(minutes=15)}), None, now, policy=policy)
        held_at = local(day, 14)
        held = booking.book(s, BookingRequest(
            case_id=case.id, kind="intake", mode="phone", start=held_at, end=held_at + timedelta(hours=1),
            mediator_ids=(anouk.id,), participant_ids=(offender.id,)), None, now, policy=policy,
            hold_for=timedelta(hours=2))
        stopped = other.participants[1]
        withdrawal.withdraw(s, stopped.id, admin, now)
        window = callback_window(now, "afternoon", WorkingDayCalendar(), OfficeHours(), AMS)
        callback = submit(s, Choices(number="+31687650009", number_typed_in=False, caller_number="+31687650009",
                                     language="nl", moment="afternoon", may_identify=False,
                                     wants_confirmation=False, call_sid="CA" + "9" * 32), window)
        create_source(s, admin, {"owner": {"mediator_id": anouk.id}, "kind": "upload", "label": "Google-agenda",
                                 "content": GOOGLE.read_text()}, now, runtime.settings)
        # The demo intake's confirmation text could not be delivered: the number does not exist.
        confirmation = s.scalar(select(OutboxMessage).where(OutboxMessage.appointment_id == intake.id,
                                                            OutboxMessage.participant_id == victim.id,
                                                            OutboxMessage.kind == "appointment_confirmed",
                                                            OutboxMessage.channel == "sms"))
        assert confirmation is not None
        confirmation.status, confirmation.attempts, confirmation.finished_at = "dead", 1, now
        confirmation.last_error = "permanent: Twilio HTTP 400, error 21211"
        s.flush()
        year, week, _ = day.isocalendar()
        return Office(case=case.id, victim=victim.id, stopped=stopped.id, intake=intake.id, meeting=meeting.id,
                      held=held.id, anouk=anouk.id, room=room.id, location=room.location_id, admin=admin.id,
                      callback=callback, week=f"{year}-W{week:02d}", day=day)


Path_ = Callable[[Office], str]
PAGES: list[tuple[str, str, Path_]] = [
    # cases
    ("cases", "coordinator", lambda o: "/cases"),
    ("cases-mediator", "mediator", lambda o: "/cases"),
    ("case", "coordinator", lambda o: f"/cases/{o.case}"),
    ("case-mediator", "mediator", lambda o: f"/cases/{o.case}"),
    ("case-new", "coordinator", lambda o: "/cases/new"),
    ("case-new-from-callback", "coordinator", lambda o: f"/cases/new?callback_id={o.callback}"),
    ("participant-new", "coordinator", lambda o: f"/cases/{o.case}/participants/new"),
    ("participant-edit", "coordinator", lambda o: f"/participants/{o.victim}/edit"),
    # intake, appointment
    ("plan-intake", "coordinator", lambda o: f"/cases/{o.case}/intake"),
    ("plan-intake-mediator", "mediator", lambda o: f"/cases/{o.case}/intake"),
    ("held", "coordinator", lambda o: f"/appointments/{o.held}/held"),
    ("appointment", "coordinator", lambda o: f"/appointments/{o.intake}"),
    ("appointment-mediator", "mediator", lambda o: f"/appointments/{o.intake}"),
    ("reschedule", "coordinator", lambda o: f"/appointments/{o.intake}/reschedule"),
    ("cancel", "coordinator", lambda o: f"/appointments/{o.intake}/cancel"),
    # joint meeting, withdrawal
    ("meeting-plan", "coordinator", lambda o: f"/cases/{o.case}/meeting"),
    ("meeting-plan-mediator", "mediator", lambda o: f"/cases/{o.case}/meeting"),
    ("meeting", "coordinator", lambda o: f"/meetings/{o.meeting}"),
    ("withdraw", "coordinator", lambda o: f"/participants/{o.victim}/withdraw"),
    ("undo-withdrawal", "coordinator", lambda o: f"/participants/{o.stopped}/undo-withdrawal"),
    # weeks, today
    ("week-mine", "mediator", lambda o: f"/week{o.meeting_week}"),
    ("weeks", "coordinator", lambda o: "/week"),
    ("week-mediator", "coordinator", lambda o: f"/mediators/{o.anouk}/week{o.meeting_week}"),
    ("week-room", "coordinator", lambda o: f"/rooms/{o.room}/week{o.meeting_week}"),
    ("today", "coordinator", lambda o: "/today"),
    # sick mediator, calendars
    ("reassign", "coordinator", lambda o: "/reassign"),
    ("reassign-preview", "coordinator",
     lambda o: f"/reassign?mediator_id={o.anouk}&first_day={o.day}&last_day={o.day + timedelta(days=6)}"),
    ("calendars", "coordinator", lambda o: "/calendars"),
    ("calendars-mediator", "coordinator", lambda o: f"/calendars/mediators/{o.anouk}"),
    ("calendars-room", "coordinator", lambda o: f"/calendars/rooms/{o.room}"),
    ("calendars-mine", "mediator", lambda o: "/calendars"),
    # messages
    ("messages-dead", "coordinator", lambda o: "/messages/dead"),
    ("messages-appointment", "coordinator", lambda o: f"/appointments/{o.intake}/messages"),
    # administration
    ("admin", "admin", lambda o: "/admin"),
    ("admin-regions", "admin", lambda o: "/admin/regions"),
    ("admin-mediators", "admin", lambda o: "/admin/mediators"),
    ("admin-mediator", "admin", lambda o: f"/admin/mediators/{o.anouk}"),
    ("admin-mediator-new", "admin", lambda o: "/admin/mediators/new"),
    ("admin-locations", "admin", lambda o: "/admin/locations"),
    ("admin-location", "admin", lambda o: f"/admin/locations/{o.location}"),
    ("admin-location-new", "admin", lambda o: "/admin/locations/new"),
    ("admin-room-new", "admin", lambda o: f"/admin/locations/{o.location}/rooms/new"),
    ("admin-room", "admin", lambda o: f"/admin/rooms/{o.room}"),
    ("admin-users", "admin", lambda o: "/admin/users"),
    ("admin-user", "admin", lambda o: f"/admin/users/{o.admin}"),
    ("admin-user-new", "admin", lambda o: "/admin/users/new"),
    # the phone line's pages
    ("callbacks", "coordinator", lambda o: "/callbacks"),
    ("callback", "coordinator", lambda o: f"/callbacks/{o.callback}"),
    ("duty", "coordinator", lambda o: "/duty"),
]


@pytest.mark.parametrize(("name", "role", "path"), PAGES, ids=[row[0] for row in PAGES])
def test_main_page(name: str, role: str, path: Path_, app: Any, live_url: str, page: Any) -> None:
    office = _seed(app.extensions["pendel"])
    sign_in(page, live_url, *ACCOUNTS[role])
    response = page.goto(f"{live_url}{path(office)}")
    assert response is not None and response.status == 200, (response and response.status, page.inner_text("main"))
    assert page.locator("h1").count() == 1
    assert page.locator("html").get_attribute("lang") == "nl"
    look(page, f"page-{name}")
    assert not _tables_cut_at_laptop_width(page), f"{name}: a table scrolls sideways at 1280 px"


def _tables_cut_at_laptop_width(page: Any) -> list[int]:
    """How far each table that scrolls sideways in its wrapper sticks out, at laptop width (look() ends there):
    on a laptop a table shows whole (a phone stacks its rows)."""
    return page.evaluate("""() => [...document.querySelectorAll('.table-wrap')]
        .map(w => w.scrollWidth - w.clientWidth).filter(d => d > 1)""")
