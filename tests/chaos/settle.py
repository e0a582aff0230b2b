"""Letting the system settle after a chaos run: until no message is on its way any more.

A message is on its way while its row is `queued` (handed to RQ, or waiting
for its lease to run out after Redis lost its job) or `pending` and either
due now or waiting to be tried again after a failure (`last_error` set).
A `pending` row without an error that waits for its time (a reminder days
ahead, one postponed out of quiet hours) is planned, not on its way.
Settling means none on its way for a few seconds in a row; then every
message has reached sent, delivered, dead, cancelled or skipped.

That can take a while and nobody lifts a finger meanwhile: a message whose
job Redis lost waits out its lease (five minutes, notifications/dispatcher.py),
one that failed waits out its backoff (30 s doubling). `make chaos` waits
for real. The short run in the suite cannot wait minutes, so it may
`hurry`: each round it moves those two timers (a retry's next_attempt_at,
a queued row's lease_until) to now, which is what waiting would do, and
nothing else; the dispatcher and the send job then decide exactly as they
would have when the time came (a job still waiting or running gets its
lease extended, a send in progress keeps its row lock).
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

ON_ITS_WAY = """status = 'queued' OR (status = 'pending' AND (next_attempt_at <= :now OR last_error IS NOT NULL))"""


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def on_its_way(conn: Connection, now: datetime) -> list[int]:
    return list(conn.execute(text(f"SELECT id FROM outbox_messages WHERE {ON_ITS_WAY} ORDER BY id"),
                             {"now": now}).scalars())


def hurry(conn: Connection, now: datetime) -> int:
    """Move the retry and lease timers of messages on their way to `now`; returns how many rows moved."""
    retries = conn.execute(text("""UPDATE outbox_messages SET next_attempt_at = :now
        WHERE status = 'pending' AND last_error IS NOT NULL AND next_attempt_at > :now"""), {"now": now})
    leases = conn.execute(text("""UPDATE outbox_messages SET lease_until = :now
        WHERE status = 'queued' AND lease_until > :now"""), {"now": now})
    return int(retries.rowcount or 0) + int(leases.rowcount or 0)


def settle(engine: Engine, timeout: float, quiet: float = 3.0, hurry_timers: bool = False,
           hurry_every: float = 2.0) -> float | None:
    """Seconds until nothing was on its way for `quiet` seconds in a row; None after `timeout`."""
    started = time.monotonic()
    deadline, calm_since, hurried = started + timeout, None, 0.0
    while time.monotonic() < deadline:
        if hurry_timers and time.monotonic() - hurried >= hurry_every:
            with engine.begin() as conn:
                hurry(conn, now_utc())
            hurried = time.monotonic()
        with engine.connect() as conn:
            busy = on_its_way(conn, now_utc())
        if busy:
            calm_since = None
        elif calm_since is None:
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= quiet:
            return calm_since - started
        time.sleep(0.25)
    return None
