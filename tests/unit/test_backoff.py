"""Backoff: exponential ceiling, full jitter, capped, deterministic with a seeded rng."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from notifications.backoff import BASE, CAP, FLOOR, MAX_RETRY_AFTER, ceiling, next_attempt, retry_after

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)


def test_ceiling_doubles_from_the_base_up_to_the_cap() -> None:
    assert [ceiling(n) for n in range(1, 6)] == [BASE * 2 ** (n - 1) for n in range(1, 6)]
    assert ceiling(8) == CAP
    assert ceiling(30) == CAP
    assert ceiling(10_000) == CAP  # no overflow for absurd counts


def test_attempts_start_at_one() -> None:
    with pytest.raises(ValueError):
        ceiling(0)


@pytest.mark.parametrize("attempts", [1, 2, 3, 5, 8, 20])
def test_delay_stays_within_floor_and_ceiling(attempts: int) -> None:
    rng = random.Random(attempts)
    for _ in range(500):
        delay = next_attempt(NOW, attempts, rng) - NOW
        assert FLOOR <= delay <= max(FLOOR, ceiling(attempts))


def test_same_seed_same_schedule() -> None:
    first = [next_attempt(NOW, n, random.Random(42)) for n in range(1, 9)]
    second = [next_attempt(NOW, n, random.Random(42)) for n in range(1, 9)]
    assert first == second
    assert next_attempt(NOW, 3, random.Random(1)) != next_attempt(NOW, 3, random.Random(2))


def test_full_jitter_spreads_a_burst_over_the_whole_window() -> None:
    # 1,000 messages failing in the same second must not all come back together.
    rng = random.Random(7)
    delays = sorted((next_attempt(NOW, 4, rng) - NOW).total_seconds() for _ in range(1000))
    top = ceiling(4).total_seconds()
    assert delays[0] < top * 0.05 and delays[-1] > top * 0.95
    assert 0.4 * top < delays[500] < 0.6 * top  # the median sits near the middle: uniform, not clustered
    assert len({round(d) for d in delays}) > 200


def test_custom_base_and_cap() -> None:
    rng = random.Random(3)
    moment = next_attempt(NOW, 10, rng, base=timedelta(seconds=2), cap=timedelta(seconds=10))
    assert NOW + FLOOR <= moment <= NOW + timedelta(seconds=10)


def test_result_is_aware_utc_like_now() -> None:
    assert next_attempt(NOW, 1, random.Random(0)).tzinfo is timezone.utc


def test_a_providers_retry_after_is_a_lower_bound_on_the_next_attempt() -> None:
    rng = random.Random(7)
    for attempts in (1, 3, 8):
        for _ in range(200):
            assert next_attempt(NOW, attempts, rng, at_least=timedelta(minutes=10)) >= NOW + timedelta(minutes=10)
    # Not believed beyond a day: a typo must not park a message for weeks.
    assert next_attempt(NOW, 1, rng, at_least=timedelta(days=30)) == NOW + MAX_RETRY_AFTER


@pytest.mark.parametrize("value, expected", [
    ("120", timedelta(seconds=120)),
    (" 5 ", timedelta(seconds=5)),
    ("Mon, 10 Mar 2025 12:02:00 GMT", timedelta(minutes=2)),
    ("Mon, 10 Mar 2025 11:00:00 GMT", timedelta(0)),   # already past: no wait beyond the backoff
    ("", None), (None, None), ("soon", None), ("-3", None),
])
def test_retry_after_reads_seconds_or_an_http_date(value: str | None, expected: timedelta | None) -> None:
    assert retry_after(value, NOW) == expected
