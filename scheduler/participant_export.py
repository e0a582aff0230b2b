"""What Pendel holds about one participant, as one file (right of access, AVG art. 15).

A coordinator downloads it from the case page and hands it to the participant who asked. It holds
their own details, their case as far as it is theirs (reference, kind, status, dates), their
appointments with their own arrival, departure and answer, offers made to them, tasks about them and
the registration the case was opened from; never the other party's name or details, nor the
registrant's (someone else's data). Other packages add their sections (messages sent to them,
callback requests from their number) through `register_export_section`, as the case page's callback
section is added. Keys are English, for machines; the file's `about` says in Dutch and English what it is.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.models import User
from core.problems import Forbidden
from scheduler.access import participant_for
from scheduler.erasure import registrations_of
from scheduler.models import Appointment, Attendance, Location, MediatorTask, Participant, Room
from scheduler.participant_models import Offer
from scheduler.registration_models import Registration

Section = Callable[[Session, Participant, ZoneInfo], dict[str, Any]]
SECTIONS_KEY = "pendel.participant_export_sections"
ABOUT = {"nl": "Alle gegevens die het bureau in Pendel over u bewaart, op het moment dat dit bestand werd gemaakt.",
         "en": "All data the office keeps about you in Pendel, at the moment this file was made."}


def register_export_section(app: Flask, section: Section) -> None:
    app.extensions.setdefault(SECTIONS_KEY, []).append(section)


def export_sections(app: Flask) -> list[Section]:
    return list(app.extensions.get(SECTIONS_KEY, []))


def when(value: datetime | None, tz: ZoneInfo) -> str | None:
    """A moment in the office's time, with its offset (ISO 8601)."""
    return value.astimezone(tz).isoformat(timespec="minutes") if value else None


def export_participant(session: Session, actor: User, participant_id: int, sections: Sequence[Section],
                       now: datetime, tz: ZoneInfo) -> bytes:
    """The file (UTF-8 JSON); only a coordinator makes it, and the audit trail records that one was made."""
    participant = participant_for(session, actor, participant_id)
    if not actor.sees_all_cases:
        raise Forbidden("only a coordinator exports a participant's data")
    data = {"about": ABOUT, "made_at": when(now, tz), **_own(session, participant, tz)}
    for section in sections:
        data.update(section(session, participant, tz))
    audit.record(session, actor.id, "participant.exported", "participant", participant.id)
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def _own(session: Session, p: Participant, tz: ZoneInfo) -> dict[str, Any]:
    case = p.case
    return {
        "participant": {"name": p.name, "role": p.role, "phone": p.phone, "email": p.email, "address": p.address,
                        "language": p.language, "texts_allowed": p.sms_allowed, "emails_allowed": p.email_allowed,
                        "full_texts": p.full_text_opt_in, "stopped_at": when(p.withdrawn_at, tz),
                        "erased_at": when(p.erased_at, tz)},
        "case": {"reference": case.reference, "kind": case.kind, "status": case.status,
                 "opened_at": when(case.created_at, tz), "closed_at": when(case.closed_at, tz)},
        "appointments": _appointments(session, p, tz),
        "offers": [{"made_at": when(o.created_at, tz), "status": o.status, "until": when(o.expires_at, tz),
                    "times": [when(a.start, tz) for a in o.slots]}
                   for o in session.scalars(select(Offer).where(Offer.participant_id == p.id).order_by(Offer.id))],
        "tasks_about_you": [{"kind": t.kind, "note": t.note, "made_at": when(t.created_at, tz),
                             "done_at": when(t.done_at, tz)}
                            for t in session.scalars(select(MediatorTask).where(MediatorTask.participant_id == p.id)
                                                     .order_by(MediatorTask.id))],
        "registrations": _registrations(session, p, tz),
    }


def _appointments(session: Session, p: Participant, tz: ZoneInfo) -> list[dict[str, Any]]:
    rows = session.execute(select(Appointment, Attendance, Location).join(Attendance)
                           .outerjoin(Room, Room.id == Appointment.room_id).outerjoin(Location)
                           .where(Attendance.participant_id == p.id).order_by(Appointment.start)).all()
    return [{"kind": a.kind, "mode": a.mode, "start": when(a.start, tz), "end": when(a.end, tz), "status": a.status,
             "your_arrival": when(at.arrival, tz), "your_departure": when(at.departure, tz),
             "place": f"{place.name}, {place.address}, {place.city}" if place else None,
             "your_answer": at.response, "answered_at": when(at.responded_at, tz)} for a, at, place in rows]


def _registrations(session: Session, p: Participant, tz: ZoneInfo) -> list[dict[str, Any]]:
    """The registration the case was opened from for them: the person's part only, not the registrant's."""
    rows = session.scalars(select(Registration).where(registrations_of(p)).order_by(Registration.id))
    return [{"registered_at": when(r.created_at, tz), "by": r.registrant, "name": r.name, "phone": r.phone,
             "email": r.email, "address": r.address, "role": r.role, "kind": r.kind, "note": r.note,
             "may_identify": r.may_identify, "moment": r.moment} for r in rows]
