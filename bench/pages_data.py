"""The page benchmark's office: 40 mediators in 4 regions, 15 rooms, 2,000 appointments, 20,000 busy blocks.

Everything is drawn from one seeded `random.Random` in a fixed order, relative
to the Monday of the week the benchmark runs in (so the week view and the slot
search always look at a full calendar), and written in bulk with Core inserts.
Appointments sit on a grid of 90-minute places per mediator and day, so no two
live reservations of a mediator, a room or a participant overlap (PostgreSQL's
exclusion constraints would refuse them).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from core.auth import hash_password
from core.models import User
from scheduler.models import (Appointment, Attendance, BusyBlock, Case, Location, Mediator, Participant, Region,
                              Reservation, Room, appointment_mediators, case_mediators, case_regions,
                              mediator_regions)

TZ = ZoneInfo("Europe/Amsterdam")
UTC = timezone.utc
SEED = 20261204
REGIONS = ("Noord", "Oost", "Zuid", "West")
MEDIATORS_PER_REGION = 10
LOCATIONS = 3
ROOMS_PER_LOCATION = 5
CASES = 800
APPOINTMENTS = 2_000
BUSY_BLOCKS = 20_000
WEEKS_BACK, WEEKS_AHEAD = 4, 8
PLACES = (time(9, 0), time(10, 45), time(12, 30), time(14, 15))  # 90 minutes each, 15 minutes between
LENGTH = timedelta(minutes=90)
PASSWORD = "bench pages password"
COORDINATOR = "coordinator@bench.example"
KINDS = ("crime", "traffic_accident", "sexual_abuse", "transgressive_behaviour", "other")
STATUSES = ("registered", "intake", "contact", "meeting", "closed")
MODES = ("in_person", "home_visit", "phone", "video")


def this_monday(today: date) -> date:
    return today - timedelta(days=today.weekday())


def at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, TZ).astimezone(UTC)


@dataclass
class Office:
    """What the benchmark needs to know about the office it wrote."""

    mediator_ids: list[int] = field(default_factory=list)
    region_ids: list[int] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)
    busiest_case_ids: list[int] = field(default_factory=list)
    room_ids: list[int] = field(default_factory=list)
    participants_of: dict[int, list[int]] = field(default_factory=dict)
    region_of_case: dict[int, int] = field(default_factory=dict)
    mediator_of_case: dict[int, int] = field(default_factory=dict)
    monday: date = date.min


def write_office(engine: Engine, today: date) -> Office:
    rng = random.Random(SEED)
    office = Office(monday=this_monday(today))
    password_hash = hash_password(PASSWORD)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        def ids(table: Any, rows: list[dict[str, Any]]) -> list[int]:
            return list(conn.execute(insert(table).returning(table.c.id), rows).scalars()) if rows else []

        office.region_ids = ids(Region.__table__, [{"name": name} for name in REGIONS])
        conn.execute(insert(User.__table__), [{"email": COORDINATOR, "name": "Coördinator", "role": "coordinator",
                                               "password_hash": password_hash, "language": "nl", "on_duty": False,
                                               "active": True, "created_at": now}])
        users = ids(User.__table__, [{"email": f"m{i}@bench.example", "name": f"Bemiddelaar {i}", "role": "mediator",
                                      "password_hash": password_hash, "language": "nl", "on_duty": False,
                                      "active": True, "created_at": now}
                                     for i in range(len(REGIONS) * MEDIATORS_PER_REGION)])
        hours = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
        office.mediator_ids = ids(Mediator.__table__, [
            {"name": f"Bemiddelaar {i}", "email": f"m{i}@bench.example", "working_hours": hours, "buffer_minutes": 0,
             "active": True, "user_id": user, "language": "nl"} for i, user in enumerate(users)])
        region_of = {m: office.region_ids[i // MEDIATORS_PER_REGION] for i, m in enumerate(office.mediator_ids)}
        conn.execute(insert(mediator_regions), [{"mediator_id": m, "region_id": r} for m, r in region_of.items()])
        locations = ids(Location.__table__, [{"name": f"Locatie {i}", "address": f"Straat {i}", "city": "Utrecht"}
                                             for i in range(LOCATIONS)])
        office.room_ids = ids(Room.__table__, [
            {"location_id": loc, "name": f"Kamer {loc}.{n}", "capacity": 6, "separate_waiting_area": n % 2 == 0,
             "accessible": True, "active": True} for loc in locations for n in range(ROOMS_PER_LOCATION)])

        cases, case_mediator_rows, case_region_rows, participants = [], [], [], []
        for i in range(CASES):
            region = rng.choice(office.region_ids)
            cases.append({"reference": f"HB-BENCH-{i:04d}", "kind": rng.choice(KINDS), "status": rng.choice(STATUSES),
                          "created_at": now - timedelta(days=rng.randint(0, 180))})
        office.case_ids = ids(Case.__table__, cases)
        case_people: dict[int, list[int]] = {}
        case_mediator: dict[int, int] = {}
        for case_id in office.case_ids:
            region = rng.choice(office.region_ids)
            pool = [m for m, r in region_of.items() if r == region]
            chosen = rng.sample(pool, rng.choice((1, 1, 2)))
            case_mediator[case_id] = chosen[0]
            office.region_of_case[case_id] = region
            case_region_rows.append({"case_id": case_id, "region_id": region})
            case_mediator_rows += [{"case_id": case_id, "mediator_id": m} for m in chosen]
            for role in ("victim", "offender"):
                participants.append({"case_id": case_id, "name": f"Deelnemer {case_id}-{role}", "role": role,
                                     "phone": f"+3161{case_id:07d}"[:12] if role == "victim" else None,
                                     "email": f"p{case_id}-{role}@bench.example", "language": "nl",
                                     "sms_allowed": role == "victim", "email_allowed": True,
                                     "full_text_opt_in": False})
        conn.execute(insert(case_regions), case_region_rows)
        conn.execute(insert(case_mediators), case_mediator_rows)
        people = ids(Participant.__table__, participants)
        for n, case_id in enumerate(office.case_ids):
            case_people[case_id] = people[2 * n: 2 * n + 2]
        office.participants_of, office.mediator_of_case = case_people, case_mediator

        _write_appointments(conn, rng, office, case_mediator, case_people, now)
        _write_busy_blocks(conn, rng, office)
    return office


def _write_appointments(conn: Any, rng: random.Random, office: Office, case_mediator: dict[int, int],
                        case_people: dict[int, list[int]], now: datetime) -> None:
    days = [office.monday + timedelta(days=d) for d in range(-7 * WEEKS_BACK, 7 * WEEKS_AHEAD) if (d % 7) < 5]
    taken: set[tuple[str, int, date, int]] = set()
    busy_cases = office.case_ids[:20]  # a few cases with many appointments: the case page's worst case
    office.busiest_case_ids = busy_cases[:5]
    appointments, plans = [], []
    while len(appointments) < APPOINTMENTS:
        case_id = rng.choice(busy_cases) if rng.random() < 0.1 else rng.choice(office.case_ids)
        mediator, day, place = case_mediator[case_id], rng.choice(days), rng.randrange(len(PLACES))
        mode = rng.choice(MODES)
        room = rng.choice(office.room_ids) if mode == "in_person" else None
        keys = [("m", mediator, day, place), ("c", case_id, day, place)] + ([("r", room, day, place)] if room else [])
        if any(k in taken for k in keys):
            continue
        taken.update(keys)
        start = at(day, PLACES[place])
        past = start < now
        appointments.append({"case_id": case_id, "kind": rng.choice(("intake", "intake", "preparation", "meeting")),
                             "mode": mode, "start": start, "end": start + LENGTH, "room_id": room,
                             "status": "completed" if past else "confirmed", "waiting_area_override": False,
                             "version": 1, "created_at": now, "updated_at": now})
        plans.append((mediator, room, case_people[case_id]))
    ids = list(conn.execute(insert(Appointment.__table__).returning(Appointment.__table__.c.id), appointments).scalars())
    links, attendances, reservations = [], [], []
    for appointment_id, row, (mediator, room, people) in zip(ids, appointments, plans):
        span = {"appointment_id": appointment_id, "starts_at": row["start"], "ends_at": row["end"],
                "live": row["status"] == "confirmed", "mediator_id": None, "room_id": None, "participant_id": None}
        links.append({"appointment_id": appointment_id, "mediator_id": mediator})
        reservations.append({**span, "mediator_id": mediator})
        if room:
            reservations.append({**span, "room_id": room})
        for person in people:
            attendances.append({"appointment_id": appointment_id, "participant_id": person, "arrival": row["start"]})
            reservations.append({**span, "participant_id": person})
    conn.execute(insert(appointment_mediators), links)
    conn.execute(insert(Attendance.__table__), attendances)
    conn.execute(insert(Reservation.__table__), reservations)


def _write_busy_blocks(conn: Any, rng: random.Random, office: Office) -> None:
    """Imported busy time over the next 12 weeks: mostly mediators', some rooms'; 30-60 minutes each."""
    days = [office.monday + timedelta(days=d) for d in range(0, 7 * 12)]
    rows = []
    for n in range(BUSY_BLOCKS):
        day = rng.choice(days)
        start = at(day, time(rng.randint(7, 18), rng.choice((0, 15, 30, 45))))
        end = start + timedelta(minutes=rng.choice((30, 45, 60)))
        owner = ({"mediator_id": rng.choice(office.mediator_ids), "room_id": None} if rng.random() < 0.85
                 else {"mediator_id": None, "room_id": rng.choice(office.room_ids)})
        rows.append({"source_id": 1, **owner, "starts_at": start, "ends_at": end, "uid": f"bench-{n}@example",
                     "recurrence_id": ""})
    conn.execute(insert(BusyBlock.__table__), rows)
