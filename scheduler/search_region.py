"""Free slots with any free mediator of a region: the first times across all of them, best first.

A coordinator planning an intake for a case of region R may leave the
mediator open. The offer is one slot per start time, in time order; at each
start time the mediator offered is the one with the least busy time in that
week (the office's Monday-to-Sunday week of the slot: their bookings, holds
and imported busy time), then the lowest id. So the earliest times come
first, and among mediators free at the same time the work spreads to whoever
has the lightest week.

Two queries, whatever the region's size: its active mediators, then the busy
rows of all of them (and of the rooms, for an appointment at a location) in
one statement (scheduler.search.busy_rows), read over whole weeks so each
week's load is complete. Each mediator's slots come from the pure
core (scheduler.availability.find_slots); `rank_region_slots` picks the best.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Mapping, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core.models import User
from core.problems import Forbidden, InvalidInput
from scheduler.availability import Slot, SlotQuery, find_slots
from scheduler.intervals import dt_us, us_dt
from scheduler.models import Mediator, Region, mediator_regions
from scheduler.search import _calendars, _rooms, busy_rows


@dataclass(frozen=True)
class RegionSlot:
    start: datetime
    end: datetime
    mediator_id: int
    room_id: int | None


_REGION_MEDIATORS = (select(Mediator).join(mediator_regions, mediator_regions.c.mediator_id == Mediator.id)
                     .where(mediator_regions.c.region_id == bindparam("region_id"), Mediator.active)
                     .order_by(Mediator.id))


def week_of(moment: datetime, tz: ZoneInfo) -> date:
    """The Monday of the office's week in which `moment` falls."""
    day = moment.astimezone(tz).date()
    return day - timedelta(days=day.weekday())


def weekly_load(rows: Sequence[tuple[int | None, int | None, int, int]], tz: ZoneInfo) -> dict[tuple[int, date], int]:
    """Busy microseconds per (mediator, week), each busy row counted in the week it starts.

    The weeks' Monday midnights are computed once and each row finds its week by bisection: a region's
    search reads thousands of rows, and turning each into a local datetime was most of its cost."""
    starts = [start for mediator_id, _room_id, start, _end in rows if mediator_id is not None]
    if not starts:
        return {}
    first, last = week_of(us_dt(min(starts)), tz), week_of(us_dt(max(starts)), tz)
    mondays = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    bounds = [dt_us(datetime.combine(monday, time(0), tz)) for monday in mondays]
    load: dict[tuple[int, date], int] = defaultdict(int)
    for mediator_id, _room_id, start, end in rows:
        if mediator_id is not None:
            load[(mediator_id, mondays[bisect_right(bounds, start) - 1])] += end - start
    return load


def rank_region_slots(per_mediator: Mapping[int, Sequence[Slot]], load: Mapping[tuple[int, date], int],
                      tz: ZoneInfo, limit: int) -> list[RegionSlot]:
    """One slot per start time, in time order, with the best mediator for it: the least busy that week,
    then the lowest id. Pure: the rule the module's docstring states."""
    best: dict[datetime, tuple[tuple[int, int], RegionSlot]] = {}
    for mediator_id, slots in per_mediator.items():
        for slot in slots:
            key = (load.get((mediator_id, week_of(slot.start, tz)), 0), mediator_id)
            current = best.get(slot.start)
            if current is None or key < current[0]:
                best[slot.start] = (key, RegionSlot(slot.start, slot.end, mediator_id, slot.room_id))
    return [best[start][1] for start in sorted(best)[:limit]]


def find_region_slots(session: Session, actor: User | None, *, region_id: int, room_id: int | None,
                      location_id: int | None, duration: timedelta, start: datetime, end: datetime,
                      now: datetime, workdays: object, tz: ZoneInfo, grid: timedelta, min_notice: timedelta,
                      limit: int = 50) -> list[RegionSlot]:
    """The first `limit` start times at which some active mediator of the region is free (with a room:
    as scheduler.search.find_available_slots), each with the best mediator for it."""
    if actor is not None and not actor.sees_all_cases:
        raise Forbidden("only a coordinator searches the mediators of a whole region")
    if end <= start:
        raise InvalidInput("to", "must be after from")
    if session.get(Region, region_id) is None:
        raise InvalidInput("region_id", f"no region with id {region_id}")
    mediators = list(session.scalars(_REGION_MEDIATORS, {"region_id": region_id}))
    if not mediators:
        return []
    rooms = _rooms(session, room_id, location_id)
    reach = timedelta(minutes=max(m.buffer_minutes for m in mediators))
    weeks_start = datetime.combine(week_of(start, tz), time(0), tz)
    weeks_end = datetime.combine(week_of(end, tz) + timedelta(days=7), time(0), tz)
    rows = busy_rows(session, [m.id for m in mediators], [r.id for r in rooms or ()], weeks_start,
                     max(weeks_end, end + reach), now)
    calendars, room_calendars = _calendars(rows, mediators, rooms)
    query = SlotQuery(window_start=start, window_end=end, duration=duration, earliest_start=now + min_notice,
                      grid=grid, limit=limit)
    is_working_day = workdays.is_working_day  # type: ignore[attr-defined]
    # A mediator's first `limit` slots hold every start time among the first `limit` overall that they
    # could take, so nothing better is cut off by the limit.
    per_mediator = {c.mediator_id: find_slots(query, [c], room_calendars, is_working_day, tz) for c in calendars}
    return rank_region_slots(per_mediator, weekly_load(rows, tz), tz, limit)
