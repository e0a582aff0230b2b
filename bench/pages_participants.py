"""The participants' part of the page benchmark (bench/pages.py): their personal page, an offer's page,
and choosing an offered time against a bare booking INSERT.

Links and offers are made through Pendel's own services (scheduler.links, scheduler.offers) on the
benchmark's office, in a runtime with every package's event subscribers, so choosing a time writes what it
writes in production: the booking, the released holds, the confirmation and reminder messages.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, time as wall_time, timedelta, timezone
from typing import Any

from sqlalchemy import insert, select

from core.config import Settings
from core.workdays import WorkingDayCalendar
from scheduler import offers
from scheduler.links import issue
from scheduler.models import Appointment, Attendance, Reservation
from scheduler.policy import policy_of
from scheduler.rules import BookingRequest

OFFER_WEEKS_AHEAD = 30  # past the office's data (12 weeks of busy time, its appointments): times that are free


@dataclass
class ParticipantPages:
    appointment_token: str
    offer_token: str
    floor_case_id: int


def _runtime(database_url: str, public_base_url: str) -> Any:
    from composition import build_process_runtime

    return build_process_runtime(Settings(environment="testing", database_url=database_url, secret_key="bench",
                                          public_base_url=public_base_url, office_phone="030 123 4567"))


def _coordinator(session: Any) -> Any:
    from core.models import User

    return session.scalar(select(User).where(User.role == "coordinator").limit(1))


def _open_cases(session: Any, case_ids: list[int]) -> list[int]:
    """These cases that are not closed (a closed case takes no bookings), in the given order."""
    from scheduler.models import Case

    open_ids = set(session.scalars(select(Case.id).where(Case.id.in_(case_ids), Case.status != "closed")))
    return [c for c in case_ids if c in open_ids]


def _times(first_day: date, calendar: WorkingDayCalendar, n: int, tz: Any) -> list[datetime]:
    """n one-hour times on working days from `first_day`, four a day (09, 11, 13, 15 local)."""
    out, day = [], first_day
    while len(out) < n:
        if calendar.is_working_day(day):
            out += [datetime.combine(day, wall_time(h), tz).astimezone(timezone.utc) for h in (9, 11, 13, 15)]
        day += timedelta(days=1)
    return out[:n]


def _offer(session: Any, settings: Settings, actor: Any, case_id: int, participant_id: int, mediator_id: int,
           starts: list[datetime]) -> Any:
    now = datetime.now(timezone.utc)
    wanted = [BookingRequest(case_id=case_id, kind="intake", mode="phone", start=s, end=s + timedelta(hours=1),
                             mediator_ids=(mediator_id,), room_id=None, participant_ids=(participant_id,))
              for s in starts]
    return offers.make_offer(session, actor, participant_id, wanted, now,
                             policy=policy_of(settings, WorkingDayCalendar()), hours=48)


def prepare(database_url: str, public_base_url: str, office: Any) -> ParticipantPages:
    """A link to a future appointment of the busiest case, and a link to an offer of three times."""
    runtime = _runtime(database_url, public_base_url)
    case = office.busiest_case_ids[0]
    first = date.today() + timedelta(weeks=OFFER_WEEKS_AHEAD)
    with runtime.db.write_session() as s:
        appointment = s.scalar(select(Appointment).where(Appointment.case_id == case, Appointment.status == "confirmed")
                               .order_by(Appointment.start.desc()).limit(1))
        person = appointment.attendances[0].participant_id
        appointment_token = issue(s, person, appointment_id=appointment.id)
        offered = _open_cases(s, office.busiest_case_ids[1:] + office.case_ids)[0]
        victim = office.participants_of[offered][0]
        offer = _offer(s, runtime.settings, _coordinator(s), offered, victim, office.mediator_of_case[offered],
                       _times(first, WorkingDayCalendar(), 3, runtime.settings.tz))
        offer_token = issue(s, victim, offer_id=offer.id)
    runtime.db.dispose()
    return ParticipantPages(appointment_token, offer_token, case)


@dataclass
class Choices:
    """Seconds per choice of an offered time, with its messages and as the booking alone, and per bare INSERT."""

    with_messages: list[float]
    booking_only: list[float]
    bare_insert: list[float]


def choosing_against_insert(database_url: str, public_base_url: str, office: Any, rounds: int) -> Choices:
    """Choose `rounds` offered times through scheduler.offers.choose (its transaction and commit), in turn in
    a runtime with every subscriber (the confirmation and reminders written too) and in one without (the
    booking alone), each followed by a bare booking INSERT (the appointment, its attendance, its mediator's
    and participant's reservations, one transaction)."""
    from core.runtime import build_runtime

    full = _runtime(database_url, public_base_url)
    bare_runtime = build_runtime(full.settings)
    settings, calendar = full.settings, WorkingDayCalendar()
    with full.db.sessions() as s:
        cases = _open_cases(s, [c for c in office.case_ids if c not in office.busiest_case_ids])[:rounds]
    starts = _times(date.today() + timedelta(weeks=OFFER_WEEKS_AHEAD + 4), calendar, 2 * len(cases) + rounds,
                    settings.tz)
    result = Choices([], [], [])
    mediators_used: dict[int, int] = {}
    for n, case in enumerate(cases):
        mediator = office.mediator_of_case[case]
        k = mediators_used.get(mediator, 0)
        mediators_used[mediator] = k + 1
        pair = starts[2 * k: 2 * k + 2]  # each mediator's own run of times: offers never collide
        victim = office.participants_of[case][0]
        runtime = full if n % 2 == 0 else bare_runtime
        with runtime.db.write_session() as s:
            offer = _offer(s, settings, _coordinator(s), case, victim, mediator, pair)
            offer_id, slot = offer.id, offer.slots[0].id
        began = time.perf_counter()
        with runtime.db.write_session() as s:
            offers.choose(s, offer_id, slot, None, datetime.now(timezone.utc))
        (result.with_messages if runtime is full else result.booking_only).append(time.perf_counter() - began)
        result.bare_insert.append(_bare_insert(full.db.engine, case, victim, mediator, starts[2 * len(cases) + n]))
    full.db.dispose()
    bare_runtime.db.dispose()
    return result


def _bare_insert(engine: Any, case_id: int, participant_id: int, mediator_id: int, start: datetime) -> float:
    end = start + timedelta(hours=1)
    began = time.perf_counter()
    with engine.begin() as conn:
        appointment = conn.execute(insert(Appointment.__table__).returning(Appointment.__table__.c.id), {
            "case_id": case_id, "kind": "intake", "mode": "phone", "start": start, "end": end, "status": "confirmed",
            "waiting_area_override": False, "version": 1, "created_at": start, "updated_at": start}).scalar()
        conn.execute(insert(Attendance.__table__), {"appointment_id": appointment, "participant_id": participant_id})
        conn.execute(insert(Reservation.__table__), [
            {"appointment_id": appointment, "starts_at": start, "ends_at": end, "live": True, "mediator_id": mediator_id,
             "participant_id": None},
            {"appointment_id": appointment, "starts_at": start, "ends_at": end, "live": True, "mediator_id": None,
             "participant_id": participant_id}])
    return time.perf_counter() - began

