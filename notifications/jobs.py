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
codes and stages (never an address or message text). A permanent failure
that is the provider's verdict on the number (unsubscribed, invalid:
notifications.verdicts) is applied in the same transaction: the texts still
waiting for that number are cancelled with it, and the mediators' notice
says which verdict it was. A transient one that came with a Retry-After is
not tried again before that.
"""
from __future__ import annotations

import logging
import random
import threading
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, bindparam, literal, select, union_all, update
from sqlalchemy.engine import Row

from core.config import Settings
from core.db import UTCDateTime, utcnow
from core.jobcontext import job_runtime
from notifications import sendcheck, verdicts
from notifications.mediator_notices import notify_address_changed, notify_failed_message
from notifications.backoff import next_attempt
from notifications.channels.base import Accepted, Channel, Envelope, PermanentSendError, TransientSendError
from notifications.inbound_models import SmsOptOut, confirms_opt_out, keep_under_current_key, opt_out_hashes
from notifications.models import OutboxMessage, SmsUntextableNumber
from notifications.offer_messages import offer_of
from scheduler.models import Appointment, Participant
from scheduler.participant_models import Offer

STATUS_CALLBACK_PATH = "/telephony/sms/status"
log = logging.getLogger(__name__)
# From the OS, not a seeded generator: work horses forked from one parent would all inherit the
# same generator state and draw the same "random" delays, so retries would not spread at all.
_rng = random.SystemRandom()
_channels: dict[Settings, dict[str, Channel]] = {}
_channels_lock = threading.Lock()

# Core statements on the tables, not ORM loads and flushes: the job reads one row and writes one
# outcome, and in a freshly forked work horse the ORM's identity map and unit of work cost several
# times the queries themselves. Built once here, compiled once per process (before the fork).
# One statement loads the row (locked) with its appointment's and participant's facts; an SMS
# costs one more, the number's opt-out and not-textable marks looked up by its keyed hash (computed
# here, not in SQL).
# The joined facts are as of the statement's start: a writer that makes a queued message wrong
# (cancellation, withdrawal, STOP, a contact change) also cancels its row, and so either commits
# before that start or waits for this job's commit.
_m, _a, _p, _o = OutboxMessage.__table__, Appointment.__table__, Participant.__table__, SmsOptOut.__table__
_u = SmsUntextableNumber.__table__
LOAD_ROW = (select(_m.c.status, _m.c.attempts, _m.c.kind, _m.c.channel, _m.c.recipient_kind, _m.c.is_reminder,
                   _m.c.appointment_id, _m.c.appointment_version, _m.c.participant_id, _m.c.deadline,
                   _m.c.idempotency_key, _m.c.to_address, _m.c.subject, _m.c.body, _m.c.html_body,
                   _m.c.attachment_ics,
                   _a.c.id.label("a_id"), _a.c.status.label("a_status"), _a.c.version.label("a_version"),
                   _a.c.start.label("a_start"), _p.c.id.label("p_id"), _p.c.withdrawn_at.label("p_withdrawn_at"),
                   _p.c.sms_allowed.label("p_sms_allowed"), _p.c.email_allowed.label("p_email_allowed"),
                   _p.c.phone.label("p_phone"), _p.c.email.label("p_email"))
            .select_from(_m.outerjoin(_a, _a.c.id == _m.c.appointment_id)
                         .outerjoin(_p, _p.c.id == _m.c.participant_id))
            .where(_m.c.id == bindparam("row_id")).with_for_update(of=_m))
_hashes = bindparam("hashes", expanding=True)
NUMBER_MARKS = union_all(
    select(_o.c.number_hash, literal("opted_out").label("mark")).where(_o.c.number_hash.in_(_hashes)),
    select(_u.c.number_hash, literal("not_textable").label("mark")).where(_u.c.number_hash.in_(_hashes)))
# A message about times offered to choose from: its offer's status (one more statement, for those only).
OFFER_STATUS = select(Offer.__table__.c.status).where(Offer.__table__.c.id == bindparam("offer_id"))
_this_row = update(_m).where(_m.c.id == bindparam("row_id"))
_at = bindparam("at", type_=UTCDateTime())
# With the provider's status on accepting it ("queued"), which the outbox shows until the first callback.
MARK_SENT = _this_row.values(status="sent", provider_id=bindparam("provider_id"),
                             provider_status=bindparam("provider_status"), sent_at=_at, finished_at=_at,
                             lease_until=None, last_error=None)
FINISH = _this_row.values(status=bindparam("status"), finished_at=_at, lease_until=None,
                          last_error=bindparam("error"))
# A postponement is not a failure: no error, so the dispatcher claims the row again even at the attempt cap.
POSTPONE = _this_row.values(status="pending", next_attempt_at=_at, lease_until=None, last_error=None)
RETRY = _this_row.values(status="pending", next_attempt_at=_at, lease_until=None, last_error=bindparam("error"))


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
    db = runtime.db
    # A plain connection, not an ORM session: in a freshly forked work horse the session's own
    # set-up (transaction bookkeeping, connection acquisition) costs ~1 ms and ~150 page faults, and
    # the job needs a session only when a message dies. Same transaction as Database.write_session:
    # BEGIN IMMEDIATE on SQLite, committed at the end, rolled back on any error.
    with db.engine.connect() as conn:
        if db.is_sqlite:
            conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            now = utcnow()
            outcome = attempt_send(conn, runtime.settings, row_id, attempt, now)
            # In the same transaction: the mediators must know a message did not arrive, or did not
            # go because the participant's address changed after it was written.
            notice = _NOTICES.get(outcome)
            if notice is not None:
                session = db.sessions(bind=conn)
                try:
                    notice(session, runtime.settings, row_id, now)
                    session.flush()
                finally:
                    session.close()
    log.info("outbox message %s attempt %s: %s", row_id, attempt, outcome)
    return outcome


_NOTICES = {"dead": notify_failed_message, "skipped:address_changed": notify_address_changed,
            **{f"dead:{verdict}": partial(notify_failed_message, reason=reason)
               for verdict, reason in verdicts.NOTICE_REASON.items()}}


def attempt_send(conn: Connection, settings: Settings, row_id: int, attempt: int, now: datetime) -> str:
    """The attempt inside the caller's write transaction on `conn` (which commits the outcome)."""
    row = conn.execute(LOAD_ROW, {"row_id": row_id}).first()
    if row is None:
        return "missing"
    if row.status != "queued" or row.attempts != attempt:
        return "stale"  # cancelled meanwhile, or a later attempt owns the row

    decision = sendcheck.check(*_facts(conn, settings, row), now=now, quiet=sendcheck.QuietHours(
        settings.quiet_start, settings.quiet_end, settings.tz))
    if decision.action == "cancel":
        _finish(conn, row_id, "cancelled", now, decision.reason)
        return "cancelled"
    if decision.action == "skip":
        _finish(conn, row_id, "skipped", now, decision.reason)
        return f"skipped:{decision.reason}"
    if decision.action == "postpone":
        assert decision.until is not None
        conn.execute(POSTPONE, {"row_id": row_id, "at": decision.until})
        return "postponed"
    return _deliver(conn, settings, row_id, row, now)


