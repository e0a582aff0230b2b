"""Set-up for the erasure tests: a participant with copies of their details in every table that keeps one,
and a search of every text column of the database for what must be gone."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import String, Text, select

from composition import metadata
from core.db import utcnow
from scheduler.models import MediatorTask, Participant
from scheduler.registration_models import Registration
from telephony.models import CallbackRequest


def details_of(session: Any, participant_id: int) -> list[str]:
    """Name, number (stored and as dialled), email and address of a participant, as stored now."""
    p = session.get(Participant, participant_id)
    found = [v for v in (p.name, p.phone, p.email, p.address) if v]
    return found + ([p.phone.replace("+31", "0")] if p.phone else [])


def everywhere(session: Any, needles: list[str]) -> list[str]:
    """'table.column' for every text column of every table that holds any of `needles` (case-insensitive)."""
    hits: list[str] = []
    for table in metadata().sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text))]
        if not columns:
            continue
        for row in session.execute(select(*columns)).all():
            for column, value in zip(columns, row):
                if value and any(n.lower() in str(value).lower() for n in needles):
                    hits.append(f"{table.name}.{column.name}")
    return sorted(set(hits))


def callback_request(session: Any, number: str, case_id: int | None, status: str = "done") -> int:
    now = utcnow()
    row = CallbackRequest(number=number, number_typed_in=False, caller_number=number, language="nl",
                          moment="morning", may_identify=False, wants_confirmation=False, status=status,
                          case_id=case_id, created_at=now, updated_at=now, window_start=now,
                          due_at=now + timedelta(hours=4))
    session.add(row)
    session.flush()
    return row.id


def copies_of(session: Any, participant_id: int, mediator_id: int) -> None:
    """What the office keeps about a participant besides their row: a callback request linked to their case,
    the registration their case was opened from, a task with a note quoting them."""
    p = session.get(Participant, participant_id)
    p.address = "Kerkstraat 12, 3511 AB Utrecht"
    callback_request(session, p.phone, p.case_id)
    session.add(Registration(registrant="self", name=p.name, phone=p.phone, email=p.email, language="nl",
                             role="victim", kind="crime", other_party_known="yes", status="case_opened",
                             case_id=p.case_id, handled_at=utcnow()))
    session.add(MediatorTask(mediator_id=mediator_id, case_id=p.case_id, participant_id=p.id, kind="cannot_come",
                             note=f"{p.name} cannot come on Tuesday; call {p.phone}"))
    session.flush()


def coordinator_of(runtime: Any) -> Any:
    from tests.factories import staff

    with runtime.db.write_session() as s:
        return staff(s, "coordinator")[0]


def close_case(runtime: Any, booked: Any, coordinator: Any, at: Any) -> None:
    """Cancel the booked appointment and close its case at `at` (a case with appointments ahead stays open)."""
    from scheduler import booking, casework

    with runtime.db.write_session() as s:
        booking.cancel(s, booked.appointment_id, coordinator, utcnow(), reason="office")
        casework.update_case(s, coordinator, booked.world.case_id, {"status": "closed"}, at)
