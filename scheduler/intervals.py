"""Interval arithmetic on an integer microsecond timeline.

The slot search (``scheduler.availability``) converts every aware datetime to
whole microseconds since the Unix epoch once, up front, and then only does
integer arithmetic. Integers make half-open boundaries exact (an appointment
ending at 10:00 and one starting at 10:00 do not collide, with no float
rounding to say otherwise) and are several times cheaper to compare than aware
datetimes, which matters when a search walks thousands of busy blocks.

Intervals here are half-open ``(start, end)`` pairs: ``start <= x < end``.
The last few helpers map office wall-clock times onto this timeline: a local
day is cut into "pieces" of constant UTC offset, inside which
``utc = wall - offset`` is plain arithmetic, correct across DST changes.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime, time, timedelta, timezone
from operator import itemgetter
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ONE_US = timedelta(microseconds=1)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

Span = tuple[int, int]


def td_us(delta: timedelta) -> int:
    """A timedelta as whole microseconds (exact, unlike ``total_seconds``)."""
    return delta // ONE_US


def dt_us(moment: datetime) -> int:
    """An aware datetime as microseconds since the epoch.

    Raises ValueError for a naive datetime: a naive value has no place on a
    shared timeline, and guessing its zone is how appointments drift an hour.
    """
    try:
        return (moment - EPOCH) // ONE_US
    except TypeError:
        raise ValueError(f"naive datetime not allowed: {moment!r}") from None


def us_dt(us: int) -> datetime:
    """Microseconds since the epoch back to a UTC-aware datetime."""
    return EPOCH + timedelta(microseconds=us)


def wall_us(day: date) -> int:
    """Local midnight of ``day`` read as if it were UTC, in microseconds.

    These "wall microseconds" let us write ``utc = wall - offset`` with plain
    integers once the UTC offset in force is known.
    """
    return (day.toordinal() - _EPOCH_ORDINAL) * US_PER_DAY


def clock_us(clock: time) -> int:
    """Microseconds from midnight to a wall-clock time (tzinfo ignored)."""
    return ((clock.hour * 60 + clock.minute) * 60 + clock.second) * US_PER_SECOND + clock.microsecond


def merge(spans: Iterable[Span]) -> tuple[list[int], list[int]]:
    """Sort and coalesce spans; return parallel ``starts`` and ``ends`` lists.

    Empty spans are dropped; overlapping *and touching* spans are joined, so
    in the result every ``ends[i]`` is strictly before ``starts[i + 1]``: the
    end of a merged span is itself a free point. Parallel lists (rather than
    pairs) let callers ``bisect`` on the starts directly.
    """
    starts: list[int] = []
    ends: list[int] = []
    for s, e in sorted(spans, key=itemgetter(0)):  # key sort: ~2x faster than tuples
        if e <= s:
            continue
        if ends and s <= ends[-1]:
            if e > ends[-1]:
                ends[-1] = e
        else:
            starts.append(s)
            ends.append(e)
    return starts, ends


def merged_pairs(spans: Iterable[Span]) -> list[Span]:
    """``merge`` returning a list of pairs, for small per-day lists."""
    starts, ends = merge(spans)
    return list(zip(starts, ends))


def intersect(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """Intersection of two sorted, disjoint span lists (two-pointer walk)."""
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        s = max(a[i][0], b[j][0])
        e = min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return out


def next_free(starts: Sequence[int], ends: Sequence[int], t: int) -> int:
    """Smallest point ``>= t`` outside every span of a ``merge`` result.

    One bisect is enough because merged spans never touch: if ``t`` falls
    inside span ``i``, its end is free.
    """
    i = bisect_right(starts, t) - 1
    if i >= 0 and t < ends[i]:
        return ends[i]
    return t


def ceil_to(x: int, origin: int, step: int) -> int:
    """Smallest ``origin + k * step`` (k integer) that is ``>= x``."""
    return origin + -((origin - x) // step) * step


# A stretch of UTC time over which the office clock has one UTC offset:
# (utc_start_us, utc_end_us, offset_us).
Piece = tuple[int, int, int]


def offset_us(tz: ZoneInfo, us: int) -> int:
    """The UTC offset ``tz`` has at instant ``us``, in microseconds."""
    offset = us_dt(us).astimezone(tz).utcoffset()
    return td_us(offset) if offset is not None else 0


def transition(tz: ZoneInfo, lo: int, hi: int) -> int:
    """First instant in (lo, hi] with hi's offset; offsets at lo and hi differ.

    Bisects on whole seconds (tz transitions fall on whole seconds); only
    runs on the few days a year with a daylight-saving change.
    """
    target = offset_us(tz, hi)
    lo_s, hi_s = lo // US_PER_SECOND, -(-hi // US_PER_SECOND)
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if offset_us(tz, mid * US_PER_SECOND) == target:
            hi_s = mid
        else:
            lo_s = mid
    return hi_s * US_PER_SECOND


def day_pieces(tz: ZoneInfo, day: date) -> list[Piece]:
    """Constant-offset stretches of UTC covering every instant of local ``day``.

    UTC offsets lie within ±24 h, so the instants whose wall clock shows
    ``day`` lie within [midnight − 24 h, midnight + 48 h) read as UTC. We
    sample the offset every 24 h there and bisect where it changes; this
    assumes at most one change per 24 h, true of every real zone's DST.
    """
    origin = wall_us(day) - US_PER_DAY
    marks = [origin + k * US_PER_DAY for k in range(4)]
    offsets = [offset_us(tz, m) for m in marks]
    pieces: list[Piece] = []
    start = marks[0]
    for k in range(3):
        if offsets[k] != offsets[k + 1]:
            cut = transition(tz, marks[k], marks[k + 1])
            pieces.append((start, cut, offsets[k]))
            start = cut
    pieces.append((start, marks[3], offsets[3]))
    return pieces


def working_spans(day_hours: Sequence[tuple[int, int]], midnight: int, pieces: Sequence[Piece]) -> list[Span]:
    """UTC spans in which the local clock shows the day starting at wall
    ``midnight`` and a time within one of ``day_hours`` (microseconds from
    midnight; ``pieces`` from ``day_pieces``).

    Within a piece wall = utc + offset is monotonic, so each (entry, piece)
    pair gives at most one span. Uniting them gives the DST behaviour the
    availability module documents: gap boundaries take effect at the jump,
    repeated autumn clock times count twice.
    """
    spans = []
    for begin, end in day_hours:
        for p_start, p_end, offset in pieces:
            s = max(p_start, midnight + begin - offset)
            e = min(p_end, midnight + end - offset)
            if s < e:
                spans.append((s, e))
    return merged_pairs(spans)
