"""Deleting sent texts at Twilio as well (optional: TWILIO_DELETE_SENT_MESSAGES=true).

Twilio keeps every message it sent, body and number included, until someone deletes it; our own
copy's text is purged after RETENTION_DAYS, Twilio's would stay. With the setting on, a periodic
task (every ten minutes) picks texts that reached their final status (delivered, undelivered,
failed), or were sent a day ago and never reported back, and enqueues one job that deletes them at
Twilio one by one (`DELETE /Messages/<sid>`). Twilio's delivery record goes with it; ours stays.

The job marks each row `provider_deleted_at` once Twilio says it is gone (a 404 counts: deleted
before). Twilio refusing while it still delivers (error 20009, which can last days) or refusing that
one message for good puts the row back by an hour or a day (`provider_delete_after`), so such rows
never hold up the rest. A Twilio away (a transient failure) stops the job, for the next tick. One job
at a time (a fixed job id): a tick finds the previous job still waiting or running and leaves it be.
A job lost with Redis changes nothing: the next tick finds the same rows again.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.db import utcnow
from core.jobcontext import job_runtime
from core.periodic import Tick
from notifications.channels.base import SendError, TransientSendError
from notifications.models import OutboxMessage

log = logging.getLogger(__name__)
BATCH = 100
FINAL = ("delivered", "undelivered", "failed")
UNREPORTED_AFTER = timedelta(days=1)  # no final status by then: Twilio's callback was lost
STILL_DELIVERING_WAIT = timedelta(hours=1)
REFUSED_WAIT = timedelta(days=1)
JOB = "notifications.provider_deletion.delete_at_provider"
JOB_ID = "pendel-delete-texts-at-provider"
WAITING = (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)
m = OutboxMessage


def due(session: Session, now: datetime, limit: int = BATCH) -> list[int]:
    """Ids of texts whose copy at Twilio should go now, oldest first."""
    return list(session.scalars(
        select(m.id).where(m.channel == "sms", m.provider_id.is_not(None), m.provider_deleted_at.is_(None),
                           or_(m.provider_delete_after.is_(None), m.provider_delete_after <= now),
                           or_(m.provider_status.in_(FINAL), m.sent_at < now - UNREPORTED_AFTER))
        .order_by(m.id).limit(limit)))


def delete_at_provider(message_ids: list[int]) -> int:
    """RQ entry point: delete these texts at the provider; returns how many are gone now."""
    runtime = job_runtime()
    from notifications.jobs import channels_for

    channel = channels_for(runtime.settings).get("sms")
    delete = getattr(channel, "delete", None)
    if delete is None:  # the console channel (development): nothing is kept anywhere else
        return 0
    gone = 0
    for message_id in message_ids:
        with runtime.db.session() as s:
            sid = s.scalar(select(m.provider_id).where(m.id == message_id, m.provider_deleted_at.is_(None)))
        if sid is None:
            continue
        now = utcnow()
        try:
            gone_now = delete(sid)
        except TransientSendError as exc:
            log.warning("deleting texts at the provider stopped at message %s (%s); the next tick goes on",
                        message_id, exc.code)
            break
        except SendError as exc:
            log.warning("the provider refused to delete message %s (%s); tried again in a day", message_id, exc.code)
            values = {"provider_delete_after": now + REFUSED_WAIT}
        else:
            values = {"provider_deleted_at": now} if gone_now else {"provider_delete_after": now + STILL_DELIVERING_WAIT}
        with runtime.db.write_session() as s:
            s.execute(update(m).where(m.id == message_id).values(**values))
        gone += "provider_deleted_at" in values
    return gone


def _job_waiting(queue: Queue) -> bool:
    try:
        return Job.fetch(JOB_ID, connection=queue.connection).get_status() in WAITING
    except NoSuchJobError:
        return False


def enqueue_due(tick: Tick) -> int:
    """The periodic task's work (notifications.periodic): one job for the texts due; how many."""
    if not tick.settings.twilio_delete_sent or tick.queue is None:
        return 0
    queue = tick.queue
    if _job_waiting(queue):
        return 0
    ids = due(tick.session, tick.now)
    if ids:
        tick.after_commit(lambda: queue.enqueue(JOB, ids, job_id=JOB_ID, job_timeout=600, result_ttl=600,
                                                failure_ttl=3600, description=f"delete {len(ids)} texts at Twilio"))
    return len(ids)
