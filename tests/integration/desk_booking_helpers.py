"""What the desk's booking-page tests share (tests/integration/test_desk_booking.py and
test_desk_appointment.py): the `desk` fixture, signing in, the picker's slots, the intake page's search
values, holding and booking through the service, and "another time" in the evening.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from core.db import utcnow
from scheduler import booking
from scheduler.desk_picker import parse_slot
from scheduler.models import Appointment, Region
from scheduler.policy import policy_of
from scheduler.rules import BookingRequest
from tests import factories as f
from tests.support import days

PASSWORD = "correct horse battery"
SLOT = re.compile(r'name="slot" value="([^"]+)"')
HOUR = timedelta(hours=1)


@pytest.fixture
def desk(runtime: Any) -> dict[str, Any]:
    """Region Utrecht with Anna (on the case) and Bram; Carla elsewhere with a case of her own; one location."""
    with runtime.db.write_session() as s:
        utrecht, elsewhere = Region(name="Utrecht"), Region(name="Zwolle")
        s.add_all([utrecht, elsewhere])
        s.flush()
        anna = f.mediator(s, name="Anna Bakker", video_url="https://meet.example.org/anna")
        bram = f.mediator(s, name="Bram de Vries")
        carla = f.mediator(s, name="Carla Smit")
        anna.region, bram.region, carla.region = utrecht, utrecht, elsewhere
        case = f.case(s, [anna])
        case.region = utrecht
        theirs = f.case(s, [carla])
        location = f.location(s, rooms=2, name="Huis van de Wijk")
        coordinator, _ = f.staff(s, "coordinator")
        mediator, _ = f.staff(s, "mediator", anna)
        outsider, _ = f.staff(s, "mediator", carla)
        return {"anna": anna.id, "bram": bram.id, "carla": carla.id, "case": case.id, "theirs": theirs.id,
                "people": [p.id for p in case.participants], "region": utrecht.id, "location": location.id,
                "rooms": [r.id for r in location.rooms], "coordinator": coordinator.email,
                "mediator": mediator.email, "outsider": outsider.email}


def sign_in(client: Any, email: str) -> Any:
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def slots_of(html: str) -> list[str]:
    return SLOT.findall(html)


def search(desk: dict[str, Any], **kw: Any) -> dict[str, str]:
    values = {"mode": "phone", "duration": "60", "mediator": str(desk["anna"]), "participant_id": str(desk["people"][0])}
    values.update({k: str(v) for k, v in kw.items()})
    return values


def plan_url(desk: dict[str, Any]) -> str:
    return f"/cases/{desk['case']}/intake"


def appointments(runtime: Any) -> list[Appointment]:
    with runtime.db.session() as s:
        rows = list(s.scalars(select(Appointment).order_by(Appointment.id)))
        for row in rows:
            _ = row.mediators, row.attendances
        s.expunge_all()
        return rows


def held_id(response: Any) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    match = re.match(r"/appointments/(\d+)/held", urlsplit(response.headers["Location"]).path)
    assert match, response.headers["Location"]
    return int(match.group(1))


def pick(client: Any, desk: dict[str, Any], slot: str, **kw: Any) -> Any:
    return client.post(plan_url(desk), data={**search(desk, **kw), "action": "pick", "slot": slot})


def book_via_service(runtime: Any, desk: dict[str, Any], slot: str, minutes: int = 60, **kw: Any) -> int:
    start, mediator_ids, room_id = parse_slot(slot)  # type: ignore[misc]
    values: dict[str, Any] = dict(case_id=desk["case"], kind="intake", mode="phone", start=start,
                                  end=start + timedelta(minutes=minutes), mediator_ids=mediator_ids,
                                  participant_ids=(desk["people"][1],))
    values.update(kw)
    with runtime.db.write_session() as s:
        return booking.book(s, BookingRequest(**values), None, utcnow(),
                            policy=policy_of(runtime.settings, runtime.workdays)).id



def _evening(runtime: Any) -> datetime:
    return days.working_day_at(19, days_ahead=10, calendar=runtime.workdays)


def other_time(desk: dict[str, Any], start: datetime, **kw: Any) -> dict[str, str]:
    return {**search(desk), "action": "other", "day": start.date().isoformat(), "at": start.strftime("%H:%M"),
            **{k: str(v) for k, v in kw.items()}}

