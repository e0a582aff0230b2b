"""The send job: one attempt at one outbox message, run by an RQ worker.

`send_message(row_id, attempt)` takes ids only. Everything happens in ONE write
transaction that holds the outbox row's lock (`SELECT ... FOR UPDATE`) from the
check, through the provider call, to the commit of the outcome. Why hold a row
lock across a network call:

- The fate of the message is decided atomically. A cancellation (its
  `cancel_pending` UPDATE) either commits first — the job then sees `cancelled`
  and sends nothing — or waits for our commit and then finds the row `sent` and
  leaves it. There is no moment in which a cancelled message can still go.
- The dispatcher claims with SKIP LOCKED, so a row whose send is in progress is
  never re-claimed, even if its lease ran out: no second job races the first.
- The wait is bounded: the channels time out (Twilio client, SMTP 30 s), RQ
  kills a job after JOB_TIMEOUT (120 s), and the lease (5 min) is longer than
  both. Only writers of that one row wait: a booking change or withdrawal that
  cancels this very message, for at most one provider call. On SQLite (the
  embedded default, console channels that answer at once) the transaction is
  BEGIN IMMEDIATE and so briefly serialises all writers; that is acceptable
  there and is the price of the same code path.

The alternative — commit a "sending" mark, call the provider unlocked, commit
the outcome — opens a window in which a cancellation commits while the message
is on its way, and needs a status of its own; it buys nothing the lease does
not already give.

At least once, and the one duplicate path: if the process dies (or the commit
fails) after the provider accepted, the transaction rolls back, the row stays
`queued` with this attempt, its lease runs out, and the dispatcher claims it
again. Every other path is guarded: a job whose attempt is no longer the row's
(a late or duplicate job) returns without doing anything.

`last_error` carries the channel's error text, which by contract names only
codes and stages (never an address or message text).
"""
from __future__ import annotations

import logging
import random
import threading
from datetime import datetime

from sqlalchemy.orm import Session

from core.config import Settings
from core.db import utcnow
from core.jobcontext import job_runtime
from notifications import sendcheck
from notifications.mediator_notices import notify_failed_message
from notifications.backoff import next_attempt
from notifications.channels.base import Channel, Envelope, PermanentSendError, TransientSendError
from notifications.models import OutboxMessage
from scheduler.models import Appointment, Participant

STATUS_CALLBACK_PATH = "/telephony/sms/status"
log = logging.getLogger(__name__)
_rng = random.Random()
_channels: dict[Settings, dict[str, Channel]] = {}
_channels_lock = threading.Lock()


def channels_for(settings: Settings) -> dict[str, Channel]:
    """The channels for these settings, built once per process (clients keep their connections)."""
    with _channels_lock:
        if settings not in _channels:
            from notifications.channels.registry import build_channels

            _channels[settings] = build_channels(settings)
        return _channels[settings]


def send_message(row_id: int, attempt: int) -> str:
    """RQ entry point: one attempt at one message. Returns a status word (no personal data)."""
    runtime = job_runtime()
    with runtime.db.write_session() as session:
        now = utcnow()
        outcome = attempt_send(session, runtime.settings, row_id, attempt, now)
        if outcome == "dead":  # in the same transaction: the mediator must know it did not arrive
            notify_failed_message(session, runtime.settings, row_id, now)
    log.info("outbox message %s attempt %s: %s", row_id, attempt, outcome)
    return outcome


def attempt_send(session: Session, settings: Settings, row_id: int, attempt: int, now: datetime) -> str:
    """The attempt inside the caller's write transaction (which commits the outcome)."""
    row = session.get(OutboxMessage, row_id, with_for_update=True, populate_existing=True)
    if row is None:
        return "missing"
    if row.status != "queued" or row.attempts != attempt:
        return "stale"  # cancelled meanwhile, or a later attempt owns the row

    decision = sendcheck.check(*_facts(session, row), now=now, quiet=sendcheck.QuietHours(
        settings.quiet_start, settings.quiet_end, settings.tz))
    if decision.action == "cancel":
        _finish(row, "cancelled", now, decision.reason)
        return "cancelled"
    if decision.action == "skip":
        _finish(row, "skipped", now, decision.reason)
        return f"skipped:{decision.reason}"
    if decision.action == "postpone":
        assert decision.until is not None
        row.status, row.next_attempt_at, row.lease_until = "pending", decision.until, None
        return "postponed"

    channel = channels_for(settings).get(row.channel)
    if channel is None or row.to_address is None or row.body is None:
        _finish(row, "dead", now, f"no {row.channel} channel configured" if channel is None else "nothing to send")
        return "dead"
    envelope = Envelope(
        message_id=row.id, channel=row.channel, to=row.to_address, body=row.body, subject=row.subject,
        html_body=row.html_body, attachment_ics=row.attachment_ics,
        status_callback_url=settings.public_base_url.rstrip("/") + STATUS_CALLBACK_PATH if row.channel == "sms" else None)
    try:
        provider_id = channel.send(envelope)
    except PermanentSendError as exc:
        _finish(row, "dead", now, _error("permanent", exc))
        return "dead"
    except TransientSendError as exc:
        return _retry_or_die(row, settings, now, _error("transient", exc))
    except Exception as exc:  # noqa: BLE001 - a channel bug or a job timeout: retry, and say what kind
        # Only the type: an unexpected exception's text could quote anything.
        return _retry_or_die(row, settings, now, f"transient: unexpected {type(exc).__name__}")
    row.status, row.provider_id, row.sent_at, row.lease_until = "sent", provider_id, now, None
    row.finished_at, row.last_error = now, None
    return "sent"


def _facts(session: Session, row: OutboxMessage) -> tuple[
        sendcheck.MessageFacts, sendcheck.AppointmentFacts | None, sendcheck.ParticipantFacts | None]:
    """Plain data for the check, read in this transaction (after the row lock)."""
    message = sendcheck.MessageFacts(kind=row.kind, channel=row.channel, recipient_kind=row.recipient_kind,
                                     is_reminder=row.is_reminder, appointment_version=row.appointment_version,
                                     deadline=row.deadline)
    appointment = participant = None
    if row.appointment_id is not None:
        a = session.get(Appointment, row.appointment_id, populate_existing=True)
        if a is not None:
            appointment = sendcheck.AppointmentFacts(status=a.status, version=a.version, start=a.start)
    if row.participant_id is not None:
        p = session.get(Participant, row.participant_id, populate_existing=True)
        if p is not None:
            participant = sendcheck.ParticipantFacts(withdrawn=p.withdrawn_at is not None,
                                                     sms_allowed=p.sms_allowed, email_allowed=p.email_allowed)
    return message, appointment, participant


def _retry_or_die(row: OutboxMessage, settings: Settings, now: datetime, error: str) -> str:
    if row.attempts >= settings.message_max_attempts:
        _finish(row, "dead", now, f"{error} (after {row.attempts} attempts)")
        return "dead"
    row.status, row.lease_until, row.last_error = "pending", None, error[:300]
    row.next_attempt_at = next_attempt(now, row.attempts, _rng)
    return "retry"


def _finish(row: OutboxMessage, status: str, now: datetime, reason: str) -> None:
    row.status, row.finished_at, row.lease_until, row.last_error = status, now, None, reason[:300]


def _error(kind: str, exc: Exception) -> str:
    code = getattr(exc, "code", None)
    text = str(exc)
    if code and code not in text:
        text = f"{text} (code {code})"
    return f"{kind}: {text}"
