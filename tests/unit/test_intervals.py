"""Unit and property tests for scheduler.intervals (integer timeline helpers)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.intervals import (
    US_PER_DAY,
    ceil_to,
    clock_us,
    day_pieces,
    dt_us,
    intersect,
    merge,
    merged_pairs,
    next_free,
    td_us,
    us_dt,
    wall_us,
    working_spans,
)

TZ = ZoneInfo("Europe/Amsterdam")
HOUR = 3_600_000_000

spans = st.lists(
    st.tuples(st.integers(0, 60), st.integers(0, 20)).map(lambda x: (x[0], x[0] + x[1])), max_size=12
)


def points(pairs) -> set[int]:
    return {x for s, e in pairs for x in range(s, e)}


def test_conversions_are_exact():
    moment = datetime(2026, 3, 29, 1, 2, 3, 456789, tzinfo=timezone.utc)
    assert us_dt(dt_us(moment)) == moment
    assert dt_us(datetime(2026, 3, 29, 3, tzinfo=TZ)) == dt_us(datetime(2026, 3, 29, 1, tzinfo=timezone.utc))
    assert td_us(timedelta(days=1, microseconds=5)) == US_PER_DAY + 5
    assert clock_us(time(1, 2, 3, 4)) == 3_723_000_004
    assert wall_us(date(1970, 1, 2)) == US_PER_DAY
    with pytest.raises(ValueError):
        dt_us(datetime(2026, 1, 1))


def test_merge_joins_touching_and_drops_empty():
    assert merge([(5, 7), (1, 3), (3, 4), (9, 9), (6, 8)]) == ([1, 5], [4, 8])


@settings(deadline=None, max_examples=200)
@given(spans)
def test_merge_keeps_the_point_set_and_separates_spans(pairs):
    starts, ends = merge(pairs)
    merged = list(zip(starts, ends))
    assert points(merged) == points(pairs)
    assert all(s < e for s, e in merged)
    assert all(ends[i] < starts[i + 1] for i in range(len(starts) - 1))


@settings(deadline=None, max_examples=200)
@given(spans, spans)
def test_intersect_is_set_intersection(a, b):
    got = intersect(merged_pairs(a), merged_pairs(b))
    assert points(got) == points(a) & points(b)
    assert got == merged_pairs(got)  # sorted and disjoint


@settings(deadline=None, max_examples=200)
@given(spans, st.integers(-5, 90))
def test_next_free_is_the_first_free_point(pairs, t):
    starts, ends = merge(pairs)
    taken = points(pairs)
    expected = t
    while expected in taken:
        expected += 1
    assert next_free(starts, ends, t) == expected


@given(st.integers(-1000, 1000), st.integers(-50, 50), st.integers(1, 40))
def test_ceil_to(x, origin, step):
    y = ceil_to(x, origin, step)
    assert y >= x and y - x < step and (y - origin) % step == 0


def test_day_pieces_on_ordinary_and_dst_days():
    (only,) = day_pieces(TZ, date(2026, 6, 9))
    assert only[2] == 2 * HOUR
    before, after = day_pieces(TZ, date(2026, 3, 29))
    assert before[1] == after[0] == dt_us(datetime(2026, 3, 29, 1, tzinfo=timezone.utc))
    assert (before[2], after[2]) == (HOUR, 2 * HOUR)
    before, after = day_pieces(TZ, date(2026, 10, 25))
    assert before[1] == dt_us(datetime(2026, 10, 25, 1, tzinfo=timezone.utc))
    assert (before[2], after[2]) == (2 * HOUR, HOUR)


@settings(deadline=None, max_examples=100)
@given(st.dates(date(2025, 1, 1), date(2027, 12, 31)), st.integers(0, 95), st.integers(1, 96))
def test_working_spans_match_the_wall_clock(day, start_q, length_q):
    """Every quarter hour inside a span shows ``day`` and a time inside the entry, and vice versa."""
    begin, end = start_q * 15, min(start_q + length_q, 96) * 15
    got = working_spans([(begin * 60_000_000, end * 60_000_000)], wall_us(day), day_pieces(TZ, day))
    t = datetime.combine(day - timedelta(days=1), time(0), tzinfo=timezone.utc)
    while t < datetime.combine(day + timedelta(days=2), time(0), tzinfo=timezone.utc):
        loc = t.astimezone(TZ)
        inside = loc.date() == day and begin <= loc.hour * 60 + loc.minute < end
        assert any(s <= dt_us(t) < e for s, e in got) == inside, t
        t += timedelta(minutes=15)
