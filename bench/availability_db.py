"""The availability benchmark's database side: private databases, bulk writes, the floor query.

`open_database` creates a database of the benchmark's own (through the admin
URL, used only to CREATE/DROP), `create_directory` inserts the people, places
and cases, `write_plan` writes a `Plan` in bulk (Core `insert()` and COPY), and
`FLOOR_SQL` is the floor the search is measured against: one plain query
fetching the same busy rows.
"""
from __future__ import annotations

import os
from contextlib import ExitStack
from datetime import date, timedelta
from typing import Any, Sequence

from sqlalchemy import bindparam, insert, text
from sqlalchemy.engine import Engine, make_url

from bench.availability_data import N_LOCATIONS, N_MEDIATORS, ROOMS_PER_LOCATION, Plan, Res, local
from core.db import Database
from scheduler.models import (Appointment, Case, Location, Mediator, Reservation, Room, appointment_mediators,
                              case_mediators)

ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def open_database(admin: Engine, name: str, stack: ExitStack, template: str | None = None) -> Database:
    """CREATE DATABASE (a copy of `template` if given) and the app's own Database object on it."""
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    db = Database(make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False))
    stack.callback(db.dispose)
    return db


def create_directory(engine: Engine, plan: Plan) -> tuple[list[int], list[int], list[list[int]]]:
    """Mediators, locations with their rooms, and cases; their buffers, home rooms and cases go into `plan`.

    Returns the ids of the mediators, of the locations and, per location, of its rooms.
    """
    rng = plan.rng
    hours = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
    buffers = [30, 15] + [rng.choice((0, 15, 15, 30, 30, 45)) for _ in range(N_MEDIATORS - 2)]
    with engine.begin() as conn:
        mediators = list(conn.execute(
            insert(Mediator.__table__).returning(Mediator.__table__.c.id, sort_by_parameter_order=True),
            [dict(name=f"Bench Mediator {i + 1:02d}", email=f"mediator{i + 1}@example.org", phone=None,
                  working_hours=hours, buffer_minutes=buffers[i], active=True) for i in range(N_MEDIATORS)]
        ).scalars())
        locations = list(conn.execute(
            insert(Location.__table__).returning(Location.__table__.c.id, sort_by_parameter_order=True),
            [dict(name=f"Locatie {i + 1}", address=f"Benchstraat {i + 1}", city=city)
             for i, city in enumerate(("Utrecht", "Amsterdam", "Rotterdam")[:N_LOCATIONS])]).scalars())
        rooms_by_location = []
        for loc in locations:
            rooms_by_location.append(list(conn.execute(
                insert(Room.__table__).returning(Room.__table__.c.id, sort_by_parameter_order=True),
                [dict(location_id=loc, name=f"Kamer {loc}.{j + 1}", capacity=4 + j % 3,
                      separate_waiting_area=j % 2 == 0, accessible=True, active=True)
                 for j in range(ROOMS_PER_LOCATION)]).scalars()))
        case_rows, pairs = [], []
        for i, m in enumerate(mediators):
            plan.buffers[m] = buffers[i]
            # Mediators 1..14 work from location 1, 15..27 from location 2, the rest from location 3.
            plan.home_rooms[m] = rooms_by_location[min(i * N_LOCATIONS // N_MEDIATORS, N_LOCATIONS - 1)]
            for k in range(8):
                case_rows.append(dict(reference=f"BENCH-{m:03d}-{k}", kind=rng.choice(
                    ("crime", "traffic_accident", "transgressive_behaviour", "other")), status="intake"))
                pairs.append(m)
        case_ids = list(conn.execute(
            insert(Case.__table__).returning(Case.__table__.c.id, sort_by_parameter_order=True),
            case_rows).scalars())
        conn.execute(insert(case_mediators), [dict(case_id=c, mediator_id=m) for c, m in zip(case_ids, pairs)])
        for c, m in zip(case_ids, pairs):
            plan.cases.setdefault(m, []).append(c)
    return mediators, locations, rooms_by_location


def write_plan(engine: Engine, plan: Plan, appointments: Sequence[dict[str, Any]],
               blocks: Sequence[tuple[Res, date, int, int, bool]], tag: str) -> None:
    """Appointments + reservations + appointment_mediators via Core insert; busy blocks via COPY."""
    now = plan.now
    appt_rows, res_rows, am_rows = [], [], []
    for a in appointments:
        start, end = local(a["day"], a["start"]), local(a["day"], a["end"])
        expires = {None: None, "active": now + timedelta(minutes=20), "expired": now - timedelta(hours=1)}[a["hold"]]
        appt_rows.append(dict(case_id=a["case_id"], kind=plan.rng.choice(("intake", "preparation", "meeting")),
                              mode=a["mode"], start=start, end=end, status=a["status"], room_id=a["room"],
                              hold_expires_at=expires, waiting_area_override=False, version=1))
    table = Appointment.__table__
    with engine.begin() as conn:
        ids = list(conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                appt_rows).scalars()) if appt_rows else []
        for appt_id, a, row in zip(ids, appointments, appt_rows):
            live = a["status"] != "cancelled"
            for m in a["mediators"]:
                am_rows.append(dict(appointment_id=appt_id, mediator_id=m))
                res_rows.append(dict(appointment_id=appt_id, mediator_id=m, room_id=None, starts_at=row["start"],
                                     ends_at=row["end"] + timedelta(minutes=plan.buffers[m]), live=live,
                                     expires_at=row["hold_expires_at"]))
            if a["room"] is not None:
                res_rows.append(dict(appointment_id=appt_id, mediator_id=None, room_id=a["room"],
                                     starts_at=row["start"], ends_at=row["end"], live=live,
                                     expires_at=row["hold_expires_at"]))
        if res_rows:
            conn.execute(insert(Reservation.__table__), res_rows)
            conn.execute(insert(appointment_mediators), am_rows)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            with cur.copy("COPY busy_blocks (source_id, mediator_id, room_id, starts_at, ends_at, uid) "
                          "FROM STDIN") as copy:
                for n, (res, day, s, e, _) in enumerate(blocks):
                    kind, rid = res
                    copy.write_row((1000 + rid if kind == "m" else 2000 + rid,
                                    rid if kind == "m" else None, rid if kind == "r" else None,
                                    local(day, s), local(day, e), f"bench-{tag}-{n}@example.org"))
        raw.commit()
    finally:
        raw.close()


def analyze(engine: Engine) -> None:
    """VACUUM ANALYZE: fresh statistics, and no autovacuum or hint-bit writes during the timing."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


FLOOR_SQL = text("""
SELECT mediator_id, room_id, starts_at, ends_at FROM reservations
 WHERE (mediator_id IN :mediators OR room_id IN :rooms)
   AND live AND starts_at < :end AND ends_at > :start
   AND (expires_at IS NULL OR expires_at > :now)
UNION ALL
SELECT mediator_id, room_id, starts_at, ends_at FROM busy_blocks
 WHERE (mediator_id IN :mediators OR room_id IN :rooms)
   AND starts_at < :end AND ends_at > :start
""").bindparams(bindparam("mediators", expanding=True), bindparam("rooms", expanding=True))


def explain(engine: Engine, params: dict[str, Any]) -> None:
    query = text("EXPLAIN (ANALYZE, BUFFERS) " + FLOOR_SQL.text).bindparams(
        bindparam("mediators", expanding=True), bindparam("rooms", expanding=True))
    with engine.connect() as conn:
        print("\n".join(conn.execute(query, params).scalars()))
