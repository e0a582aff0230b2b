"""Notifications' side of what participants do on, and get for, their personal page.

- `SlotsOffered`: the participant gets a message at once, on every channel they allow, with their personal
  link to the offer and the moment it ends (notifications.offer_messages). Written in the offer's own
  transaction, so an offer that rolls back sends nothing; the send job checks again that the offer is still
  open and the participant still in (notifications.sendcheck).
- `ParticipantAnswered`: the appointment's mediators get a discreet notice (notifications.mediator_notices):
  coming, cannot come, or coming after all when they had said they could not. One notice per answer: the key
  holds the moment of the answer, so a repeated event writes nothing new and a later answer always does.
"""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import Settings
from core.db import utcnow
from notifications.mediator_notices import Notice, notify
from notifications.offer_messages import OfferFacts, offer_messages
from notifications.outbox import add_message
from notifications.planning import Office, channels
from scheduler import events
from scheduler.links import issue, link_url
from scheduler.models import Appointment, Attendance, Participant
from scheduler.participant_locks import lock_for_writing
from scheduler.participant_models import Offer


def on_slots_offered(settings: Settings, office: Office, session: Session, event: events.SlotsOffered) -> None:
    # The writer's lock first, then the details as committed now: a details change committing meanwhile
    # either comes before (and we read the new number) or after (and rewrites nothing of ours).
    lock_for_writing(session, [event.participant_id])
    participant = session.scalar(select(Participant).where(Participant.id == event.participant_id)
                                 .execution_options(populate_existing=True))
    offer = session.get(Offer, event.offer_id)
    if participant is None or offer is None or offer.status != "open" or participant.withdrawn_at is not None:
        return
    facts = OfferFacts(
        participant_id=participant.id, name=participant.name, language=participant.language,
        phone=participant.phone, email=participant.email, sms_allowed=participant.sms_allowed,
        email_allowed=participant.email_allowed, full_text=participant.full_text_opt_in,
        offer_id=offer.id, kind=offer.slots[0].kind if offer.slots else "meeting", expires_at=offer.expires_at)
    if not channels(facts):
        return  # scheduler.offers refuses such an offer; nothing to write, so no link either
    token = issue(session, participant.id, offer_id=offer.id)
    now = utcnow()
    for message in offer_messages(replace(facts, link=link_url(settings.public_base_url, token)), office):
        add_message(session, message, now)


def answer_reason(response: str, previous: str | None) -> str:
    """The notice's reason: "coming after all" when they had said they could not come."""
    return "coming_after_all" if response == "coming" and previous == "cannot_come" else response


def on_participant_answered(settings: Settings, session: Session, event: events.ParticipantAnswered) -> None:
    appointment = session.get(Appointment, event.appointment_id)
    attendance = session.get(Attendance, (event.appointment_id, event.participant_id))
    if appointment is None or attendance is None:
        return
    reason = answer_reason(event.response, event.previous)
    moment = attendance.responded_at or utcnow()
    notify(session, settings, appointment.mediators,
           Notice(f"answer:a{appointment.id}:p{event.participant_id}:{reason}:{moment:%Y%m%dT%H%M%S%f}", reason,
                  appointment.case.reference, event.participant_id, start=attendance.arrival or appointment.start,
                  appointment_id=appointment.id, via="page"), utcnow())
