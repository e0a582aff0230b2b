"""The availability benchmark's correctness check: a brute-force search over the busy rows."""
from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Any, Callable, Sequence

from bench.availability_data import DAY_END, DAY_START, DURATION, SLOT, Res, local


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
