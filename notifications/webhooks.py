"""Twilio's SMS webhooks: message status callbacks and inbound messages.

Both are signed (core.twilio_signature) and both may arrive late, twice or
out of order — Twilio retries, and its status callbacks race each other — so
each is written to change the database at most once and never backwards:

- `POST /telephony/sms/status` moves the outbox row forward only
  (queued < sending < sent < delivered | undelivered | failed, the last three
  final). A participant's SMS that finally fails becomes `undelivered` and
  their mediators get a notice, once. A failure whose code is a verdict on
  the number (unsubscribed, invalid: notifications.verdicts) also holds back
  every text still waiting for that number, as at the send.
- `POST /telephony/sms` handles the text (notifications.inbound_sms) once per
  MessageSid and answers with empty TwiML: our own answers go through the
  outbox like every other message.

Nothing personal reaches the log: no numbers, no text.
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import Blueprint, Response, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from twilio.twiml.messaging_response import MessagingResponse

from core.config import Settings
from core.db import utcnow
from core.runtime import current
from core.twilio_signature import twilio_signed
from notifications import verdicts
from notifications.inbound_sms import Inbound, normalize_sender, receive
from notifications.mediator_notices import Notice, notify
from notifications.models import OutboxMessage
from scheduler.models import Appointment, Participant

log = logging.getLogger(__name__)
sms_webhooks_bp = Blueprint("sms_webhooks", __name__)

# Twilio's message statuses in the order they can happen; the last rank is final.
PROVIDER_RANK = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3,
                 "delivered": 4, "undelivered": 4, "failed": 4}
FINAL_RANK = 4
# The outbox row follows for these; "failed" after sending is undelivered to us (not a send error).
ROW_STATUS = {"sent": "sent", "delivered": "delivered", "undelivered": "undelivered", "failed": "undelivered"}
# Rows not listed (cancelled, skipped) are never touched; dead is final like delivered.
ROW_RANK = {"pending": 0, "queued": 0, "sent": 1, "delivered": 2, "undelivered": 2, "dead": 2}


def _twiml(response: MessagingResponse) -> Response:
    return Response(str(response), status=200, mimetype="text/xml")


def _error_code(raw: str | None) -> str | None:
    """Twilio's numeric error code, or None; nothing else from the request goes on the row."""
    code = "".join(ch for ch in (raw or "") if ch.isalnum())[:10]
    return code or None


def apply_status(session: Session, settings: Settings, sid: str, status: str, error_code: str | None,
                 now: datetime, message_id: int | None = None) -> bool:
    """Move the row with this provider id forward; False when nothing changed (unknown, late, repeated).

    `message_id` (our row id, in the callback URL we give Twilio) lets an early
    callback wait for the send job: the job holds the row's lock from before
    the provider call until it commits the provider id, so locking the row by
    id first means a "failed" that outruns that commit is applied, not lost.
    """
    rank = PROVIDER_RANK.get(status)
    if rank is None:
        return False
    row = None
    if message_id is not None:
        row = session.get(OutboxMessage, message_id, with_for_update=True, populate_existing=True)
        if row is not None and row.provider_id != sid:
            row = None  # another attempt's message, or a forged id: fall back to the provider id
    if row is None:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.provider_id == sid)
                             .order_by(OutboxMessage.id).limit(1).with_for_update())
    if row is None:
        return False
    current_rank = PROVIDER_RANK.get(row.provider_status or "", -1)
    if current_rank >= FINAL_RANK or rank <= current_rank:
        return False
    row.provider_status = status
    new_status = ROW_STATUS.get(status)
    if new_status is None or ROW_RANK[new_status] <= ROW_RANK.get(row.status, FINAL_RANK):
        return True
    row.status = new_status
    row.lease_until = None
    if new_status in ("sent", "delivered") and row.sent_at is None:
        row.sent_at = now
    if ROW_RANK[new_status] == 2:
        row.finished_at = now
    if new_status == "undelivered":
        row.last_error = f"{status} at the provider" + (f" (error {error_code})" if error_code else "")
        verdict = verdicts.verdict_for(error_code)
        if verdict is not None and row.to_address is not None:
            session.flush()  # this row first: it is no longer waiting
            verdicts.apply(session.connection(), settings, verdict, row.to_address,
                           row.participant_id if row.recipient_kind == "participant" else None, error_code, now)
        _tell_mediators(session, settings, row, sid, error_code, now,
                        verdicts.NOTICE_REASON.get(verdict or "", "sms_failed"))
    return True


def _tell_mediators(session: Session, settings: Settings, row: OutboxMessage, sid: str, error_code: str | None,
                    now: datetime, reason: str) -> None:
    """A message to a participant finally failed: their mediators must know (not for our own auto-replies)."""
    if row.recipient_kind != "participant" or row.participant_id is None or row.kind == "auto_reply":
        return
    participant = session.get(Participant, row.participant_id)
    if participant is None:
        return
    appointment = session.get(Appointment, row.appointment_id) if row.appointment_id else None
    notify(session, settings, participant.case.mediators,
           Notice(f"sms-failed:{sid}", reason, participant.case.reference, participant.id,
                  start=appointment.start if appointment else None, error=error_code), now)


@sms_webhooks_bp.post("/telephony/sms/status")
@twilio_signed
def sms_status() -> Response:
    """Twilio's status callback for a message we sent."""
    form = request.form
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if sid and status:
        runtime = current()
        with runtime.db.write_session() as session:
            changed = apply_status(session, runtime.settings, sid, status, _error_code(form.get("ErrorCode")),
                                   utcnow(), request.args.get("message", type=int))
        log.info("sms status %s for %s: %s", status, sid, "applied" if changed else "no change")
    return _twiml(MessagingResponse())


@sms_webhooks_bp.post("/telephony/sms")
@twilio_signed
def sms_inbound() -> Response:
    """An SMS sent to our number. The answer is empty TwiML; replies go through the outbox."""
    form = request.form
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not sid:
        return Response("Bad request", status=400, mimetype="text/plain")
    raw_sender = form.get("From", "")
    msg = Inbound(sid=sid, sender=normalize_sender(raw_sender) if raw_sender else None, raw_sender=raw_sender,
                  body=form.get("Body", ""))
    runtime = current()
    try:
        with runtime.db.write_session() as session:
            row = receive(session, runtime.settings, msg, utcnow())
            outcome = "repeat" if row is None else f"{row.kind}, handled={row.handled}"
    except IntegrityError:
        outcome = "repeat (concurrent)"  # the same MessageSid, processed by a parallel retry
    log.info("inbound sms %s: %s", sid, outcome)
    return _twiml(MessagingResponse())
