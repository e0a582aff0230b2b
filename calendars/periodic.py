"""Calendars' periodic work: claim the sources due for a sync and enqueue their jobs, every minute.

The loop is core/periodic.py. The fetches run in workers (calendars.jobs), not
in the loop: a slow calendar server must not hold up message dispatch.
"""
from __future__ import annotations

from datetime import timedelta

from core.periodic import Tick
from core.plugins import PeriodicTask

CALENDAR_LOCK = 0x50454E44_0004  # "PEND" + 4: an advisory lock key of our own (core/periodic.py)
CALENDAR_EVERY = timedelta(minutes=1)


def _enqueue_due_syncs(tick: Tick) -> int:
    from calendars.jobs import enqueue_syncs
    from calendars.sync import claim_due

    queue = tick.queue
    assert queue is not None
    ids = claim_due(tick.session, tick.now, tick.settings)
    # After the commit; a lost enqueue is retried when the source's sync interval has passed.
    tick.after_commit(lambda: enqueue_syncs(queue, ids))
    return len(ids)


ENQUEUE_SYNCS = PeriodicTask("enqueue-calendar-syncs", CALENDAR_LOCK, _enqueue_due_syncs, every=CALENDAR_EVERY)
PERIODIC = (ENQUEUE_SYNCS,)
