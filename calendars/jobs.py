"""RQ jobs for calendar sync: one source by id, or every due source.

Jobs take ids only and build nothing from Redis: the source is read from the
database when the job runs, so a job that waited in the queue while the
source was edited syncs the source as it is now. `sync_source` never raises,
so a job fails only when the database is away; the failed-job record then
holds a traceback without a URL (sync errors never quote one).

The periodic loop (notifications.periodic) claims the due sources and
enqueues one `sync_source_job` per source with `enqueue_syncs`: slow or dead
calendar servers then tie up RQ workers, never the loop that dispatches
messages every few seconds.
"""
from __future__ import annotations

import logging
from typing import Any, Iterable

from rq import Queue

from calendars.sync import sync_due, sync_source
from core.db import utcnow
from core.jobcontext import job_runtime

SYNC_JOB = "calendars.jobs.sync_source_job"
# Above the fetch's own total deadline (2 x CALENDAR_FETCH_TIMEOUT, at most 600 s) plus parsing.
JOB_TIMEOUT = 900
JOB_RESULT_TTL = 600
JOB_FAILURE_TTL = 24 * 3600
log = logging.getLogger(__name__)


def sync_source_job(source_id: int) -> str:
    """Sync one source now; returns the outcome's status word (ok, error, skipped, superseded)."""
    runtime = job_runtime()
    return sync_source(runtime.db, source_id, utcnow(), runtime.settings).status


def sync_all_job() -> int:
    """Sync every due source, one after another; returns how many were attempted."""
    runtime = job_runtime()
    return len(sync_due(runtime.db, utcnow(), runtime.settings))


def enqueue_syncs(queue: Queue, source_ids: Iterable[int]) -> None:
    """One job per source in one Redis round trip (random job ids: a repeat is harmless, see sync.py)."""
    datas = [queue.prepare_data(SYNC_JOB, args=(source_id,), timeout=JOB_TIMEOUT, result_ttl=JOB_RESULT_TTL,
                                failure_ttl=JOB_FAILURE_TTL, description=f"sync calendar source {source_id}")
             for source_id in source_ids]
    if datas:
        queue.enqueue_many(datas)


def request_sync(redis: Any, source_id: int) -> bool:
    """Best effort after an edit: if Redis is away, the periodic claim picks the source up anyway."""
    if redis is None:
        return False
    try:
        enqueue_syncs(Queue("default", connection=redis), [source_id])
    except Exception:  # noqa: BLE001 - Redis down must not fail the edit that was committed
        log.warning("calendar source %d: could not enqueue a sync job; the periodic sync will run it", source_id)
        return False
    return True
