"""Notifications' side of the scheduler's domain events.

Each handler runs inside the booking's transaction (core.events): it loads
the facts, asks `planning` what to send, and writes outbox rows — so a
booking that rolls back sends nothing, and one that commits cannot lose its
messages. Changing or cancelling an appointment withdraws its pending
messages in the same transaction; a withdrawn participant's at once. A
cancellation notice goes only to participants who were told of the
appointment (planning.announced): one whose confirmation had not left hears
nothing of it at all. What a participant has not been sent yet is written
again when their details change or a reassignment moves the version on
(notifications.replan): never the old address or text, and never again what
already went. A handler that writes participants' messages takes their locks
first (scheduler.participant_locks), so a details change committing meanwhile
cannot be missed.
"""
from __future__ import annotations

from dataclasses import replace
from email.utils import parseaddr
from functools import partial
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import Settings
from core.db import utcnow
from core.events import EventBus
from notifications.inbound_models import forget_stops
from notifications.outbox import (NewMessage, add_message, cancel_pending, last_row_of, supersede, went_about,
                                  went_to, withdraw_for_rewrite)
from notifications.planning import (ANNOUNCING, AppointmentFacts, MediatorFacts, Office, ParticipantFacts,
                                    callback_key, callback_message, cancellation_messages, mediator_messages,
                                    participant_messages, reminders)
from notifications import erasure, page_events, verdicts
from notifications.personal_links import planned_with_links, with_links
from notifications.replan import REWRITABLE, Unsent, Went, key_suffix, replanned, rewritten
from scheduler import events
from scheduler.models import Appointment, Attendance, Mediator, Participant, Room
from scheduler.participant_locks import lock_attendees, lock_for_writing

# A change of these is a decision about the participant's texts: SMS no longer off "because of a STOP".
STAFF_DECIDE_SMS = frozenset({"sms_allowed", "phone"})


def load_facts(session: Session, appointment_id: int, former: tuple[int, ...] = ()) -> AppointmentFacts:
    """The appointment's facts, its participants' details as committed now (not as the session last saw them).

    A writer calls this after lock_attendees: a details change that committed
    meanwhile must reach the messages it writes (scheduler.participant_locks).
    `former` adds participants a reschedule took off the appointment (to tell them it is off for them).
    """
    appointment = session.get(Appointment, appointment_id)
    assert appointment is not None, "events name appointments that exist in this transaction"
    session.scalars(select(Participant).join(Attendance).where(Attendance.appointment_id == appointment_id)
                    .execution_options(populate_existing=True)).all()
    place = None
    if appointment.room_id is not None:
        room = session.get(Room, appointment.room_id)
        assert room is not None
        place = f"{room.location.address}, {room.location.city}"
    present = [(a.participant, a.arrival or appointment.start, a.departure) for a in appointment.attendances]
    gone = [(p, appointment.start, None) for p in session.scalars(
        select(Participant).where(Participant.id.in_(former)).execution_options(populate_existing=True))]
    participants = tuple(ParticipantFacts(
        participant_id=p.id, name=p.name, language=p.language, phone=p.phone, email=p.email,
        sms_allowed=p.sms_allowed, email_allowed=p.email_allowed, full_text=p.full_text_opt_in, arrival=arrival,
        departure=departure, withdrawn=p.withdrawn_at is not None) for p, arrival, departure in present + gone)
    return AppointmentFacts(
        appointment_id=appointment.id, version=appointment.version, kind=appointment.kind, mode=appointment.mode,
        start=appointment.start, end=appointment.end, place=place, reference=appointment.case.reference,
        participants=participants, mediators=tuple(_mediator(m) for m in appointment.mediators),
        status=appointment.status, updated_at=appointment.updated_at,
        video_url=appointment.video_url or next((m.video_url for m in appointment.mediators if m.video_url), None))


def _mediator(m: Mediator) -> MediatorFacts:
    return MediatorFacts(m.id, m.name, m.email, m.language)


