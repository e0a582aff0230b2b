"""Shared by the case pages' integration tests (test_desk_cases*.py): the world of mediators, regions and
staff, signing in, making cases and appointments, and reading the pages.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import utcnow
from scheduler.models import Appointment, Region
from tests import factories as f
from tests.support.days import AMS, OFFICE, local, working_day_at

PASSWORD = "correct horse battery"
NORM = 10  # the default INTAKE_NORM_WORKING_DAYS


def opened_working_days_ago(n: int, hour: int = 11) -> datetime:
    """`hour`:00 office time on the n-th working day before today (n = 0: today)."""
    today = utcnow().astimezone(AMS).date()
    return local(OFFICE.add_working_days(today, -n), hour)


@pytest.fixture
def world(runtime: Any) -> dict[str, Any]:
    with runtime.db.write_session() as s:
        m1, m2, m3 = f.mediator(s, name="Anna Alders"), f.mediator(s, name="Bram Bos"), f.mediator(s, name="Cor Claes")
        north, south = Region(name="Noord"), Region(name="Zuid")
        s.add_all([north, south])
        s.flush()
        coordinator, _ = f.staff(s, "coordinator")
        mediator1, _ = f.staff(s, "mediator", m1)
        mediator2, _ = f.staff(s, "mediator", m2)
        return {"m1": m1.id, "m2": m2.id, "m3": m3.id, "north": north.id, "south": south.id,
                "coordinator": coordinator.email, "mediator1": mediator1.email, "mediator2": mediator2.email,
                "coordinator_id": coordinator.id}


def sign_in(client: Any, email: str) -> Any:
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def make_case(runtime: Any, mediator_ids: list[int], created_at: datetime | None = None, region: int | None = None,
              **kw: Any) -> int:
    with runtime.db.write_session() as s:
        from scheduler.models import Mediator

        case = f.case(s, [s.get(Mediator, m) for m in mediator_ids], **kw)
        if created_at is not None:
            case.created_at = created_at
        if region is not None:
            case.region = s.get(Region, region)
        return case.id


def add_appointment(runtime: Any, case_id: int, kind: str = "intake", status: str = "confirmed",
                    mediator_ids: tuple[int, ...] = (), start: datetime | None = None) -> int:
    start = start or working_day_at(10)
    with runtime.db.write_session() as s:
        from scheduler.models import Mediator

        row = Appointment(case_id=case_id, kind=kind, mode="phone", start=start, end=start + timedelta(hours=1),
                          status=status, mediators=[s.get(Mediator, m) for m in mediator_ids])
        s.add(row)
        s.flush()
        return row.id


def listed(page: str, ids: list[int]) -> list[int]:
    return [i for i in ids if f'href="/cases/{i}"' in page]


def error_of(page: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
    assert found, f"no error next to {field}"
    return found.group(1)


def count(runtime: Any, model: type, *where: Any) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0
