"""The availability benchmark's data: the scenario's parameters and the fill plan (pure Python).

`Plan` builds every calendar in memory first (appointments, reservations with
buffers, imported busy blocks) so that bench/availability_db.py can write them
in bulk. `plan_phase1` fills the 12 weeks so that mediators 1 and 2 and the
rooms of location 1 have their first joint free 90-minute slot at least 6
weeks out, `adjust_to` makes the blocking rows exactly the target, and
`plan_phase2` adds the 10x rows on the other resources only. Everything draws
from the one seeded `random.Random`, in a fixed order: the same data each run.
"""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Sequence
from zoneinfo import ZoneInfo

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
