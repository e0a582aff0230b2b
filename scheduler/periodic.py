"""Scheduler's periodic work: release holds that ran out, every minute (the loop is core/periodic.py)."""
from __future__ import annotations

from datetime import timedelta

from core.periodic import Tick
from core.plugins import PeriodicTask

HOLDS_LOCK = 0x50454E44_0003  # "PEND" + 3: an advisory lock key of our own (core/periodic.py)
HOLDS_EVERY = timedelta(minutes=1)


def _expire_holds(tick: Tick) -> int:
    """Cancel holds that ran out, so they stop showing as held (bookings clear them on their own resources)."""
    from scheduler.holds import expire_holds

    return len(expire_holds(tick.session, tick.now))


EXPIRE_HOLDS = PeriodicTask("expire-holds", HOLDS_LOCK, _expire_holds, every=HOLDS_EVERY)
PERIODIC = (EXPIRE_HOLDS,)
