"""Discreet emails to mediators about something one of their participants did or missed.

A participant who texts STOP (or START, while staff keep their texts off),
answers a reminder ("I'll come", "I cannot come") or says so on their personal page, texts something Pendel
cannot read, whose SMS finally fails, or whose message was not sent because
their number or email changed after it was written, is the mediator's
to follow up personally: they get an email (kind `mediator_notice`) in the
same transaction as the change. The subject names neither the participant
nor the case; the body names the case reference and Pendel's participant
number, never the person. A notice about an appointment (a reply to its
reminder, a message about it that failed) carries the appointment's id, so
staff find it with the appointment (`/api/v1/messages?appointment_id=`), but
no version and no participant id: withdrawing an appointment's or a
participant's pending messages (a reschedule, a cancellation, a withdrawal)
leaves it, for it reports something that happened (outbox.cancel_pending).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy.orm import Session

from core.config import Settings
from notifications.outbox import NewMessage, add_message
from notifications.rendering import render
from notifications.models import OutboxMessage
from scheduler.models import Appointment, Mediator, Participant

REASONS = ("stop", "start", "start_sms_off", "coming", "cannot_come", "coming_after_all", "sms_reply", "sms_failed",
           "email_failed", "address_changed", "sms_unsubscribed", "sms_number_invalid")
MAX_QUOTED = 640          # an inbound SMS is at most a few segments; cut anything longer


@dataclass(frozen=True)
class Notice:
    key: str                       # idempotency key stem; the mediator id is appended
    reason: str
    reference: str                 # the case reference
    participant_id: int
    start: datetime | None = None  # the appointment it is about, if any (UTC-aware)
    text: str | None = None        # the participant's own words (sms_reply only)
    error: str | None = None       # the provider's error code (sms_failed only)
    appointment_id: int | None = None  # the appointment it is about, if any: the row is linked to it
    via: str = "sms"               # an answer (coming, cannot_come…): "sms" replied to a reminder, "page" on theirs


def notify(session: Session, settings: Settings, mediators: Iterable[Mediator], notice: Notice,
           now: datetime) -> int:
    """Queue one notice per active mediator; a retried webhook queues nothing new. Returns how many."""
    if notice.reason not in REASONS:
        raise ValueError(f"unknown notice reason {notice.reason!r}")
    queued = 0
    for mediator in mediators:
        if not mediator.active or not mediator.email:
            continue
        rendered = render("email", "mediator_notice", mediator.language, {  # in the mediator's own language
            "name": mediator.name, "reason": notice.reason, "reference": notice.reference,
            "participant_id": notice.participant_id,
            "start": notice.start.astimezone(settings.tz) if notice.start else None,
            "text": notice.text[:MAX_QUOTED] if notice.text else None, "error": notice.error, "via": notice.via,
            "pendel_url": settings.public_base_url})
        row_id = add_message(session, NewMessage(
            key=f"{notice.key}:m{mediator.id}", kind="mediator_notice", channel="email",
            recipient_kind="mediator", to=mediator.email, language=mediator.language, body=rendered.text,
            subject=rendered.subject, html_body=rendered.html, mediator_id=mediator.id,
            appointment_id=notice.appointment_id), now)
        queued += row_id is not None
    return queued


def _about(session: Session, row_id: int) -> tuple[OutboxMessage, Participant, Appointment | None] | None:
    """A participant's outbox row, its participant and its appointment (None if the row is not a participant's)."""
    row = session.get(OutboxMessage, row_id)
    if row is None or row.recipient_kind != "participant" or row.participant_id is None:
        return None
    participant = session.get(Participant, row.participant_id)
    if participant is None:
        return None
    return row, participant, session.get(Appointment, row.appointment_id) if row.appointment_id else None


def notify_failed_message(session: Session, settings: Settings, row_id: int, now: datetime,
                          reason: str | None = None) -> int:
    """A participant's message finally failed (dead): their case's mediators get one notice.

    `reason` when the failure says what it means (notifications.verdicts: the number unsubscribed, or is
    invalid); sms_failed or email_failed otherwise.
    """
    about = _about(session, row_id)
    if about is None:
        return 0
    row, participant, appointment = about
    reason = reason or ("sms_failed" if row.channel == "sms" else "email_failed")
    return notify(session, settings, participant.case.mediators,
                  Notice(f"dead:{row.id}", reason, participant.case.reference, participant.id,
                         start=appointment.start if appointment else None,
                         error=(row.last_error or "")[:80] or None,
                         appointment_id=appointment.id if appointment else None), now)


def notify_address_changed(session: Session, settings: Settings, row_id: int, now: datetime) -> int:
    """The send job skipped a participant's message: its address is no longer theirs (address_changed).

    A details change writes waiting messages again to the new address at once,
    so this is rare; but then the participant may miss something, and their
    mediators hear of it: one notice per appointment version (a skipped
    confirmation and its reminders are one thing to follow up), or per row
    for a message about no appointment.
    """
    about = _about(session, row_id)
    if about is None:
        return 0
    row, participant, appointment = about
    key = (f"address:p{participant.id}:a{appointment.id}:v{row.appointment_version}" if appointment
           else f"address:{row.id}")
    return notify(session, settings, participant.case.mediators,
                  Notice(key, "address_changed", participant.case.reference, participant.id,
                         start=appointment.start if appointment else None,
                         appointment_id=appointment.id if appointment else None), now)