def _deliver(conn: Connection, settings: Settings, row_id: int, row: Row[Any], now: datetime) -> str:
    """Hand the message to its channel and write the outcome on the (locked) row."""
    channel = channels_for(settings).get(row.channel)
    if channel is None or row.to_address is None or row.body is None:
        _finish(conn, row_id, "dead", now,
                f"no {row.channel} channel configured" if channel is None else "nothing to send")
        return "dead"
    # Our row id in the callback URL: a status that outruns this job's commit still finds the row.
    callback = (settings.public_base_url.rstrip("/") + STATUS_CALLBACK_PATH + f"?message={row_id}"
                if row.channel == "sms" else None)
    envelope = Envelope(
        message_id=row_id, channel=row.channel, to=row.to_address, body=row.body, subject=row.subject,
        html_body=row.html_body, attachment_ics=row.attachment_ics, status_callback_url=callback)
    try:
        accepted = channel.send(envelope)
    except PermanentSendError as exc:
        _finish(conn, row_id, "dead", now, _error("permanent", exc))
        verdict = verdicts.verdict_for(exc.code) if row.channel == "sms" else None
        if verdict is None:
            return "dead"
        # About the number, not this message: every text still waiting for it goes the same way.
        verdicts.apply(conn, settings, verdict, row.to_address,
                       row.participant_id if row.recipient_kind == "participant" else None, exc.code, now)
        return f"dead:{verdict}"
    except TransientSendError as exc:
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after else None
        return _retry_or_die(conn, row_id, row.attempts, settings, now, _error("transient", exc), wait)
    except Exception as exc:  # noqa: BLE001 - a channel bug or a job timeout: retry, and say what kind
        # Only the type: an unexpected exception's text could quote anything.
        unexpected = f"transient: unexpected {type(exc).__name__}"
        return _retry_or_die(conn, row_id, row.attempts, settings, now, unexpected)
    mark_sent(conn, row_id, accepted, now)
    return "sent"


