"""A thing that exists but is not yours answers exactly like a thing that does not exist.

For every resource a mediator can name by id (cases, participants, appointments,
tasks, messages, calendar sources), the answer for another case's row is
compared, status and body, with the answer for an id that was never used:
the same bytes, apart from the id itself.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from calendars.models import CalendarSource
from core.db import utcnow
from notifications.models import OutboxMessage
from notifications.outbox import NewMessage, add_message
from scheduler.models import Appointment, Attendance, MediatorTask
from tests import factories

MISSING = 987654321  # digits that appear in no other id, so the one id can be swapped for the other


@pytest.fixture
def theirs(runtime: Any) -> dict[str, Any]:
    """Mediator 1 (signed in by token) and, on mediator 2's case, one row of every kind."""
    now = utcnow()
    with runtime.db.write_session() as s:
        m1, m2 = factories.mediator(s), factories.mediator(s)
        factories.case(s, [m1])
        case = factories.case(s, [m2])
        _, headers = factories.staff(s, "mediator", m1)
        person = case.participants[0]
        appointment = Appointment(case_id=case.id, kind="intake", mode="phone", start=now + timedelta(days=3),
                                  end=now + timedelta(days=3, hours=1), status="cancelled", mediators=[m2],
                                  attendances=[Attendance(participant_id=person.id,
                                                          arrival=now + timedelta(days=3))])
        s.add(appointment)
        s.flush()
        task = MediatorTask(mediator_id=m2.id, case_id=case.id, kind="inform_other_party", participant_id=person.id)
        source = CalendarSource(mediator_id=m2.id, kind="upload", label="", status="never_synced", busy_count=0,
                                skipped_events=0)
        s.add_all([task, source])
        s.flush()
        message = add_message(s, NewMessage(key="theirs", kind="appointment_confirmed", channel="sms",
                                            recipient_kind="participant", to="+31600000000", language="nl",
                                            body="text", subject=None, participant_id=person.id), now)
        assert message is not None and s.get(OutboxMessage, message) is not None
        return {"headers": headers, "case": case.id, "participant": person.id, "appointment": appointment.id,
                "task": task.id, "message": message, "source": source.id}


# (method, path with {id}, which row, JSON body or None)
CALLS = [
    ("GET", "/api/v1/cases/{id}", "case", None),
    ("PATCH", "/api/v1/cases/{id}", "case", {"status": "contact"}),
    ("GET", "/api/v1/participants/{id}", "participant", None),
    ("PATCH", "/api/v1/participants/{id}", "participant", {"name": "Someone else"}),
    ("POST", "/api/v1/participants/{id}/withdraw", "participant", None),
    ("POST", "/api/v1/participants/{id}/undo-withdrawal", "participant", None),
    ("GET", "/api/v1/appointments/{id}", "appointment", None),
    ("POST", "/api/v1/appointments/{id}/confirm", "appointment", None),
    ("POST", "/api/v1/appointments/{id}/cancel", "appointment", None),
    ("POST", "/api/v1/tasks/{id}/done", "task", None),
    ("GET", "/api/v1/messages/{id}", "message", None),
    ("GET", "/api/v1/calendar-sources/{id}", "source", None),
    ("PATCH", "/api/v1/calendar-sources/{id}", "source", {"label": "mine now"}),
    ("DELETE", "/api/v1/calendar-sources/{id}", "source", None),
    ("PUT", "/api/v1/calendar-sources/{id}/upload", "source", {"content": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}),
    ("POST", "/api/v1/calendar-sources/{id}/sync", "source", None),
]


@pytest.mark.parametrize(("method", "path", "row", "body"), CALLS, ids=[f"{m} {p}" for m, p, _, _ in CALLS])
def test_another_cases_row_answers_like_an_unknown_id(client: Any, theirs: dict[str, Any], method: str, path: str,
                                                      row: str, body: dict[str, Any] | None) -> None:
    def ask(row_id: int) -> Any:
        kwargs: dict[str, Any] = {"headers": theirs["headers"]}
        if body is not None:
            kwargs["json"] = body
        return client.open(path.format(id=row_id), method=method, **kwargs)

    hidden, unknown = ask(theirs[row]), ask(MISSING)
    assert unknown.status_code == 404
    assert (hidden.status_code, hidden.headers["Content-Type"]) == (unknown.status_code,
                                                                   unknown.headers["Content-Type"])
    assert hidden.get_data() == unknown.get_data().replace(str(MISSING).encode(), str(theirs[row]).encode())
