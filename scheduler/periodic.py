"""Scheduler's periodic work: release holds and lapse offers that ran out, every minute (the loop: core/periodic.py)."""
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


OFFERS_LOCK = 0x50454E44_0006  # "PEND" + 6


def _lapse_offers(tick: Tick) -> int:
    """Offers past their end, or with no free time left, lapse: their mediators get a task."""
    from scheduler.offers import lapse_due

    return lapse_due(tick.session, tick.now)


LAPSE_OFFERS = PeriodicTask("lapse-offers", OFFERS_LOCK, _lapse_offers, every=HOLDS_EVERY, backlog=100)
PERIODIC = (EXPIRE_HOLDS, LAPSE_OFFERS)
