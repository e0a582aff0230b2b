"""Demo data for a fresh embedded install: invented people, real-looking Dutch places.

Nothing here is real: names, numbers and addresses are made up (phone numbers
come from the ranges that are never issued to subscribers).
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth import create_user
from core.db import utcnow
from core.workdays import WorkingDayCalendar
from scheduler.booking import book
from scheduler.models import Case, Location, Mediator, Participant, Room
from scheduler.policy import BookingPolicy
from scheduler.rules import BookingRequest

DEMO_PASSWORD = "pendel-demo-2026"
_WEEKDAYS_9_TO_5 = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
_PART_TIME = [{"weekday": d, "start": "09:00", "end": "13:00"} for d in (0, 2, 4)] + [
    {"weekday": 1, "start": "12:00", "end": "20:00"}]

MEDIATORS = [
    ("Anouk de Vries", "anouk.devries@example.org", "+31612345601", _WEEKDAYS_9_TO_5, 30),
    ("Bram Jansen", "bram.jansen@example.org", "+31612345602", _WEEKDAYS_9_TO_5, 45),
    ("Charlotte Bakker", "charlotte.bakker@example.org", "+31612345603", _PART_TIME, 30),
    ("Daan Visser", "daan.visser@example.org", "+31612345604", _WEEKDAYS_9_TO_5, 15),
]

LOCATIONS = [
    ("Buurthuis De Linde", "Lindenlaan 12", "Utrecht", [("Spreekkamer 1", 4, True, True), ("Spreekkamer 2", 6, False, True)]),
    ("Wijkcentrum Oost", "Kastanjeplein 3", "Amsterdam", [("De Tuinkamer", 6, True, True), ("Kleine zaal", 8, True, False)]),
    ("Het Trefpunt", "Havenstraat 40", "Rotterdam", [("Kamer A", 4, False, True), ("Kamer B", 5, True, True)]),
]

CASES = [
    ("HB-2026-0001", "crime", "intake", [0], [
        ("Sanne Mulder", "victim", "+31687654301", "sanne@example.net", True, True),
        ("Kevin Smit", "offender", "+31687654302", None, True, False)]),
    ("HB-2026-0002", "traffic_accident", "registered", [1], [
        ("Ingrid Meijer", "next_of_kin", "+31687654303", "ingrid@example.net", False, True),
        ("Tom de Boer", "causer", "+31687654304", "tom@example.net", True, True)]),
    ("HB-2026-0003", "transgressive_behaviour", "contact", [2, 3], [
        ("Fatima el Amrani", "victim", "+31687654305", None, True, False),
        ("Ruben Kok", "suspect", None, "ruben@example.net", False, True)]),
]


def _book_demo_appointments(session: Session, cases: list[Case], tz: ZoneInfo) -> None:
    """Two intakes on the next working days, booked through the real booking path."""
    calendar = WorkingDayCalendar()
    now = utcnow()
    first = calendar.next_working_day(now.astimezone(tz).date())
    second = calendar.next_working_day(first)
    utrecht_room = session.scalar(select(Room).join(Location).where(Location.city == "Utrecht").order_by(Room.id))
    policy = BookingPolicy(is_working_day=calendar.is_working_day, tz=tz, min_notice=timedelta(0),
                           arrival_gap=timedelta(minutes=15))
    for case, day, hour, mode, room in ((cases[0], first, 10, "in_person", utrecht_room),
                                        (cases[1], second, 14, "phone", None)):
        start = datetime.combine(day, time(hour), tz).astimezone(timezone.utc)
        book(session, BookingRequest(case_id=case.id, kind="intake", mode=mode, start=start,
                                     end=start + timedelta(hours=1), mediator_ids=(case.mediators[0].id,),
                                     room_id=room.id if room else None,
                                     participant_ids=(case.participants[0].id,)), None, now, policy=policy)


def load_demo(session: Session, with_users: bool = False, tz: ZoneInfo = ZoneInfo("Europe/Amsterdam")) -> None:
    mediators = []
    for name, email, phone, hours, buffer in MEDIATORS:
        mediator = Mediator(name=name, email=email, phone=phone, working_hours=hours, buffer_minutes=buffer)
        session.add(mediator)
        mediators.append(mediator)
    for name, address, city, rooms in LOCATIONS:
        location = Location(name=name, address=address, city=city)
        location.rooms = [Room(name=r, capacity=c, separate_waiting_area=w, accessible=a) for r, c, w, a in rooms]
        session.add(location)
    cases = []
    for reference, kind, status, mediator_idx, people in CASES:
        case = Case(reference=reference, kind=kind, status=status, mediators=[mediators[i] for i in mediator_idx])
        case.participants = [Participant(name=n, role=r, phone=p, email=e, sms_allowed=sms, email_allowed=mail,
                                         language="nl") for n, r, p, e, sms, mail in people]
        session.add(case)
        cases.append(case)
    session.flush()
    _book_demo_appointments(session, cases, tz)
    if with_users:
        create_user(session, "coordinator@example.org", "Demi Coördinator", "coordinator", DEMO_PASSWORD)
        user = create_user(session, "anouk.devries@example.org", "Anouk de Vries", "mediator", DEMO_PASSWORD)
        mediators[0].user_id = user.id
        session.flush()


def load_demo_if_empty(session: Session, with_users: bool = False) -> bool:
    if session.scalar(select(func.count()).select_from(Mediator)):
        return False
    load_demo(session, with_users=with_users)
    return True
