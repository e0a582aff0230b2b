"""A participant's own answer about an appointment, given on their personal page: "I'll come" or "I can't".

The answer is stored on their attendance, latest wins, and saying the same thing again changes nothing
(a reloaded page, a second tap). "I can't" gives each of the appointment's mediators a task holding the
participant's reason and the moments that would suit them, for the mediator to call them about a new time;
the appointment itself stays booked until the mediator moves or cancels it (it may be a misunderstanding).
A `ParticipantAnswered` event lets notifications send the mediators a discreet notice.
"""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.events import publish
from core.problems import Conflict, InvalidInput
from scheduler import events
from scheduler.models import Appointment, Attendance, MediatorTask

RESPONSES = ("coming", "cannot_come")
CANNOT_COME_TASK = "participant_cannot_come"
MAX_REASON = 500


def answer(session: Session, appointment_id: int, participant_id: int, response: str, now: datetime,
           reason: str = "", moments: Sequence[str] = ()) -> bool:
    """Record the answer; True when it changed something."""
    if response not in RESPONSES:
        raise InvalidInput("response", "coming or cannot_come")
    attendance = session.scalar(select(Attendance).where(
        Attendance.appointment_id == appointment_id, Attendance.participant_id == participant_id)
        .with_for_update())
    appointment = session.get(Appointment, appointment_id)
    if attendance is None or appointment is None:
        raise InvalidInput("appointment_id", "not an appointment of this participant")
    if appointment.status != "confirmed" or appointment.start <= now:
        raise Conflict("this appointment can no longer be answered")
    previous = attendance.response
    if previous == response:
        return False
    attendance.response, attendance.responded_at = response, now
    if response == "cannot_come":
        note = _note(reason, moments)
        for mediator in appointment.mediators:
            session.add(MediatorTask(mediator_id=mediator.id, case_id=appointment.case_id, kind=CANNOT_COME_TASK,
                                     participant_id=participant_id, appointment_id=appointment_id, note=note,
                                     created_at=now))
    audit.record(session, None, f"attendance.{response}", "appointment", appointment_id, f"participant {participant_id}")
    publish(session, events.ParticipantAnswered(appointment_id, participant_id, response, previous))
    return True


def _note(reason: str, moments: Sequence[str]) -> str:
    """The participant's own words for the mediator's task: their reason, then the moments that suit them."""
    lines = [reason.strip()[:MAX_REASON]] if reason.strip() else []
    lines += [f"- {m.strip()[:100]}" for m in moments if m.strip()]
    return "\n".join(lines)
