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
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import random
import statistics
import sys
import time as clock
from bisect import bisect_left
from collections import defaultdict
from contextlib import ExitStack
from datetime import date, datetime, time, timedelta, timezone
from itertools import accumulate
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402

from core.db import Database  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.workdays import WorkingDayCalendar  # noqa: E402
from scheduler.availability import Interval, MediatorCalendar, RoomCalendar, SlotQuery, find_slots  # noqa: E402
from scheduler.models import (Appointment, Case, Location, Mediator, Reservation, Room,  # noqa: E402
                              appointment_mediators, case_mediators)
from scheduler.search import busy_rows, find_available_slots, working_hours_of  # noqa: E402

ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TZ = ZoneInfo("Europe/Amsterdam")
UTC = timezone.utc
SEED = 20261128

N_MEDIATORS = 40
N_LOCATIONS = 3
ROOMS_PER_LOCATION = 5
WEEKS = 12
BUSY_ROWS = 20_000          # blocking rows (live reservations + imported busy blocks) in phase 1
SCALE = 10                  # phase 2 adds SCALE * BUSY_ROWS rows on the other resources
MIN_WEEKS_OUT = 6

DURATION = timedelta(minutes=90)
GRID = timedelta(minutes=15)
MIN_NOTICE = timedelta(hours=1)
LIMIT = 5

DAY_START, DAY_END = 9 * 60, 17 * 60          # working hours, minutes from local midnight
SLOT = 90                                      # the searched duration, in minutes
LENGTHS = (30, 45, 60, 60, 75, 90, 90, 120)    # appointment / block lengths, minutes
SMALL_GAPS = (0, 0, 15, 15, 30, 45)            # gaps left between blocks when a day is filled

Span = tuple[int, int]        # [start, end) in minutes from local midnight
Res = tuple[str, int]         # ("m", mediator_id) or ("r", room_id)


# --------------------------------------------------------------------------- helpers


def local(day: date, minute: int) -> datetime:
    """UTC instant of local wall time `minute` on `day` (we only use 05:00-24:00: no DST edge)."""
    if minute >= 24 * 60:
        return local(day + timedelta(days=1), minute - 24 * 60)
    return datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=TZ).astimezone(UTC)


def overlaps(spans: Iterable[Span], s: int, e: int) -> bool:
    return any(a < e and s < b for a, b in spans)


def free_gaps(spans: Iterable[Span], lo: int, hi: int) -> list[Span]:
    """Free stretches of [lo, hi) not covered by `spans`."""
    gaps, cursor = [], lo
    for a, b in sorted(spans):
        if b <= cursor:
            continue
        if a >= hi:
            break
        if a > cursor:
            gaps.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < hi:
        gaps.append((cursor, hi))
    return gaps


def intersect(xs: Sequence[Span], ys: Sequence[Span]) -> list[Span]:
    out = []
    for a, b in xs:
        for c, d in ys:
            s, e = max(a, c), min(b, d)
            if s < e:
                out.append((s, e))
    return sorted(out)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def stats(samples: Sequence[float]) -> tuple[float, float]:
    return statistics.median(samples), min(samples)


# --------------------------------------------------------------------------- the plan (pure Python)


