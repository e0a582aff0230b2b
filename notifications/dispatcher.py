"""The dispatcher: hands due outbox rows to RQ, one job per attempt.

The row, not Redis, is the truth about a message. Claiming a row means, in one
database transaction: attempts += 1, status `queued`, a lease until now + LEASE.
Only after that commit does a job `outbox-<row>-<attempt>` go to Redis. So:

- a crash between the commit and the enqueue leaves a queued row whose job
  never existed: its lease runs out and the next dispatch claims it again;
- a flushed or restarted Redis, or a worker killed mid-job, looks the same;
- a job that still sits in the queue when its lease runs out (a backlog, not a
  loss) gets its lease extended instead: re-claiming it would burn an attempt
  and enqueue a second job for nothing;
- a row that reaches the attempt limit and would be claimed again is `dead`
  (listed for staff), not queued; if it was a participant's message, their
  mediators get the same notice in that transaction as when a send job gives
  up. A row whose last attempt was only postponed (a reminder in quiet hours:
  no error) is claimed again instead, past the limit.

Job ids carry the attempt because RQ 3 keeps an id taken while the job's record
exists (DESIGN.md), and RQ only allows letters, digits, `_` and `-` in an id
(so `outbox-12-3`, not `outbox:12:3`). The send job returns early when the
row's attempt is no longer its own, so a late duplicate job does nothing.

Claims use `FOR UPDATE SKIP LOCKED` on PostgreSQL: several dispatchers claim
disjoint rows without waiting on each other, and a row whose send job holds
its lock right now (see jobs.py) is skipped even if its lease has run out —
the send in progress decides its fate. SQLite ignores the clause; the
embedded default has one dispatcher and a single writer.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from core.config import Settings
from notifications.mediator_notices import notify_failed_message
from notifications.models import OutboxMessage

# Longer than any one send can take (JOB_TIMEOUT, itself above the channels' network timeouts),
# short enough that a lost job delays its message by minutes, not hours.
LEASE = timedelta(minutes=5)
JOB_TIMEOUT = 120            # seconds; RQ kills a job that runs longer, well inside the lease
JOB_FAILURE_TTL = 3600       # a failed job's details can quote numbers (invariant 6): keep them an hour
JOB_RESULT_TTL = 600         # the return value is a status word; nobody needs it for long
SEND_JOB = "notifications.jobs.send_message"
DEFAULT_MAX_ATTEMPTS = 8     # Settings.message_max_attempts' default


def job_id(row_id: int, attempt: int) -> str:
    return f"outbox-{row_id}-{attempt}"


def dispatch_due(session: Session, queue: Queue, now: datetime, batch: int = 200, *,
                 max_attempts: int = DEFAULT_MAX_ATTEMPTS, lease: timedelta = LEASE,
                 settings: Settings | None = None) -> int:
    """Claim up to `batch` due rows, commit, then enqueue one job per claimed row.

    Commits `session`. Returns how many jobs were enqueued. Rows that died or
    whose waiting job merely got a longer lease are not counted. With
    `settings` (always, in the periodic work) the mediators of a participant
    whose message died here are told, as `jobs.send_message` does; tests of
    the claim alone may leave it out.
    """
    m = OutboxMessage
    due = or_(and_(m.status == "pending", m.next_attempt_at <= now),
              and_(m.status == "queued", m.lease_until < now))
    rows = session.execute(
        select(m.id, m.status, m.attempts, m.last_error)
        .where(due)
        .order_by(m.next_attempt_at, m.id)
        .limit(batch)
        .with_for_update(skip_locked=True, of=m)
    ).all()
    waiting = _still_waiting(queue.connection, [(r.id, r.attempts) for r in rows if r.status == "queued"])

    extend, dead, claim = [], [], []
    for row in rows:
        if (row.id, row.attempts) in waiting:
            extend.append(row.id)
        elif row.attempts >= max_attempts and (row.status == "queued" or row.last_error is not None):
            dead.append(row)  # its last attempt failed or was lost; a postponed one (no error) goes on
        else:
            claim.append(row)

    lease_until = now + lease
    if extend:
        session.execute(update(m).where(m.id.in_(extend)).values(lease_until=lease_until),
                        execution_options={"synchronize_session": False})
    for row in dead:
        # The last attempt's job never reported back (lost, killed, timed out): say so for staff.
        reason = "no outcome from the last attempt (job lost)" if row.status == "queued" else None
        values: dict[str, Any] = {"status": "dead", "finished_at": now, "lease_until": None}
        if reason:
            values["last_error"] = reason
        session.execute(update(m).where(m.id == row.id).values(**values),
                        execution_options={"synchronize_session": False})
        if settings is not None:
            notify_failed_message(session, settings, row.id, now)
    if claim:
        session.execute(update(m).where(m.id.in_([r.id for r in claim]))
                        .values(attempts=m.attempts + 1, status="queued", lease_until=lease_until),
                        execution_options={"synchronize_session": False})
    session.commit()
    # Nothing has left the process before this point.
    if claim:
        enqueue_attempts(queue, [(r.id, r.attempts + 1) for r in claim])
    return len(claim)


def enqueue_attempts(queue: Queue, attempts: list[tuple[int, int]]) -> None:
    """Enqueue send jobs for (row id, attempt) pairs in one Redis round trip.

    If Redis fails half-way, the rows whose jobs did not arrive simply wait for
    their lease to run out.
    """
    datas = [queue.prepare_data(SEND_JOB, args=(row_id, attempt), job_id=job_id(row_id, attempt),
                                timeout=JOB_TIMEOUT, result_ttl=JOB_RESULT_TTL,
                                failure_ttl=JOB_FAILURE_TTL, description=f"send outbox message {row_id}")
             for row_id, attempt in attempts]
    queue.enqueue_many(datas)  # one pipeline, executed by RQ


def _still_waiting(connection: Any, attempts: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which (row, attempt) jobs still sit in a queue in Redis, not yet started.

    A job that started (or finished, failed, vanished with a flush) is not
    waiting: if its row is still queued past the lease, that attempt is lost.
    A send that is really in progress holds the row lock, and SKIP LOCKED has
    already kept that row out of `attempts`.
    """
    if not attempts:
        return set()
    jobs = Job.fetch_many([job_id(r, a) for r, a in attempts], connection=connection)
    return {pair for pair, job in zip(attempts, jobs)
            if job is not None and job.get_status(refresh=False) == JobStatus.QUEUED}
