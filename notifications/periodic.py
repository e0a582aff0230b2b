"""Notifications' periodic work: dispatch due messages every turn of the loop, purge old content hourly.

The loop that runs it (and every other package's periodic work) is
core/periodic.py; notifications/plugin.py hands it `PERIODIC`.

Purge (invariant 6): finished rows older than the retention period lose their
addresses and content; the row keeps kind, status, times, attempts and error
for the audit. RQ's failed-job records, which can quote numbers, are not
purged here: every send job is enqueued with a failure TTL of an hour
(dispatcher.JOB_FAILURE_TTL), far inside any retention period, and RQ drops
them itself. The phone line's records are telephony's own periodic work
(telephony/periodic.py).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

from rq import Queue
from sqlalchemy import and_, delete, or_
from sqlalchemy.orm import Session

from core.config import Settings
from core.db import Database
from core.periodic import Tick, run_task
from core.plugins import PeriodicTask

DISPATCH_LOCK = 0x50454E44_0001   # "PEND" + 1: an advisory lock key of our own (core/periodic.py)
PURGE_LOCK = 0x50454E44_0002
PURGE_EVERY = timedelta(hours=1)
INBOUND_KEEP = timedelta(days=2)
BATCH = 200
log = logging.getLogger(__name__)


def _dispatch(tick: Tick) -> int:
    from notifications.dispatcher import dispatch_due

    assert tick.queue is not None
    return dispatch_due(tick.session, tick.queue, tick.now, BATCH, max_attempts=tick.settings.message_max_attempts,
                        settings=tick.settings)


def purge_expired(session: Session, now: datetime, retention_days: int,
                  count: Callable[[str, int], int] | None = None) -> int:
    """Clear the personal data of finished messages older than the retention period; return how many.

    `count(kind, n)` hears what went per kind (Tick.count: `flask purge` prints it)."""
    from notifications import verdicts
    from notifications.erasure import clear_contents
    from notifications.inbound_models import InboundMessage
    from notifications.models import OutboxMessage

    m = OutboxMessage
    cutoff = now - timedelta(days=retention_days)
    old = or_(m.finished_at < cutoff, and_(m.finished_at.is_(None), m.created_at < cutoff))
    contents = clear_contents(session, old, now)
    # Inbound SMS records serve replay protection and the once-a-day answer: two days is plenty.
    inbound = session.execute(delete(InboundMessage).where(InboundMessage.received_at < now - INBOUND_KEEP),
                              execution_options={"synchronize_session": False}).rowcount or 0
    untextable = verdicts.purge(session, now, retention_days)  # numbers found not textable: as message content
    if count is not None:
        count("message contents", contents)
        count("inbound text records", inbound)
        count("numbers found not textable", untextable or 0)
    return contents


def _purge(tick: Tick) -> int:
    purged = purge_expired(tick.session, tick.now, tick.settings.retention_days, tick.count)
    if purged:
        log.info("purged the content of %d old outbox messages", purged)
    return purged


DELETE_LOCK = 0x50454E44_0009  # "PEND" + 9
DELETE_EVERY = timedelta(minutes=10)


def _delete_at_provider(tick: Tick) -> int:
    """With TWILIO_DELETE_SENT_MESSAGES: texts past delivery are deleted at Twilio too (one job per tick)."""
    from notifications.provider_deletion import enqueue_due

    return enqueue_due(tick)


DISPATCH = PeriodicTask("dispatch-messages", DISPATCH_LOCK, _dispatch, backlog=BATCH)
DELETE_AT_PROVIDER = PeriodicTask("delete-texts-at-provider", DELETE_LOCK, _delete_at_provider, every=DELETE_EVERY)
PURGE = PeriodicTask("purge-messages", PURGE_LOCK, _purge, every=PURGE_EVERY)
PERIODIC = (DISPATCH, PURGE, DELETE_AT_PROVIDER)


def dispatch_tick(db: Database, queue: Queue, now: datetime, settings: Settings) -> int | None:
    """One dispatch round; None if another process had the lock."""
    return run_task(DISPATCH, db, now, settings, queue)