class Plan:
    """Calendars built in memory first, then written in bulk.

    Per (resource, local day) it keeps the spans of live reservations (the
    exclusion constraint forbids overlaps among them, expired holds included)
    and the spans that block the search (live reservations that are not
    expired holds, plus imported busy blocks).
    """

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.excl: dict[tuple[Res, date], list[Span]] = defaultdict(list)
        self.busy: dict[tuple[Res, date], list[Span]] = defaultdict(list)
        self.appointments: list[dict[str, Any]] = []
        self.blocks: list[tuple[Res, date, int, int, bool]] = []   # (res, day, start, end, optional)
        self.buffers: dict[int, int] = {}
        self.cases: dict[int, list[int]] = {}
        self.home_rooms: dict[int, list[int]] = {}

    def is_free(self, res: Res, day: date, s: int, e: int) -> bool:
        return not overlaps(self.busy[res, day], s, e) and not overlaps(self.excl[res, day], s, e)

    def book(self, day: date, mediators: Sequence[int], room: int | None, s: int, e: int,
             mode: str, status: str = "confirmed", hold: str | None = None) -> bool:
        """Add an appointment if all its resources are free; `hold` is None, "active" or "expired"."""
        cancelled = status == "cancelled"
        spans: list[tuple[Res, int, int]] = [(("m", m), s, e + self.buffers[m]) for m in mediators]
        if room is not None:
            spans.append((("r", room), s, e))
        if not cancelled and not all(self.is_free(res, day, a, b) for res, a, b in spans):
            return False
        for res, a, b in spans:
            if not cancelled:
                self.excl[res, day].append((a, b))
                if hold != "expired":
                    self.busy[res, day].append((a, b))
        self.appointments.append(dict(day=day, start=s, end=e, mediators=list(mediators), room=room,
                                      mode=mode, status=status, hold=hold,
                                      case_id=self.rng.choice(self.cases[mediators[0]])))
        return True

    def block(self, res: Res, day: date, s: int, e: int, optional: bool = True) -> None:
        self.busy[res, day].append((s, e))
        self.blocks.append((res, day, s, e, optional))

    def random_appointment(self, day: date, mediator: int, lo: int, hi: int, rooms: Sequence[int],
                           partners: Sequence[int]) -> bool:
        rng = self.rng
        length = rng.choice(LENGTHS)
        s = lo + 15 * rng.randrange(max(1, (hi - lo - length) // 15 + 1))
        e = s + length
        if e > hi:
            return False
        mediators = [mediator]
        if partners and rng.random() < 0.25:
            partner = rng.choice(partners)
            if partner != mediator:
                mediators.append(partner)
        mode = rng.choices(("in_person", "phone", "video", "home_visit"), (45, 25, 20, 10))[0]
        r = rng.random()
        status, hold = ("held", "active") if r < 0.02 else ("held", "expired") if r < 0.03 else ("confirmed", None)
        if mode != "in_person":
            return self.book(day, mediators, None, s, e, mode, status, hold)
        for room in rng.sample(list(rooms), len(rooms)):
            if self.book(day, mediators, room, s, e, mode, status, hold):
                return True
        return False

    def fill(self, res: Res, day: date, lo: int, hi: int, mediators_for_room: Sequence[int] = (),
             optional: bool = False) -> None:
        """Book [lo, hi) of `res` so that no free stretch of SLOT minutes is left.

        Free gaps of at least SLOT minutes get 30-120 minute appointments or
        imported blocks with small gaps (< SLOT) between them.
        """
        rng = self.rng
        # Gaps as the search sees them: an expired hold still occupies its slot for the exclusion
        # constraint (so no appointment goes there) but not for the search (so a block does).
        for a, b in free_gaps(self.busy[res, day], lo, hi):
            free_from = a
            while b - free_from >= SLOT:
                cursor = free_from + rng.choice(SMALL_GAPS)      # leaves a gap shorter than SLOT
                length = min(rng.choice(LENGTHS[1:]), b - cursor)
                end = cursor + length
                booked = False
                if res[0] == "m" and rng.random() < 0.5:
                    buffer = self.buffers[res[1]]
                    if end - buffer - cursor >= 30:
                        booked = self.book(day, [res[1]], None, cursor, end - buffer,
                                           rng.choice(("phone", "video")))
                elif res[0] == "r" and mediators_for_room:
                    for m in rng.sample(list(mediators_for_room), min(4, len(mediators_for_room))):
                        if self.book(day, [m], res[1], cursor, end, "in_person"):
                            booked = True
                            break
                if not booked:
                    self.block(res, day, cursor, end, optional=optional)
                free_from = end

    def blocking_rows(self) -> int:
        n = len(self.blocks)
        for a in self.appointments:
            if a["status"] != "cancelled" and a["hold"] != "expired":
                n += len(a["mediators"]) + (a["room"] is not None)
        return n


def plan_phase1(plan: Plan, mediators: list[int], rooms_by_location: list[list[int]], days: list[date],
                working: set[date], monday: date) -> None:
    rng = plan.rng
    m1, m2 = mediators[0], mediators[1]
    loc1_rooms = rooms_by_location[0]
    week = {d: (d - monday).days // 7 for d in days}
    # Mediator 1 and 2 are ordinarily a little less loaded, so that once their busy weeks are
    # over a joint slot turns up; the others range from part-loaded to packed.
    load = {m: (2, 4) if m in (m1, m2) else rng.choice([(3, 5), (3, 6), (4, 6), (4, 7)]) for m in mediators}
    light = {m1, m2}       # from week 6 on: 1-2 appointments a day, fewer meetings

    for day in days:
        if day not in working:
            for m in mediators:        # weekend / holiday entries from private calendars
                for _ in range(rng.choice((0, 0, 1, 2))):
                    s = 60 * rng.randrange(9, 20)
                    plan.block(("m", m), day, s, s + rng.choice(LENGTHS))
            continue
        for m in rng.sample(mediators, len(mediators)):
            easy = m in light and week[day] >= MIN_WEEKS_OUT
            want = rng.randint(*((1, 2) if easy else load[m]))
            partners = [p for p in mediators if p != m]
            got = tries = 0
            while got < want and tries < 25:
                tries += 1
                got += plan.random_appointment(day, m, DAY_START, DAY_END, plan.home_rooms[m], partners)
            if rng.random() < 0.03:    # a cancelled appointment (not blocking)
                s = DAY_START + 15 * rng.randrange(20)
                plan.book(day, [m], None, s, s + 60, "phone", status="cancelled")
            # imported busy time: meetings, training, supervision in working hours ...
            for _ in range(rng.choice((0, 0, 1) if easy else (0, 1, 1, 2, 2, 3))):
                length = rng.choice(LENGTHS)
                s = DAY_START + 15 * rng.randrange((DAY_END - DAY_START - length) // 15 + 1)
                if rng.random() < 0.8 and overlaps(plan.busy[("m", m), day], s, s + length):
                    continue           # mostly in free time; sometimes double-booked in the private calendar
                plan.block(("m", m), day, s, s + length)
            # ... and outside working hours (early calls, evening meetings)
            for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
                s = rng.choice((7 * 60, 7 * 60 + 30, 8 * 60, 17 * 60 + 30, 18 * 60, 19 * 60, 19 * 60 + 30, 20 * 60))
                plan.block(("m", m), day, s, s + rng.choice((30, 45, 60, 90)))
        for room in (r for rooms in rooms_by_location for r in rooms):   # the rooms' own calendars
            for _ in range(rng.choice((0, 1, 2, 2, 3))):
                length = rng.choice(LENGTHS)
                s = 8 * 60 + 15 * rng.randrange((DAY_END + 240 - 8 * 60 - length) // 15 + 1)
                if not overlaps(plan.busy[("r", room), day], s, s + length):
                    plan.block(("r", room), day, s, s + length)

    # The arrangement that pushes the first joint slot past week 5.
    helpers = [m for m in mediators[2:] if plan.home_rooms[m] == loc1_rooms]
    for day in days:
        if day not in working:
            continue
        if week[day] <= 2:
            plan.fill(("m", m1), day, DAY_START, DAY_END)
        if 2 <= week[day] <= 4:
            plan.fill(("m", m2), day, DAY_START, DAY_END)
        if week[day] < MIN_WEEKS_OUT:
            joint = intersect(free_gaps(plan.busy[("m", m1), day], DAY_START, DAY_END),
                              free_gaps(plan.busy[("m", m2), day], DAY_START, DAY_END))
            for lo, hi in joint:
                if hi - lo >= SLOT:
                    for room in loc1_rooms:
                        plan.fill(("r", room), day, lo, hi, mediators_for_room=helpers)


def adjust_to(plan: Plan, target: int, resources: list[Res], days: list[date], protected: set[tuple[Res, date]]
              ) -> None:
    """Trim optional imported blocks (never on protected calendars) or add some, to hit `target` exactly."""
    rng = plan.rng
    excess = plan.blocking_rows() - target
    if excess > 0:
        removable = [i for i, (res, day, *_rest, optional) in enumerate(plan.blocks)
                     if optional and (res, day) not in protected]
        if len(removable) < excess:
            raise SystemExit(f"fill overshoots the target by {excess} rows; lower the density")
        drop = set(rng.sample(removable, excess))
        kept = []
        for i, blk in enumerate(plan.blocks):
            if i in drop:
                res, day, s, e, _ = blk
                plan.busy[res, day].remove((s, e))
            else:
                kept.append(blk)
        plan.blocks = kept
    for _ in range(-excess):      # extra imported entries anywhere (only ever adds busy time)
        res, day = rng.choice(resources), rng.choice(days)
        s = 15 * rng.randrange(7 * 4, 21 * 4)
        plan.block(res, day, s, s + rng.choice(LENGTHS))
    assert plan.blocking_rows() == target


def plan_phase2(plan: Plan, mediators: list[int], rooms: list[int], days: list[date], working: set[date],
                target: int) -> int:
    """Appointments and imported blocks on `mediators`/`rooms` only; returns the blocking rows added."""
    rng = plan.rng
    before_rows, before_appts = plan.blocking_rows(), len(plan.appointments)
    for day in days:
        if day not in working:
            continue
        for m in mediators:
            for _ in range(10):
                plan.random_appointment(day, m, 7 * 60, 22 * 60, rooms, mediators)
    added = plan.blocking_rows() - before_rows
    resources = [("m", m) for m in mediators] + [("r", r) for r in rooms]
    for _ in range(target - added):          # imported calendars: early to late, overlaps allowed
        res, day = rng.choice(resources), rng.choice(days)
        s = 15 * rng.randrange(5 * 4, 22 * 4)   # from 05:00: no wall times that DST skips or repeats
        plan.block(res, day, s, s + rng.choice(LENGTHS))
    assert plan.blocking_rows() - before_rows == target
    return len(plan.appointments) - before_appts


# --------------------------------------------------------------------------- writing


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


# --------------------------------------------------------------------------- checks


def slots_oracle(rows: Sequence[tuple[Any, ...]], m_ids: Sequence[int], buffers: dict[int, int],
                 room_ids: Sequence[int], days: Sequence[date], working: Callable[[date], bool],
                 earliest: datetime, window_end: datetime, limit: int) -> list[tuple[datetime, int]]:
    """Brute force over the 15-minute grid: the first `limit` (start, room) where both mediators
    (with buffer) and a room are free, the first free room in id order. All mediators here work
    Mon-Fri 09:00-17:00."""
    per: dict[Res, list[tuple[datetime, datetime]]] = defaultdict(list)
    for m, r, s, e in rows:
        per[("m", m) if m is not None else ("r", r)].append((s, e))
    index = {}
    for res, spans in per.items():
        spans.sort()
        index[res] = ([s for s, _ in spans], list(accumulate((e for _, e in spans), max)))

    def free(res: Res, a: datetime, b: datetime) -> bool:
        if res not in index:
            return True
        starts, max_ends = index[res]
        i = bisect_left(starts, b)          # spans starting before b ...
        return i == 0 or max_ends[i - 1] <= a   # ... none of which ends after a

    found: list[tuple[datetime, int]] = []
    for day in days:
        if day.weekday() >= 5 or not working(day):
            continue
        for minute in range(DAY_START, DAY_END - SLOT + 1, 15):
            s = local(day, minute)
            e = s + DURATION
            if s < earliest or e > window_end:
                continue
            if all(free(("m", m), s, e + timedelta(minutes=buffers[m])) for m in m_ids):
                room = next((r for r in room_ids if free(("r", r), s, e)), None)
                if room is not None:
                    found.append((s, room))
                    if len(found) == limit:
                        return found
    return found


# --------------------------------------------------------------------------- timing


def measure(fns: dict[str, Callable[[], object]], runs: int, warmups: int) -> dict[str, tuple[float, float]]:
    """Median and min per function; runs are interleaved so drift hits all alike."""
    for _ in range(warmups):
        for fn in fns.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    # The bench's own heap (the fill plan) must not make the garbage collector's full passes
    # slower than they would be in the app: collect, then exempt what is alive now.
    gc.collect()
    gc.freeze()
    for _ in range(runs):
        for name, fn in fns.items():
            t0 = clock.perf_counter()
            fn()
            samples[name].append(clock.perf_counter() - t0)
    return {name: stats(values) for name, values in samples.items()}


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


# --------------------------------------------------------------------------- main


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


def open_database(admin: Engine, name: str, stack: ExitStack, template: str | None = None) -> Database:
    """CREATE DATABASE (a copy of `template` if given) and the app's own Database object on it."""
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    db = Database(make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False))
    stack.callback(db.dispose)
    return db


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


def explain(engine: Engine, params: dict[str, Any]) -> None:
    query = text("EXPLAIN (ANALYZE, BUFFERS) " + FLOOR_SQL.text).bindparams(
        bindparam("mediators", expanding=True), bindparam("rooms", expanding=True))
    with engine.connect() as conn:
        print("\n".join(conn.execute(query, params).scalars()))


def profile(fn: Callable[[], object], runs: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        fn()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print(out.getvalue())


if __name__ == "__main__":
    sys.exit(main())
