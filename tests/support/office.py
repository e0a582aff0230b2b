"""A small office for whole-system runs: people, places, cases, staff sign-ins, tokens and feeds.

Written straight into the database through the ORM and core.auth (setting
up is not what a run measures), everything made up: Dutch mobile numbers
from one block, addresses at pendel.test. Two kinds of cases, so the mixed
traffic can tell an expected outcome from a wrong one without guessing:

- booking cases: bookings, reschedules and cancellations; the participant
  pages are opened from their confirmations;
- withdrawal cases: booked, then their participants stop; no page is opened
  for them, and nothing may reach them after they stopped.

Every case has one mediator and two participants: the first may be texted
and mailed, the second only texted (in English), so a confirmed booking of
the first must leave a text and an email, of the second a text.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from calendars.feeds import issue_feed_token
from core.auth import create_user, issue_token
from scheduler.models import Case, Location, Mediator, Participant, Room

STAFF_EMAIL = "coordinator@pendel.test"
STAFF_PASSWORD = "whole-system staff password"
HOURS = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]


@dataclass(frozen=True)
class CaseSeat:
    """One case as the traffic sees it."""

    case_id: int
    mediator_id: int
    participant_ids: tuple[int, ...]


@dataclass
class Office:
    api_token: str
    staff_email: str
    staff_password: str
    mediator_ids: list[int]
    location_id: int
    room_ids: list[int]
    booking_cases: list[CaseSeat]
    withdrawal_cases: list[CaseSeat]
    feed_tokens: list[str]
    callers: list[str] = field(default_factory=list)  # numbers that call the line and use the web form

    def cases_of(self, mediator_id: int) -> list[CaseSeat]:
        return [c for c in self.booking_cases if c.mediator_id == mediator_id]


def _cases(session: Session, mediators: list[Mediator], n: int, label: str, first_number: int) -> list[CaseSeat]:
    seats = []
    for i in range(n):
        mediator = mediators[i % len(mediators)]
        number = first_number + 2 * i
        case = Case(reference=f"HB-{label}-{i:04d}", kind="crime", status="intake", mediators=[mediator])
        case.participants = [
            Participant(name=f"Deelnemer {label} {i}a", role="victim", phone=f"+316{number:08d}",
                        email=f"d{label.lower()}{i}a@pendel.test", language="nl", sms_allowed=True,
                        email_allowed=True),
            Participant(name=f"Deelnemer {label} {i}b", role="offender", phone=f"+316{number + 1:08d}",
                        email=None, language="en", sms_allowed=True, email_allowed=False)]
        session.add(case)
        session.flush()
        seats.append(CaseSeat(case.id, mediator.id, tuple(p.id for p in case.participants)))
    return seats


def seed_office(engine: Engine, *, mediators: int = 8, rooms: int = 3, booking_cases: int = 40,
                withdrawal_cases: int = 60, callers: int = 150) -> Office:
    """Write the office in one transaction and return what the traffic needs to know of it."""
    with Session(engine) as session, session.begin():
        staff = create_user(session, STAFF_EMAIL, "Coördinator Last", "coordinator", STAFF_PASSWORD)
        api_token = issue_token(session, staff, "whole-system traffic")
        people = [Mediator(name=f"Bemiddelaar {i}", email=f"bemiddelaar{i}@pendel.test", phone=None,
                           working_hours=HOURS, buffer_minutes=15 if i % 3 == 0 else 0, active=True)
                  for i in range(mediators)]
        session.add_all(people)
        location = Location(name="Buurthuis Last", address="Proefstraat 1", city="Utrecht")
        location.rooms = [Room(name=f"Kamer {i}", capacity=6, separate_waiting_area=True, accessible=True)
                          for i in range(rooms)]
        session.add(location)
        session.flush()
        booking = _cases(session, people, booking_cases, "B", 10_000_000)
        withdrawal = _cases(session, people, withdrawal_cases, "W", 11_000_000)
        feeds = [issue_feed_token(session, mediator_id=m.id) for m in people]
        feeds += [issue_feed_token(session, room_id=r.id) for r in location.rooms]
        return Office(api_token=api_token, staff_email=STAFF_EMAIL, staff_password=STAFF_PASSWORD,
                      mediator_ids=[m.id for m in people], location_id=location.id,
                      room_ids=[r.id for r in location.rooms], booking_cases=booking, withdrawal_cases=withdrawal,
                      feed_tokens=feeds, callers=[f"+316{20_000_000 + i:08d}" for i in range(callers)])
