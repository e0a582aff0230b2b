"""What an inbound SMS does: STOP/START, a reply to a reminder, or a polite "we can't read this".

Our own keyword handling, because Twilio's keywords are English only. Each
message is processed once: its MessageSid goes into `inbound_messages` first,
so a Twilio retry finds it and changes nothing. Everything happens in the
caller's transaction, and every answer to the sender is an outbox row (kind
`auto_reply`), so it is retried, visible to staff and purged like any other
message. Neither the number nor the text is stored here or logged.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Sequence

import phonenumbers
from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.orm import Session

from core import audit
from core.config import Settings
from core.events import publish
from notifications.inbound_models import (STOP_CONFIRMATION, InboundMessage, SmsOptOut, forget_stops,
                                          keep_under_current_key, number_hash, opt_out_hashes, record_opt_out,
                                          record_stop, reply_key, stopped)
from notifications.mediator_notices import Notice, notify
from notifications.models import OPEN_STATUSES, OutboxMessage
from notifications.outbox import NewMessage, add_message
from notifications.rendering import render
from notifications.sms import segments
from scheduler.events import ParticipantDetailsChanged
from scheduler.models import Appointment, Attendance, Participant
from scheduler.participant_locks import lock_for_details_change

# Twilio itself answers these on a long code and then refuses to send to the number (error 21610)
# until START: we follow its block, and queue no confirmation of our own that would only fail.
TWILIO_STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
STOP_WORDS = TWILIO_STOP_WORDS | {"stoppen", "afmelden"}
START_WORDS = frozenset({"start", "unstop"})
# Twilio's third opt-in keyword: after a stop, Twilio re-subscribes a number that texts YES.
TWILIO_YES = "yes"
YES_WORDS = frozenset({"1", "ja", "yes"})
NO_WORDS = frozenset({"2", "nee", "no"})


@dataclass(frozen=True)
class Inbound:
    sid: str
    sender: str | None   # E.164, or None when the sender is no phone number (short code, name)
    raw_sender: str
    body: str


def normalize_sender(raw: str) -> str | None:
    """E.164 (default region NL, as participants' numbers are stored), or None."""
    try:
        number = phonenumbers.parse(raw, "NL")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def sender_hash(settings: Settings, sender: str) -> str:
    """Keyed hash: a plain SHA-256 of a phone number is reversed by trying every number."""
    return number_hash(settings.secret_key, sender)


def _word(body: str) -> str:
    return body.strip().rstrip(".!").strip().casefold()


def classify(body: str) -> str:
    """What the text asks, if it is one word we understand alone in the message."""
    word = _word(body)
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in YES_WORDS:
        return "reply_yes"
    if word in NO_WORDS:
        return "reply_no"
    return "unknown"


def receive(session: Session, settings: Settings, msg: Inbound, now: datetime) -> InboundMessage | None:
    """Process one inbound SMS once; None when this MessageSid was processed before (a retry)."""
    if session.scalar(select(InboundMessage.id).where(InboundMessage.message_sid == msg.sid)) is not None:
        return None
    row = InboundMessage(message_sid=msg.sid, from_hash=sender_hash(settings, msg.sender or msg.raw_sender),
                         received_at=now, kind=classify(msg.body), handled=False)
    session.add(row)
    session.flush()  # a concurrent retry of the same message now waits here, then fails on the unique SID
    opted_out = msg.sender is not None and _opted_out(session, settings, msg.sender, now)
    if row.kind == "reply_yes" and opted_out and _word(msg.body) == TWILIO_YES:
        row.kind = "start"  # Twilio has just re-subscribed the number: so do we, not "I'm coming"
    people: list[Participant] = []
    if msg.sender is not None:
        people = list(session.scalars(select(Participant).where(Participant.phone == msg.sender)
                                      .order_by(Participant.id).with_for_update(key_share=True)))
    if row.kind == "stop":
        row.handled = _stop(session, settings, msg, row.from_hash, people, now) or not opted_out
    elif row.kind == "start":
        row.handled = _start(session, settings, msg, people, opted_out, now)
    elif row.kind in ("reply_yes", "reply_no"):
        row.handled = _reply(session, settings, msg, people, row.kind == "reply_yes", now)
        if not row.handled:
            row.kind = "unknown"  # nothing to answer: for us it is text we cannot read
    if row.kind == "unknown":
        row.handled = _unknown(session, settings, msg, row, people, opted_out, now)
    session.flush()
    return row


def _answer(session: Session, settings: Settings, msg: Inbound, name: str, people: Sequence[Participant],
            now: datetime, context: dict[str, object] | None = None, participant: Participant | None = None) -> None:
    """Queue an SMS back to the sender, in their language, or Dutch with an English line if unknown."""
    if msg.sender is None:
        return
    context = {"office_phone": settings.office_phone, **(context or {})}
    languages = {p.language for p in people}
    if len(languages) == 1:
        language = languages.pop()
        body = render("sms", name, language, context).text
    else:
        language = "nl"
        body = render("sms", name, "nl", context).text + "\n" + render("sms", name, "en", context).text
    # A stop/start confirmation names no participant: the send-time check must not hold it back
    # because SMS is now off; an answer that does name one is held back if they withdrew or opted out.
    # The number's own opt-out holds back every text to it but the stop confirmation (STOP_CONFIRMATION).
    add_message(session, NewMessage(
        key=reply_key(msg.sid, name), kind="auto_reply", channel="sms",
        recipient_kind="participant" if participant else "caller", to=msg.sender, language=language, body=body,
        participant_id=participant.id if participant else None, segments=segments(body)), now)


def _stop(session: Session, settings: Settings, msg: Inbound, from_hash: str, people: list[Participant],
          now: datetime) -> bool:
    changed = [p for p in people if p.sms_allowed]
    for participant in changed:
        participant.sms_allowed = False
        record_stop(session.connection(), participant.id, now)  # so that a START may switch it on again
        audit.record(session, None, "participant.sms_stopped", "participant", participant.id, "inbound SMS")
    if msg.sender is not None:  # nothing more by SMS to this number: participants' messages and callers' alike
        record_opt_out(session.connection(), from_hash, now)
        targets = [OutboxMessage.to_address == msg.sender]
        if people:
            targets.append(OutboxMessage.participant_id.in_([p.id for p in people]))
        session.execute(update(OutboxMessage)
                        .where(OutboxMessage.status.in_(OPEN_STATUSES), OutboxMessage.channel == "sms", or_(*targets))
                        .values(status="cancelled", finished_at=now, lease_until=None))
    if _word(msg.body) not in TWILIO_STOP_WORDS:
        _answer(session, settings, msg, STOP_CONFIRMATION, people, now)
    for participant in changed:
        notify(session, settings, participant.case.mediators,
               Notice(f"sms-in:{msg.sid}:stop:p{participant.id}", "stop", participant.case.reference,
                      participant.id), now)
    return bool(people)


def _start(session: Session, settings: Settings, msg: Inbound, people: list[Participant], opted_out: bool,
           now: datetime) -> bool:
    """Lift the number's opt-out, and switch SMS on again for the participants its STOP switched off.

    A participant whom staff set to "no SMS" stays so (SmsStop): START speaks
    for the number, not for consent staff recorded. Their mediators hear that
    the number asked, so they can decide. Returns whether anything changed.
    """
    if msg.sender is not None:
        session.execute(delete(SmsOptOut).where(SmsOptOut.number_hash.in_(opt_out_hashes(settings, msg.sender))))
    off_by_stop = stopped(session, [p.id for p in people])
    forget_stops(session, off_by_stop)
    changed = [p for p in people if not p.sms_allowed and p.id in off_by_stop]
    # The opt-out withdrew the texts waiting for the number, also those of participants whose SMS stayed
    # on (the provider reported the number unsubscribed: notifications.verdicts): theirs come back too.
    still_on = [p for p in people if opted_out and p.sms_allowed and p.withdrawn_at is None]
    for participant in changed + still_on:
        # As when staff switch texts back on: their upcoming reminders are planned again on SMS,
        # under the participant's lock against writers of their messages (participant_locks).
        lock_for_details_change(session, participant.id, now)
        fields: tuple[str, ...] = ()
        if participant in changed:
            participant.sms_allowed, fields = True, ("sms_allowed",)
            session.flush()
            audit.record(session, None, "participant.sms_started", "participant", participant.id, "inbound SMS")
        publish(session, ParticipantDetailsChanged(participant.id, participant.case_id, fields, None))
    kept_off = [p for p in people if not p.sms_allowed and p.withdrawn_at is None]
    for participant, reason in [(p, "start") for p in changed] + [(p, "start_sms_off") for p in kept_off]:
        notify(session, settings, participant.case.mediators,
               Notice(f"sms-in:{msg.sid}:{reason}:p{participant.id}", reason, participant.case.reference,
                      participant.id), now)
    if opted_out or off_by_stop:
        _answer(session, settings, msg, "start_confirmed", people, now)
    elif _may_answer(people):  # it never stopped: nothing to turn back on, and no promise that there was
        _answer(session, settings, msg, "start_not_stopped", people, now)
    return opted_out or bool(changed)


def _reply(session: Session, settings: Settings, msg: Inbound, people: list[Participant], coming: bool,
           now: datetime) -> bool:
    """Record 1/2 on the sender's next confirmed appointment; False when there is none."""
    ids = [p.id for p in people if p.withdrawn_at is None]
    if not ids:
        return False
    attendance = session.scalar(
        select(Attendance).join(Appointment)
        .where(Attendance.participant_id.in_(ids), Appointment.status == "confirmed", Appointment.start > now)
        .order_by(Appointment.start, Appointment.id).limit(1).with_for_update(of=Attendance))
    if attendance is None:
        return False
    response = "coming" if coming else "cannot_come"
    previous = attendance.response
    attendance.response, attendance.responded_at = response, now
    if previous == response:
        return True  # said before: nothing new for the mediator, no second thanks
    participant, appointment = attendance.participant, attendance.appointment
    _answer(session, settings, msg, "reply_received", [participant], now, {"response": response}, participant)
    reason = response if previous != "cannot_come" else "coming_after_all"
    notify(session, settings, appointment.mediators,
           Notice(f"sms-in:{msg.sid}:{reason}:a{appointment.id}", reason, appointment.case.reference,
                  participant.id, start=attendance.arrival or appointment.start,
                  appointment_id=appointment.id), now)
    return True


def _unknown(session: Session, settings: Settings, msg: Inbound, row: InboundMessage,
             people: list[Participant], opted_out: bool, now: datetime) -> bool:
    """Tell the mediators what their participant wrote; answer the sender at most once a local day."""
    for participant in people:
        notify(session, settings, participant.case.mediators,
               Notice(f"sms-in:{msg.sid}:reply:p{participant.id}", "sms_reply", participant.case.reference,
                      participant.id, text=msg.body.strip() or None), now)
    if msg.sender is None or opted_out:
        return False
    if not _may_answer(people):
        return False
    reachable = _reachable(people)
    _lock_sender(session, row.from_hash)
    local = now.astimezone(settings.tz)
    day_start = datetime.combine(local.date(), time(0), tzinfo=settings.tz)
    answered = session.scalar(select(InboundMessage.id).where(
        InboundMessage.from_hash == row.from_hash, InboundMessage.kind == "unknown",
        InboundMessage.handled.is_(True), InboundMessage.id != row.id, InboundMessage.received_at >= day_start))
    if answered is not None:
        return False
    _answer(session, settings, msg, "auto_reply", reachable, now, participant=reachable[0] if reachable else None)
    return True


def _reachable(people: Sequence[Participant]) -> list[Participant]:
    return [p for p in people if p.sms_allowed and p.withdrawn_at is None]


def _may_answer(people: Sequence[Participant]) -> bool:
    """Whether an answer we were not asked for may go to the number: not when everyone on it has SMS
    off or withdrew (a text might be read by someone else); a number of no participant may hear from us."""
    return not people or bool(_reachable(people))


def _opted_out(session: Session, settings: Settings, sender: str, now: datetime) -> bool:
    """Whether the number opted out, under SECRET_KEY or an earlier key (then kept under the current one)."""
    hashes = opt_out_hashes(settings, sender)
    found = set(session.scalars(select(SmsOptOut.number_hash).where(SmsOptOut.number_hash.in_(hashes))))
    if found:
        keep_under_current_key(session.connection(), hashes, found, now)
    return bool(found)


def _lock_sender(session: Session, from_hash: str) -> None:
    """Serialise the once-a-day check per sender across processes (SQLite's write lock already does)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(from_hash[:15], 16)})
