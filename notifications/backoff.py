"""When to try a message again after a transient failure: exponential backoff with full jitter.

Why full jitter: when a provider hiccups (a 503 burst from Twilio, an SMTP
server that says 421 for a minute), every message that failed in that second
would otherwise come back in the same second of the next round and hit it
again. Drawing the delay uniformly from [0, ceiling] spreads them out; the
ceiling doubles per attempt (30 s, 1 min, 2 min, ...) up to a cap of an hour,
so eight attempts cover a few hours of outage before a message is dead.

A provider that answers 429 with `Retry-After` has said when to come back:
the next attempt is then no earlier than that, whatever the draw says.

Pure: the caller passes `now` and the random source, so tests seed it.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

BASE = timedelta(seconds=30)
CAP = timedelta(hours=1)
# Never "right now": the row must first leave the claim query's reach, and a
# provider that just refused deserves at least a breath.
FLOOR = timedelta(seconds=1)
# A Retry-After beyond this is not believed (a typo or a clock gone wrong); a day still holds messages back.
MAX_RETRY_AFTER = timedelta(days=1)


def ceiling(attempts: int, base: timedelta = BASE, cap: timedelta = CAP) -> timedelta:
    """The largest delay after `attempts` failed attempts (1 = the first one failed)."""
    if attempts < 1:
        raise ValueError("attempts counts the attempts already made: at least 1")
    # 2 ** 40 seconds is far past any cap: stop doubling before the numbers get silly.
    exponent = min(attempts - 1, 40)
    return min(cap, base * (2 ** exponent))


def next_attempt(now: datetime, attempts: int, rng: random.Random,
                 base: timedelta = BASE, cap: timedelta = CAP, at_least: timedelta | None = None) -> datetime:
    """The time of the next try after `attempts` attempts: now + uniform(0, ceiling), at least FLOOR.

    `at_least`: what the provider asked for (Retry-After); the draw never comes earlier than that.
    """
    top = ceiling(attempts, base, cap).total_seconds()
    delay = timedelta(seconds=rng.uniform(0.0, top))
    return now + max(delay, FLOOR, min(at_least or FLOOR, MAX_RETRY_AFTER))


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """An HTTP Retry-After value (seconds, or an HTTP date) as a delay from `now`; None if absent or unreadable."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return timedelta(seconds=int(text[:9]))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)  # HTTP dates are GMT
    return max(when - now, timedelta(0))