class NotificationSubscriber:
    """Holds the settings the handlers need; registered on the app's event bus."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        sender = settings.sms_sender or settings.twilio_phone_number or ""
        organizer_name, organizer_email = parseaddr(settings.mail_from)
        self.office = Office(tz=settings.tz, phone=settings.office_phone or "", quiet_start=settings.quiet_start,
                             quiet_end=settings.quiet_end, sms_replies=sender.startswith("+") or not sender,
                             organizer_email=organizer_email or "noreply@example.org",
                             organizer_name=organizer_name or "Afspraken",
                             uid_domain=urlparse(settings.public_base_url).hostname or "pendel.local")

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(events.AppointmentConfirmed, self.on_confirmed)
        bus.subscribe(events.AppointmentRescheduled, self.on_rescheduled)
        bus.subscribe(events.AppointmentCancelled, self.on_cancelled)
        bus.subscribe(events.AppointmentReassigned, self.on_reassigned)
        bus.subscribe(events.ParticipantWithdrew, self.on_withdrew)
        bus.subscribe(events.ParticipantDetailsChanged, self.on_details_changed)
        bus.subscribe(events.ParticipantDetailsChanged, verdicts.on_details_changed)  # a new number is textable
        bus.subscribe(events.CallbackRequested, self.on_callback_requested)
        bus.subscribe(events.CallbackUnreachable, self.on_callback_unreachable)
        bus.subscribe(events.SlotsOffered, partial(page_events.on_slots_offered, self.settings, self.office))
        bus.subscribe(events.ParticipantAnswered, partial(page_events.on_participant_answered, self.settings))
        bus.subscribe(events.ParticipantErasing, erasure.on_participant_erasing)
        bus.subscribe(events.CaseErasing, erasure.on_case_erasing)

    def _write(self, session: Session, messages: list) -> None:  # type: ignore[type-arg]
        now = utcnow()
        for message in messages:
            add_message(session, message, now)

    def _reminders(self, facts: AppointmentFacts) -> list:  # type: ignore[type-arg]
        return reminders(facts, self.office, self.settings.reminders_for(facts.kind), utcnow())

    def on_confirmed(self, session: Session, event: events.AppointmentConfirmed) -> None:
        lock_attendees(session, event.appointment_id)
        facts = load_facts(session, event.appointment_id)
        facts = with_links(session, self.settings.public_base_url, facts,
                           [p.participant_id for p in facts.participants])
        self._write(session, participant_messages("appointment_confirmed", facts, self.office)
                    + self._reminders(facts) + mediator_messages("confirmed", facts, self.office))

    def on_rescheduled(self, session: Session, event: events.AppointmentRescheduled) -> None:
        """One message per participant: "changed" to whom the appointment was announced, a confirmation to
        whom it is news (added now, or never told), the cancellation to whom a reshape took off (if told)."""
        lock_attendees(session, event.appointment_id)
        lock_for_writing(session, event.removed_participant_ids)
        cancel_pending(session, utcnow(), appointment_id=event.appointment_id)
        told = went_about(session, event.appointment_id, ANNOUNCING) - frozenset(event.added_participant_ids)
        facts = load_facts(session, event.appointment_id, former=event.removed_participant_ids)
        # Links for those still on it (a confirmation or a change, and reminders); who was taken off hears it is off.
        facts = with_links(session, self.settings.public_base_url, facts, {
            p.participant_id for p in facts.participants} - set(event.removed_participant_ids))
        now_in = replace(facts, participants=tuple(p for p in facts.participants
                                                   if p.participant_id not in event.removed_participant_ids))
        news = frozenset(p.participant_id for p in now_in.participants) - told
        gone = frozenset(event.removed_participant_ids)
        stay = tuple(m for m in facts.mediators if m.mediator_id not in event.added_mediator_ids)
        self._write(session, participant_messages("appointment_rescheduled", now_in, self.office, news)
                    + participant_messages("appointment_confirmed", now_in, self.office, told)
                    + cancellation_messages(replace(facts, participants=tuple(
                        p for p in facts.participants if p.participant_id in gone)), self.office, told)
                    + self._reminders(now_in) + mediator_messages("rescheduled", facts, self.office, mediators=stay)
                    + self._mediators_changed(session, facts, event))

    def _mediators_changed(self, session: Session, facts: AppointmentFacts,
                           event: events.AppointmentRescheduled) -> list:  # type: ignore[type-arg]
        added = tuple(m for m in facts.mediators if m.mediator_id in event.added_mediator_ids)
        removed = tuple(_mediator(m) for m in session.scalars(
            select(Mediator).where(Mediator.id.in_(event.removed_mediator_ids)).order_by(Mediator.id)))
        return (mediator_messages("reassigned_to_you", facts, self.office, mediators=added)
                + mediator_messages("reassigned_away", facts, self.office, mediators=removed))

    def on_cancelled(self, session: Session, event: events.AppointmentCancelled) -> None:
        lock_attendees(session, event.appointment_id)
        # First withdraw what has not gone (waiting for a send in progress), then see what did go.
        cancel_pending(session, utcnow(), appointment_id=event.appointment_id)
        told = went_about(session, event.appointment_id, ANNOUNCING)
        facts = load_facts(session, event.appointment_id)
        silent = frozenset(event.silent_participant_ids)
        self._write(session, cancellation_messages(facts, self.office, told, silent)
                    + mediator_messages("cancelled", facts, self.office, silent=bool(silent)))

    def on_reassigned(self, session: Session, event: events.AppointmentReassigned) -> None:
        lock_attendees(session, event.appointment_id)
        # The version moved on (the mediators' invitations need a new SEQUENCE), so what participants have
        # not been sent yet would be refused as stale: write it again for the new version. Nothing new for
        # them: who mediates is not in their messages.
        facts = load_facts(session, event.appointment_id)
        self._rewrite(session, facts)
        old = session.get(Mediator, event.from_mediator_id)
        new = session.get(Mediator, event.to_mediator_id)
        assert new is not None
        self._write(session, mediator_messages("reassigned_to_you", facts, self.office, mediators=(_mediator(new),))
                    + (mediator_messages("reassigned_away", facts, self.office, mediators=(_mediator(old),))
                       if old is not None else []))

    def on_details_changed(self, session: Session, event: events.ParticipantDetailsChanged) -> None:
        # A new number or email, a channel on or off, a withdrawn opt-in, another language: what has not gone
        # yet is planned again from today's details, never the old ones. What already went is not sent again.
        # update_participant holds the participant's lock (scheduler.participant_locks), so no writer's rows
        # from the old details can come in after this.
        now, pid = utcnow(), event.participant_id
        if STAFF_DECIDE_SMS.intersection(event.fields):
            forget_stops(session, [pid])  # SMS on or off is no longer a STOP's doing (inbound_models.SmsStop)
        unsent = [Unsent(**row._mapping)
                  for row in withdraw_for_rewrite(session, now, REWRITABLE, participant_id=pid)]
        tag = f"/p{last_row_of(session, pid)}"
        upcoming = session.scalars(select(Appointment.id).join(Attendance).where(
            Attendance.participant_id == pid, Appointment.status == "confirmed", Appointment.start > now))
        for appointment_id in sorted({u.appointment_id for u in unsent if u.appointment_id} | set(upcoming)):
            facts = load_facts(session, appointment_id)
            went = [Went(r.kind, r.channel, key_suffix(r.idempotency_key, r.kind), r.not_before, r.deadline)
                    for r in went_to(session, appointment_id, pid, REWRITABLE)]
            plan = (pid, [u for u in unsent if u.appointment_id == appointment_id], went, self.office,
                    self.settings.reminders_for(facts.kind), now, tag)
            self._write(session, planned_with_links(session, self.settings.public_base_url, facts,
                                                    lambda f, plan=plan: replanned(f, *plan)))

    def _rewrite(self, session: Session, facts: AppointmentFacts) -> None:
        """Cancel participants' messages about the appointment that have not gone yet and write each again."""
        now = utcnow()
        unsent = [Unsent(**row._mapping)
                  for row in withdraw_for_rewrite(session, now, REWRITABLE, appointment_id=facts.appointment_id)]

        def plan(f: AppointmentFacts) -> list[NewMessage]:
            return [m for m in (rewritten(u, f, self.office) for u in unsent) if m is not None]

        for message in planned_with_links(session, self.settings.public_base_url, facts, plan):
            add_message(session, message, now)

    def on_withdrew(self, session: Session, event: events.ParticipantWithdrew) -> None:
        cancel_pending(session, utcnow(), participant_id=event.participant_id)

    def on_callback_requested(self, session: Session, event: events.CallbackRequested) -> None:
        # A caller who calls again has the latest call's wishes: an earlier text still waiting (perhaps with
        # another window) does not go, and a new window gets a new text; the same wishes again change nothing.
        message = None
        if event.wants_confirmation and event.caller_number:
            message = callback_message("callback_confirmation", event.callback_id, event.caller_number,
                                       event.language, self.office, event.window_start, event.window_end)
        now = utcnow()
        key = callback_key(event.callback_id, "callback_confirmation")
        # The first call's text is one INSERT, as before (the phone line's last answer waits for it);
        # only when the key is taken does the older row have to make way.
        if message is not None and add_message(session, message, now) is not None:
            return
        if supersede(session, now, key, message) and message is not None:
            add_message(session, message, now)

    def on_callback_unreachable(self, session: Session, event: events.CallbackUnreachable) -> None:
        if event.texts_allowed and event.caller_number:
            self._write(session, [callback_message("callback_unreachable", event.callback_id, event.caller_number,
                                                   event.language, self.office)])


def subscribe(bus: EventBus, settings: Settings) -> None:
    NotificationSubscriber(settings).subscribe(bus)
