"""Availability search benchmark (issue 2, "Performance"); prints timings, asserts only correctness.

    python bench/availability.py [--runs 20] [--warmups 3] [--profile] [--explain]

1. Creates a private PostgreSQL database `pendel_bench_<pid>` (admin URL from
   BENCH_DATABASE_URL, default the local server's `test` database, used only
   to CREATE/DROP), migrates it with `core.migrate.upgrade`, and fills it:
   40 mediators (Mon-Fri 09:00-17:00, 0-45 min buffers), 3 locations with 5
   rooms each, 320 cases, and exactly 20,000 rows of blocking busy time over
   12 weeks from next Monday -- live reservations of appointments (inserted
   in bulk with Core `insert()`; a mediator's span includes the buffer) and
   imported busy blocks (COPY), mostly 30-120 minute entries -- plus some
   cancelled appointments and expired holds that the search must skip.
   Mediators 1 and 2 and the rooms of location 1 are arranged so that their
   first joint free 90-minute slot lies at least 6 weeks out:

   * weeks 0-2: mediator 1 has no free 90 minutes on any working day;
   * weeks 2-4: neither has mediator 2;
   * weeks 0-5: wherever 1 and 2 are still jointly free for 90 minutes,
     every room of location 1 is booked (other mediators' appointments or
     the room's own calendar).

   The first 5 slots the search finds are checked against a brute-force
   oracle over the busy rows, and the first must be >= 6 weeks out.
2. Copies that database (`CREATE DATABASE ... TEMPLATE`) to
   `pendel_bench_<pid>_10x` and adds 10x as many blocking rows (200,000)
   there, on the other 38 mediators and 10 rooms only; VACUUM ANALYZE.
3. Times, after warm-ups and interleaved run by run so that load from
   other processes hits all alike: the whole search for the first 5 slots
   (`find_available_slots`, a fresh session each run, all its queries
   included) and the floor (one plain SQL query fetching the same busy
   rows) in both databases, plus the parts of the search (its busy-rows
   query, and the pure `find_slots` on calendars built beforehand).
4. Prints median and min of each, the ratio search/floor (target <= 2) and
   the change of the search with 10x more rows elsewhere (target: within
   20%). Both databases are dropped at the end, also on failure.

The fill plan is in availability_data.py, the database side (creating,
writing, the floor query) in availability_db.py, the brute-force check in
availability_oracle.py and the timing in timing.py; this file runs them.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time as clock
from collections import defaultdict
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bench.availability_data import (BUSY_ROWS, DURATION, GRID, LIMIT, MIN_NOTICE, MIN_WEEKS_OUT,  # noqa: E402
                                     SCALE, SEED, TZ, WEEKS, Plan, Res, adjust_to, local, plan_phase1,
                                     plan_phase2)
from bench.availability_db import (ADMIN_URL, FLOOR_SQL, analyze, create_directory, explain,  # noqa: E402
                                   open_database, write_plan)
from bench.availability_oracle import slots_oracle  # noqa: E402
from bench.timing import measure, ms, profile  # noqa: E402
from core.db import Database  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.workdays import WorkingDayCalendar  # noqa: E402
from scheduler.availability import Interval, MediatorCalendar, RoomCalendar, SlotQuery, find_slots  # noqa: E402
from scheduler.models import Mediator  # noqa: E402
from scheduler.search import busy_rows, find_available_slots, working_hours_of  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmups", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the search and print the top entries")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the floor query")
    args = parser.parse_args()

    started = clock.perf_counter()
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    names = [f"pendel_bench_{os.getpid()}", f"pendel_bench_{os.getpid()}_10x"]
    try:
        with ExitStack() as stack:
            return run(admin, names, stack, args, started)
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(admin: Engine, names: list[str], stack: ExitStack, args: argparse.Namespace, started: float) -> int:
    db = open_database(admin, names[0], stack)
    engine = db.engine
    upgrade(engine)
    rng = random.Random(SEED)
    today = datetime.now(TZ).date()
    monday = today + timedelta(days=7 - today.weekday())
    window_start = local(monday, 0)
    window_end = local(monday + timedelta(weeks=WEEKS), 0)
    now = window_start - timedelta(days=1)
    workdays = WorkingDayCalendar()
    days = [monday + timedelta(days=i) for i in range(7 * WEEKS)]
    working = {d for d in days if d.weekday() < 5 and workdays.is_working_day(d)}
    plan = Plan(rng, now)

    # People, places, cases.
    mediators, locations, rooms_by_location = create_directory(engine, plan)

    m1, m2 = mediators[0], mediators[1]
    loc1, loc1_rooms = locations[0], rooms_by_location[0]
    all_rooms = [r for rooms in rooms_by_location for r in rooms]
    resources: list[Res] = [("m", m) for m in mediators] + [("r", r) for r in all_rooms]
    protected = {(res, d) for res in [("m", m1), ("m", m2)] + [("r", r) for r in loc1_rooms]
                 for d in days if (d - monday).days < 7 * MIN_WEEKS_OUT}

    # Phase 1: 20,000 blocking rows.
    t0 = clock.perf_counter()
    plan_phase1(plan, mediators, rooms_by_location, days, working, monday)
    # Topping up adds imported entries on the other calendars, so mediators 1 and 2 and the rooms of
    # location 1 keep the calendars arranged above.
    adjust_to(plan, BUSY_ROWS, [res for res in resources if res not in {res for res, _ in protected}],
              days, protected)
    write_plan(engine, plan, plan.appointments, plan.blocks, "p1")
    plan.appointments, plan.blocks = [], []        # written; phase 2 needs only the calendars
    analyze(engine)
    fill1 = clock.perf_counter() - t0
    with engine.connect() as conn:
        counts = {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in
                  ("appointments", "reservations", "busy_blocks")}
        blocking_res = conn.scalar(text("SELECT count(*) FROM reservations WHERE live AND "
                                        "(expires_at IS NULL OR expires_at > :now)"), {"now": now})
    assert blocking_res + counts["busy_blocks"] == BUSY_ROWS, (blocking_res, counts)

    print(f"database {names[0]}: {len(mediators)} mediators, {len(all_rooms)} rooms at {len(locations)} locations, "
          f"{len(plan.cases) * 8} cases")
    print(f"window {monday} .. {monday + timedelta(weeks=WEEKS)} ({len(working)} working days), "
          f"filled in {fill1:.1f} s:")
    print(f"  {counts['appointments']} appointments, {counts['reservations']} reservations "
          f"({blocking_res} blocking, {counts['reservations'] - blocking_res} cancelled/expired holds), "
          f"{counts['busy_blocks']} imported busy blocks -> {BUSY_ROWS} blocking rows")

    search_args = dict(mediator_ids=[m1, m2], room_id=None, location_id=loc1, duration=DURATION,
                       start=window_start, end=window_end, now=now, workdays=workdays, tz=TZ, grid=GRID,
                       min_notice=MIN_NOTICE, limit=LIMIT)
    # The search asks for rows up to a day past the window end (slots near the end); the floor asks the same.
    floor_params = dict(mediators=[m1, m2], rooms=loc1_rooms, start=window_start,
                        end=window_end + timedelta(days=1), now=now)

    def searcher(db: Database) -> Callable[[], list[Any]]:
        def search() -> list[Any]:
            with db.session() as session:       # a fresh session per search, as per request in the app
                return find_available_slots(session, None, **search_args)  # type: ignore[arg-type]
        return search

    def floorer(db: Database) -> Callable[[], list[Any]]:
        def floor() -> list[Any]:
            with db.engine.connect() as conn:
                return conn.execute(FLOOR_SQL, floor_params).all()
        return floor

    search, floor = searcher(db), floorer(db)

    def query_only() -> list[Any]:
        with db.session() as session:
            return busy_rows(session, [m1, m2], loc1_rooms, window_start, window_end + timedelta(days=1), now)

    # The pure core alone, on calendars built from those rows as scheduler.search builds them.
    busy: dict[Res, list[Interval]] = defaultdict(list)
    for m_id, r_id, s, e in query_only():
        busy[("m", m_id) if m_id is not None else ("r", r_id)].append((s, e))
    with db.session() as session:
        loaded = session.scalars(select(Mediator).where(Mediator.id.in_([m1, m2])).order_by(Mediator.id)).all()
    calendars = [MediatorCalendar(m.id, working_hours_of(m), timedelta(minutes=m.buffer_minutes),
                                  (), tuple(busy[("m", m.id)])) for m in loaded]
    room_calendars = [RoomCalendar(r, (), tuple(busy[("r", r)])) for r in loc1_rooms]
    slot_query = SlotQuery(window_start=window_start, window_end=window_end, duration=DURATION,
                           earliest_start=now + MIN_NOTICE, grid=GRID, limit=LIMIT)

    def core_only() -> list[Any]:
        return find_slots(slot_query, calendars, room_calendars, workdays.is_working_day, TZ)

    # Correctness before speed.
    slots = search()
    rows = floor()
    assert len(query_only()) == len(rows), "floor query and busy_rows disagree on the rows"
    oracle = slots_oracle(rows, [m1, m2], plan.buffers, loc1_rooms, days, workdays.is_working_day,
                          now + MIN_NOTICE, window_end, LIMIT)
    assert len(oracle) == LIMIT, f"the fill leaves only {len(oracle)} slots in the window"
    assert oracle[0][0] >= local(monday + timedelta(weeks=MIN_WEEKS_OUT), 0), \
        f"the fill leaves a slot at {oracle[0][0].astimezone(TZ)}, before week {MIN_WEEKS_OUT}"
    assert [(s.start, s.room_id) for s in slots] == oracle, \
        f"search found {[(s.start, s.room_id) for s in slots]}, brute force {oracle}"
    assert core_only() == slots
    first = slots[0].start
    weeks_out = (first - window_start) / timedelta(weeks=1)
    print(f"first {LIMIT} slots (mediators {m1}+{m2}, any room at location {loc1}), "
          f"{len(rows)} busy rows read; first is {weeks_out:.1f} weeks out, as brute force agrees:")
    for slot in slots:
        print(f"  {slot.start.astimezone(TZ):%a %Y-%m-%d %H:%M}-{slot.end.astimezone(TZ):%H:%M} room {slot.room_id}")

    # Phase 2: 10x more rows on the other resources only -- in a copy of the database, so that the
    # search before and after can be timed interleaved: on a shared machine, load that comes and goes
    # would otherwise decide the comparison (a sequential before/after swings by +-30% here).
    t0 = clock.perf_counter()
    db.dispose()                                     # CREATE DATABASE ... TEMPLATE wants it unused
    big = open_database(admin, names[1], stack, template=names[0])
    others_m = mediators[2:]
    others_r = [r for rooms in rooms_by_location[1:] for r in rooms]
    plan_phase2(plan, others_m, others_r, days, working, SCALE * BUSY_ROWS)
    write_plan(big.engine, plan, plan.appointments, plan.blocks, "p2")
    del plan
    analyze(big.engine)
    fill2 = clock.perf_counter() - t0
    with big.engine.connect() as conn:
        total = conn.scalar(text("SELECT (SELECT count(*) FROM reservations) + (SELECT count(*) FROM busy_blocks)"))
    search_big, floor_big = searcher(big), floorer(big)
    assert search_big() == slots, "the extra rows changed the answer"
    assert len(floor_big()) == len(rows)
    print(f"copy {names[1]}: added {SCALE * BUSY_ROWS} blocking rows on {len(others_m)} other mediators and "
          f"{len(others_r)} other rooms in {fill2:.1f} s ({total} reservation + busy-block rows in all); "
          f"same slots found")

    if args.explain:
        for which in (db, big):
            explain(which.engine, floor_params)
    timings = measure({"search": search, "floor": floor, "query": query_only, "core": core_only,
                       "search_big": search_big, "floor_big": floor_big}, args.runs, args.warmups)
    if args.profile:
        profile(search, args.runs)

    s_med, s_min = timings["search"]
    f_med, f_min = timings["floor"]
    q_med, q_min = timings["query"]
    c_med, c_min = timings["core"]
    s2_med, s2_min = timings["search_big"]
    f2_med, f2_min = timings["floor_big"]
    print()
    print(f"{args.runs} runs after {args.warmups} warm-ups, all six timings interleaved; total run time "
          f"{clock.perf_counter() - started:.0f} s. Parts of the search, timed alongside:")
    print(f"  busy_rows() through a session (same rows as the floor): median {ms(q_med)} (min {ms(q_min)})")
    print(f"  find_slots() alone, on calendars built beforehand:      median {ms(c_med)} (min {ms(c_min)})")
    print(f"  floor with {SCALE}x more rows on other resources: median {ms(f2_med)} (min {ms(f2_min)}), "
          f"{(f2_med / f_med - 1) * 100:+.1f}%")
    print()
    print(f"availability search (first {LIMIT} slots): median {ms(s_med)} (min {ms(s_min)})")
    print(f"floor (one plain query of the busy rows): median {ms(f_med)} (min {ms(f_min)})")
    print(f"ratio: {s_med / f_med:.2f} (target <= 2; {s_min / f_min:.2f} on the minima)")
    print(f"after {SCALE}x more rows on other resources: median {ms(s2_med)} (min {ms(s2_min)}), "
          f"{(s2_med / s_med - 1) * 100:+.1f}% (target within 20%; {(s2_min / s_min - 1) * 100:+.1f}% on the minima)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