def mark_sent(conn: Connection, row_id: int, accepted: Accepted, now: datetime) -> None:
    conn.execute(MARK_SENT, {"row_id": row_id, "provider_id": accepted.provider_id,
                             "provider_status": accepted.provider_status, "at": now})


def warm_up(conn: Connection, settings: Settings, now: datetime) -> None:
    """Run every statement of the job once on a row that does not exist (id 0).

    In the caller's transaction on `conn`, which should roll back. A forking worker does this
    before its first fork, so each work horse finds the SQL compiled instead of compiling it for
    its one job.
    """
    attempt_send(conn, settings, 0, 0, now)
    conn.execute(NUMBER_MARKS, {"hashes": [""]}).first()
    conn.execute(OFFER_STATUS, {"offer_id": 0}).first()
    mark_sent(conn, 0, Accepted("warm-up", "queued"), now)
    _finish(conn, 0, "skipped", now, "warm-up")
    conn.execute(POSTPONE, {"row_id": 0, "at": now})
    _retry_or_die(conn, 0, 1, settings, now, "warm-up")


def _facts(conn: Connection, settings: Settings, row: Row[Any]) -> tuple[
        sendcheck.MessageFacts, sendcheck.AppointmentFacts | None, sendcheck.ParticipantFacts | None]:
    """Plain data for the check, read in this transaction (after the row lock)."""
    appointment = participant = None
    if row.a_id is not None:
        appointment = sendcheck.AppointmentFacts(status=row.a_status, version=row.a_version, start=row.a_start)
    if row.p_id is not None:
        participant = sendcheck.ParticipantFacts(withdrawn=row.p_withdrawn_at is not None,
                                                 sms_allowed=row.p_sms_allowed, email_allowed=row.p_email_allowed)
    opted_out = not_textable = False
    if row.channel == "sms" and row.to_address is not None:
        hashes = opt_out_hashes(settings, row.to_address)
        marks = conn.execute(NUMBER_MARKS, {"hashes": hashes}).all()
        found = {m.number_hash for m in marks if m.mark == "opted_out"}
        if found - {hashes[0]}:  # recorded under an earlier SECRET_KEY: keep it under the current one
            keep_under_current_key(conn, hashes, found, utcnow())
        opted_out, not_textable = bool(found), any(m.mark == "not_textable" for m in marks)
    offer_id = offer_of(row.kind, row.idempotency_key)
    offer_open = (None if offer_id is None
                  else conn.execute(OFFER_STATUS, {"offer_id": offer_id}).scalar() == "open")
    message = sendcheck.MessageFacts(
        kind=row.kind, channel=row.channel, recipient_kind=row.recipient_kind, is_reminder=row.is_reminder,
        appointment_version=row.appointment_version, deadline=row.deadline, number_opted_out=opted_out,
        number_not_textable=not_textable,
        confirms_opt_out=confirms_opt_out(row.kind, row.idempotency_key),
        address_current=row.p_id is None or row.to_address == (row.p_phone if row.channel == "sms" else row.p_email),
        offer_open=offer_open)
    return message, appointment, participant


def _retry_or_die(conn: Connection, row_id: int, attempts: int, settings: Settings, now: datetime,
                  error: str, at_least: timedelta | None = None) -> str:
    """Another attempt later (no earlier than `at_least`, the provider's Retry-After), or dead at the cap."""
    if attempts >= settings.message_max_attempts:
        _finish(conn, row_id, "dead", now, f"{error} (after {attempts} attempts)")
        return "dead"
    conn.execute(RETRY, {"row_id": row_id, "at": next_attempt(now, attempts, _rng, at_least=at_least),
                         "error": error[:300]})
    return "retry"


def _finish(conn: Connection, row_id: int, status: str, now: datetime, reason: str) -> None:
    conn.execute(FINISH, {"row_id": row_id, "status": status, "at": now, "error": reason[:300]})


def _error(kind: str, exc: Exception) -> str:
    code = getattr(exc, "code", None)
    text = str(exc)
    if code and code not in text:
        text = f"{text} (code {code})"
    return f"{kind}: {text}"
