"""Messages that did not arrive: why, in a word staff can act on, and sending one again.

A message ends `dead` when its channel refused it for good or it ran out of
attempts, and `undelivered` when the SMS provider accepted it but later said
it never arrived. `reason_of` reads the row's `last_error` (codes and stages
only, never an address: notifications.jobs and .webhooks write it) and says
which of a few reasons it was; the staff page words each one.

`send_again` writes the message anew, as it was (kind, text, appointment
version, deadline), to the address the recipient has NOW: a participant's
number or email fixed since (through scheduler.casework, which lifts the
number's not-textable mark and re-addresses what was still waiting) is where
it goes. The new row is checked at once with the very check the send job
makes (notifications.sendcheck, through jobs' own statements), so staff hear
straight away when it cannot go (the appointment moved on, the participant
stopped, texts are off, the number is still marked): nothing is written then.
The new row's key names the old row, so a double click writes one message and
the dead row, which stays as history, leaves the list of what still needs
attention.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Select, String, cast, exists, select
from sqlalchemy.orm import Session, aliased

from core import audit
from core.config import Settings
from core.models import User
from core.problems import Conflict, NotFound
from notifications import sendcheck
from notifications.jobs import LOAD_ROW, _facts
from notifications.models import OutboxMessage
from notifications.outbox import NewMessage, add_message
from scheduler.models import Mediator, Participant

FAILED = ("dead", "undelivered")
REASONS = ("number_invalid", "not_mobile", "unsubscribed", "mailbox_unknown", "rejected", "too_many_attempts",
           "other")

UNSUBSCRIBED_CODES = frozenset({"21610"})
NOT_MOBILE_CODES = frozenset({"21407", "21614", "30006"})            # a landline, or no SMS on that number
INVALID_CODES = frozenset({"21211", "21217", "21401", "21421", "30005"})  # no such number
REJECTED_CODES = frozenset({"30004", "30007", "21408", "21612"})      # blocked, filtered, not permitted
_TWILIO_CODE = re.compile(r"\berror (\d{5})\b|\(code (\d{5})\)")
_SMTP = re.compile(r"\bSMTP (\d{3})(?: (\d\.\d{1,3}\.\d{1,3}))?")


def reason_of(last_error: str | None) -> str:
    """One of REASONS for a failed row's `last_error`."""
    text = last_error or ""
    if "(after " in text and " attempts)" in text or "job lost" in text:
        return "too_many_attempts"
    found = _TWILIO_CODE.search(text)
    if found:
        code = found.group(1) or found.group(2)
        if code in UNSUBSCRIBED_CODES:
            return "unsubscribed"
        if code in NOT_MOBILE_CODES:
            return "not_mobile"
        if code in INVALID_CODES:
            return "number_invalid"
        if code in REJECTED_CODES or text.startswith("permanent: Twilio HTTP 4"):
            return "rejected"
        return "other"
    smtp = _SMTP.search(text)
    if smtp and smtp.group(1).startswith("5"):
        enhanced = smtp.group(2) or ""
        if enhanced.startswith("5.1.") or (not enhanced and smtp.group(1) in ("550", "551", "553")):
            return "mailbox_unknown"
        return "rejected"
    return "other"


def again_key(row: OutboxMessage) -> str:
    """The key of the row that sends `row` again (at most one: the outbox's keys are unique)."""
    key = f"{row.idempotency_key}/again{row.id}"
    return key if len(key) <= 200 else f"again:{row.id}"


def failed_messages() -> Select[tuple[OutboxMessage]]:
    """Failed messages that still need someone: not sent again yet, content not yet purged; newest first."""
    again = aliased(OutboxMessage)
    m = OutboxMessage
    sent_again = exists().where(again.idempotency_key.in_([
        m.idempotency_key + "/again" + cast(m.id, String), "again:" + cast(m.id, String)]))
    return (select(m).where(m.status.in_(FAILED), m.purged_at.is_(None), ~sent_again)
            .order_by(m.finished_at.desc().nulls_last(), m.id.desc()))


class CannotSendAgain(Conflict):
    """Why the message cannot go again; `reason` a word for the page (see REFUSALS in desk_messages)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail, errors=[{"field": "message", "message": reason}])
        self.reason = reason


def _current_address(session: Session, row: OutboxMessage) -> str:
    if row.recipient_kind == "participant":
        participant = session.get(Participant, row.participant_id) if row.participant_id else None
        if participant is None:
            raise CannotSendAgain("recipient_gone", "the participant no longer exists")
        address = participant.phone if row.channel == "sms" else participant.email
    elif row.recipient_kind == "mediator":
        mediator = session.get(Mediator, row.mediator_id) if row.mediator_id else None
        address = mediator.email if mediator is not None and mediator.active else None
    else:  # a caller: the number that called, as it was
        address = row.to_address
    if not address:
        raise CannotSendAgain("no_address", "the recipient has no address on this channel")
    return address


def send_again(session: Session, settings: Settings, actor: User, row_id: int, now: datetime) -> int:
    """Write a failed message again to its recipient's current address; the new row's id.

    In the caller's write transaction; CannotSendAgain (nothing written) when it
    may not or cannot go. Only the office sends messages again.
    """
    if not actor.sees_all_cases:
        raise NotFound(f"message {row_id} not found")
    row = session.get(OutboxMessage, row_id, with_for_update=True)
    if row is None:
        raise NotFound(f"message {row_id} not found")
    if row.status not in FAILED:
        raise CannotSendAgain("not_failed", "only a message that did not arrive is sent again")
    if row.body is None or row.purged_at is not None:
        raise CannotSendAgain("purged", "the message's content is no longer kept")
    new_id = add_message(session, NewMessage(
        key=again_key(row), kind=row.kind, channel=row.channel, recipient_kind=row.recipient_kind,
        to=_current_address(session, row), language=row.language, body=row.body, subject=row.subject,
        html_body=row.html_body, attachment_ics=row.attachment_ics, participant_id=row.participant_id,
        mediator_id=row.mediator_id, appointment_id=row.appointment_id,
        appointment_version=row.appointment_version, is_reminder=row.is_reminder, not_before=now,
        deadline=row.deadline, segments=row.segments), now)
    if new_id is None:
        raise CannotSendAgain("already_sent_again", "this message was already sent again")
    # The send job's own check, on the new row, now: what it would refuse is refused here, and rolled back.
    conn = session.connection()
    loaded = conn.execute(LOAD_ROW, {"row_id": new_id}).first()
    assert loaded is not None
    decision = sendcheck.check(*_facts(conn, settings, loaded), now=now, quiet=sendcheck.QuietHours(
        settings.quiet_start, settings.quiet_end, settings.tz))
    if decision.action in ("skip", "cancel"):
        raise CannotSendAgain(decision.reason, f"the message cannot go: {decision.reason}")
    audit.record(session, actor.id, "message.sent_again", "message", new_id, f"from={row.id}")
    return new_id
