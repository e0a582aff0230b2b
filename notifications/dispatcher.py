"""The dispatcher: hands due outbox rows to RQ, one job per attempt.

The row, not Redis, is the truth about a message. Claiming a row means, in one
database transaction: attempts += 1, status `queued`, a lease until now + LEASE.
Only after that commit does a job `outbox-<row>-<attempt>` go to Redis. So:

- a crash between the commit and the enqueue leaves a queued row whose job
  never existed: its lease runs out and the next dispatch claims it again;
  so does a flushed or restarted Redis (the job's record is gone: nothing
  tells whether it still runs, so the lease is waited out);
- a job whose attempt is known to be over — RQ says it ended (a killed work
  horse whose worker lived on: `failed`), or it `started` on a worker that is
  gone from Redis (core/worker_liveness.py: within half a minute of its
  death, and its horse died with it) — is claimed again at once, not after
  the lease: a worker's death delays its messages by well under a minute;
- a job that still sits in the queue when its lease runs out (a backlog, not a
  loss), or runs on a worker that is still there, gets its lease extended
  instead: re-claiming it would burn an attempt and might send twice;
- a row that reaches the attempt limit and would be claimed again is `dead`
  (listed for staff), not queued; if it was a participant's message, their
  mediators get the same notice in that transaction as when a send job gives
  up. A row whose last attempt was only postponed (a reminder in quiet hours:
  no error) is claimed again instead, past the limit.

Never twice while the first attempt may still be running: a send holds its
row's lock from its check to its commit (jobs.py) and every claim skips
locked rows; a claim made while the old job has not yet taken that lock
makes the old job stale (the row's attempt is no longer its own). And a row
is claimed before its lease ends only on positive word that its job is no
longer running, never because time passed.

Job ids carry the attempt because RQ 3 keeps an id taken while the job's record
exists (a failed one's until its failure TTL), and RQ only allows letters, digits, `_` and `-` in an id
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
from sqlalchemy import Row, and_, or_, select, update
from sqlalchemy.orm import Session

from core.config import Settings
from core.worker_liveness import workers_alive
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
# A claim younger than this is not asked about before its lease ends: its job is nearly always waiting
# or running, and a worker's death takes up to core.worker_liveness.LIVENESS_TTL to show anyway.
RECHECK_AFTER = timedelta(seconds=15)
# RQ's words for a job that will not run (any more); every other status but "started" is still to come.
ENDED = frozenset({JobStatus.FINISHED.value, JobStatus.FAILED.value, JobStatus.STOPPED.value,
                   JobStatus.CANCELED.value})


def job_id(row_id: int, attempt: int) -> str:
    return f"outbox-{row_id}-{attempt}"


def dispatch_due(session: Session, queue: Queue, now: datetime, batch: int = 200, *,
                 max_attempts: int = DEFAULT_MAX_ATTEMPTS, lease: timedelta = LEASE,
                 settings: Settings | None = None) -> int:
    """Claim up to `batch` due rows, commit, then enqueue one job per claimed row.

    Due: pending rows whose time has come, queued rows whose lease ran out,
    and (while the batch has room) queued rows whose job is known to be over.
    Commits `session`. Returns how many jobs were enqueued. Rows that died or
    whose job merely got a longer lease are not counted. With `settings`
    (always, in the periodic work) the mediators of a participant whose
    message died here are told, as `jobs.send_message` does; tests of the
    claim alone may leave it out.
    """
    m = OutboxMessage
    due = or_(and_(m.status == "pending", m.next_attempt_at <= now),
              and_(m.status == "queued", m.lease_until < now))
    rows = list(session.execute(
        select(m.id, m.status, m.attempts, m.last_error)
        .where(due)
        .order_by(m.next_attempt_at, m.id)
        .limit(batch)
        .with_for_update(skip_locked=True, of=m)
    ).all())
    states = attempt_states(queue.connection, [(r.id, r.attempts) for r in rows if r.status == "queued"])
    if len(rows) < batch:
        rows += _over_before_lease(session, queue.connection, now, lease, batch - len(rows))

    extend, dead, claim = [], [], []
    for row in rows:
        if states.get((row.id, row.attempts)) in ("waiting", "running"):
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


def _over_before_lease(session: Session, connection: Any, now: datetime, lease: timedelta,
                       limit: int) -> list[Row[Any]]:
    """Queued rows whose lease still runs but whose job is known to be over, locked for the claim.

    Looked at once their claim is RECHECK_AFTER old (a younger job is nearly
    always still waiting or running). Read without a lock, asked about in
    Redis, then locked only if still queued at the same attempt: a send in
    progress holds its row's lock and is skipped; one that finished meanwhile
    has moved its row on.
    """
    m = OutboxMessage
    candidates = session.execute(
        select(m.id, m.attempts).where(m.status == "queued", m.lease_until >= now,
                                       m.lease_until <= now + lease - RECHECK_AFTER)
        .order_by(m.lease_until, m.id).limit(limit)).all()
    states = attempt_states(connection, [(c.id, c.attempts) for c in candidates])
    over = {pair for pair, state in states.items() if state == "over"}
    if not over:
        return []
    locked = session.execute(
        select(m.id, m.status, m.attempts, m.last_error)
        .where(m.id.in_(sorted(r for r, _ in over)), m.status == "queued")
        .order_by(m.id).with_for_update(skip_locked=True, of=m)).all()
    return [row for row in locked if (row.id, row.attempts) in over]


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


def attempt_states(connection: Any, attempts: list[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """What Redis says of each (row, attempt)'s job: "waiting", "running", "over" or "unknown".

    waiting: not started yet (in a queue, scheduled, deferred); running: started
    on a worker that is still there; over: it ended (finished, failed, stopped,
    cancelled), or started on a worker that is gone — whose work horse died with
    it (core/worker_liveness.py); unknown: no record (never enqueued, or Redis
    lost it), or a started one that names no worker. Two round trips at most.
    """
    if not attempts:
        return {}
    with connection.pipeline(transaction=False) as pipeline:
        for row_id, attempt in attempts:
            pipeline.hmget(Job.key_for(job_id(row_id, attempt)), "status", "worker_name")
        found = [(_text(status), _text(worker)) for status, worker in pipeline.execute()]
    alive = workers_alive(connection, {worker for status, worker in found if status == "started" and worker})
    states = {}
    for pair, (status, worker) in zip(attempts, found):
        if status is None or (status == "started" and not worker):
            states[pair] = "unknown"
        elif status == "started":
            states[pair] = "running" if worker in alive else "over"
        else:
            states[pair] = "over" if status in ENDED else "waiting"
    return states


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
