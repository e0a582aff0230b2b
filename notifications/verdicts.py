"""The SMS provider's verdict on a number, and what it means for every text still to go to it.

Some of Twilio's refusals are about the number, not the message, and hold for
every later text just as much:

- 21610, the number unsubscribed at the carrier (it texted STOP to our
  sender, perhaps before Pendel heard of it): an opt-out of the number,
  recorded as a STOP records it (`sms_opt_outs`); a START lifts it again;
- 21211 and the other invalid-number codes: the number cannot take texts as
  it is. It is marked not textable (`sms_untextable_numbers`), keyed to the
  number, so staff fixing the number is what lifts it.

Either way the texts still waiting for that number are cancelled at once —
not left to fail one by one, reminders included — and the participant's
mediators are told what it means: the person unsubscribed (nothing to check),
or the number needs checking. The send job and the status webhook apply a
verdict where it arrives, in their own transaction, through `apply`.

Waiting texts are cancelled with SKIP LOCKED: a row another send job holds
right now is that job's to finish (its own send gets the same verdict, or its
check finds the mark), and two jobs that got the verdict at once never wait
on each other's rows.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.orm import Session

from core.config import Settings
from core.db import insert_unless_exists
from notifications.inbound_models import opt_out_hashes, record_opt_out
from notifications.models import OPEN_STATUSES, OutboxMessage, SmsUntextableNumber
from scheduler import events

UNSUBSCRIBED = "unsubscribed"
NUMBER_INVALID = "number_invalid"
UNSUBSCRIBED_CODES = frozenset({"21610"})
INVALID_NUMBER_CODES = frozenset({
    "21211",  # invalid 'To' phone number
    "21217",  # the phone number does not appear to be valid
    "21401",  # invalid phone number
    "21407",  # this phone number type does not support SMS
    "21421",  # the phone number is invalid
    "21614",  # 'To' number is not a valid mobile number
    "30005",  # (status callback) unknown destination handset: the number does not exist
    "30006",  # (status callback) landline or unreachable carrier
})
# The mediators' notice for each verdict (notifications.mediator_notices.REASONS).
NOTICE_REASON = {UNSUBSCRIBED: "sms_unsubscribed", NUMBER_INVALID: "sms_number_invalid"}
# Why the waiting texts were cancelled (last_error: a reason, never a number).
_CANCELLED = {UNSUBSCRIBED: "cancelled: number unsubscribed at the provider",
              NUMBER_INVALID: "cancelled: number not textable"}

_m = OutboxMessage.__table__
_u = SmsUntextableNumber.__table__


def verdict_for(code: str | None) -> str | None:
    """UNSUBSCRIBED, NUMBER_INVALID, or None for a code that says nothing about the number."""
    if code in UNSUBSCRIBED_CODES:
        return UNSUBSCRIBED
    if code in INVALID_NUMBER_CODES:
        return NUMBER_INVALID
    return None


def apply(conn: Connection, settings: Settings, verdict: str, number: str, participant_id: int | None,
          code: str | None, now: datetime) -> int:
    """Record the verdict on `number` and cancel the texts still waiting for it; how many were cancelled.

    `participant_id`: whose message brought the verdict (None for a caller's), so that a new number of
    theirs clears a NUMBER_INVALID mark.
    """
    current_hash = opt_out_hashes(settings, number)[0]
    if verdict == UNSUBSCRIBED:
        record_opt_out(conn, current_hash, now)
    else:
        conn.execute(insert_unless_exists(conn.dialect.name, _u, ("number_hash",), ("number_hash",)),
                     {"number_hash": current_hash, "participant_id": participant_id,
                      "error_code": (code or "")[:10] or None, "created_at": now})
    waiting = conn.execute(
        select(_m.c.id).where(_m.c.status.in_(OPEN_STATUSES), _m.c.channel == "sms", _m.c.to_address == number)
        .with_for_update(skip_locked=True)).scalars().all()
    if not waiting:
        return 0
    conn.execute(update(_m).where(_m.c.id.in_(waiting), _m.c.status.in_(OPEN_STATUSES))
                 .values(status="cancelled", finished_at=now, lease_until=None, last_error=_CANCELLED[verdict]))
    return len(waiting)


def forget_for(session: Session, participant_id: int) -> None:
    """The participant's number changed: a mark their old number got is theirs to lift, not to keep."""
    session.execute(delete(SmsUntextableNumber).where(SmsUntextableNumber.participant_id == participant_id))


def on_details_changed(session: Session, event: events.ParticipantDetailsChanged) -> None:
    """Subscriber: a new number is textable until the provider says otherwise."""
    if "phone" in event.fields:
        forget_for(session, event.participant_id)


def purge(session: Session, now: datetime, retention_days: int) -> int:
    """Marks older than the retention period go (a number is reassigned in time); how many."""
    result = session.execute(delete(SmsUntextableNumber)
                             .where(SmsUntextableNumber.created_at < now - timedelta(days=retention_days)))
    return result.rowcount or 0
