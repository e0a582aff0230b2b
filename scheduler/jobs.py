"""Scheduler jobs for RQ: module-level functions that take ids, never ORM objects."""
from __future__ import annotations

from core.db import utcnow
from core.jobcontext import job_runtime
from scheduler.holds import expire_holds


def expire_holds_job() -> int:
    """Cancel every hold that has run out, so its appointment stops showing as held."""
    runtime = job_runtime()
    with runtime.db.write_session() as session:
        return len(expire_holds(session, utcnow()))
