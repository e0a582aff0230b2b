"""Small builders for test data, written straight through a session."""
from __future__ import annotations

from itertools import count
from typing import Any

from sqlalchemy.orm import Session

from core.auth import create_user, issue_token
from core.models import User
from scheduler.models import Case, Location, Mediator, Participant, Room

_seq = count(1)
NINE_TO_FIVE = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]


def mediator(session: Session, **kw: Any) -> Mediator:
    n = next(_seq)
    values: dict[str, Any] = dict(name=f"Mediator {n}", email=f"m{n}@example.org", phone=None,
                                  working_hours=NINE_TO_FIVE, buffer_minutes=0, active=True)
    values.update(kw)
    row = Mediator(**values)
    session.add(row)
    session.flush()
    return row


def location(session: Session, rooms: int = 1, waiting_area: bool = True, **kw: Any) -> Location:
    n = next(_seq)
    loc = Location(name=kw.pop("name", f"Location {n}"), address="Straat 1", city=kw.pop("city", "Utrecht"))
    loc.rooms = [Room(name=f"Room {n}.{i}", capacity=4, separate_waiting_area=waiting_area, accessible=True)
                 for i in range(1, rooms + 1)]
    session.add(loc)
    session.flush()
    return loc


def case(session: Session, mediators: list[Mediator], roles: tuple[str, ...] = ("victim", "offender"),
         **kw: Any) -> Case:
    n = next(_seq)
    row = Case(reference=kw.pop("reference", f"HB-T-{n:05d}"), kind=kw.pop("kind", "crime"),
               status=kw.pop("status", "intake"), mediators=list(mediators))
    row.participants = [Participant(name=f"Person {n}.{i}", role=role, phone=f"+3161234{n % 1000:03d}{i}",
                                    email=f"p{n}.{i}@example.net", language="nl", sms_allowed=True,
                                    email_allowed=True)
                        for i, role in enumerate(roles)]
    session.add(row)
    session.flush()
    return row


def staff(session: Session, role: str, mediator_row: Mediator | None = None) -> tuple[User, dict[str, str]]:
    n = next(_seq)
    user = create_user(session, f"staff{n}@example.org", f"Staff {n}", role, "correct horse battery")
    if mediator_row is not None:
        mediator_row.user_id = user.id
    token = issue_token(session, user, "test")
    session.flush()
    return user, {"Authorization": f"Bearer {token}"}
