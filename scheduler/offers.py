"""Slots offered to a participant to choose from: make, choose, withdraw, lapse — each in the caller's write
transaction (`Database.write_session()`).

Every slot is an ordinary hold (scheduler.booking.book with `hold_for`), so it passes the same rules as
any booking and is busy for everyone else until the offer is decided. Choosing locks the offer row first:
of two browsers of the participant, or the participant and a coordinator, choosing at once, exactly one
books; the others find the offer decided (`OfferClosed`). Choosing confirms the hold through
`booking.confirm`, which checks imported busy time again, so a slot lost since the offer (a mediator's
new busy time) is refused as `SlotGone` and shown as gone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit
from core.events import publish
from core.models import User
from core.problems import Conflict, InvalidInput, NotFound
from scheduler import booking, events
from scheduler.conflicts import conflicting_resources, needed_spans
from scheduler.locking import taken_spans
from scheduler.models import Appointment, Attendance, Case, MediatorTask, Participant
from scheduler.participant_models import Offer, OfferSlot
from scheduler.policy import BookingPolicy
from scheduler.rules import BookingRequest

MIN_SLOTS, MAX_SLOTS = 2, 4
OFFER_LAPSED = "offer_lapsed"      # the MediatorTask kind: contact the participant about a new time


class OfferClosed(Conflict):
    """The offer was decided already: `state` is chosen, lapsed or withdrawn."""

    def __init__(self, offer: Offer, state: str) -> None:
        super().__init__(f"offer {offer.id} is {state}", state=state)
        self.state = state


class SlotGone(Conflict):
    def __init__(self, appointment_id: int) -> None:
        super().__init__(f"the offered time {appointment_id} is no longer free", appointment_id=appointment_id)


def reachable(participant: Participant) -> bool:
    """Whether the participant can get the link to choose: texts or emails allowed, with a number or address."""
    return bool((participant.sms_allowed and participant.phone) or (participant.email_allowed and participant.email))


def _participant(session: Session, participant_id: int) -> Participant:
    # Locked (NO KEY UPDATE, first, as a withdrawal does): two offers made at once for one participant
    # would both find no open offer and both be made.
    participant = session.get(Participant, participant_id, with_for_update={"key_share": True},
                              populate_existing=True)
    if participant is None:
        raise InvalidInput("participant_id", "no such participant")
    if participant.withdrawn_at is not None:
        raise Conflict("the participant has withdrawn; nothing can be offered to them")
    if participant.erased_at is not None:
        raise Conflict("the participant's personal data was erased; nothing can be offered to them")
    if not reachable(participant):
        raise InvalidInput("participant_id", "the participant allows neither texts nor emails: they cannot get "
                                             "the link to choose; book a time with them instead")
    return participant


def make_offer(session: Session, actor: User, participant_id: int, slots: Sequence[BookingRequest], now: datetime,
               *, policy: BookingPolicy, hours: int) -> Offer:
    """Hold two to four times for one participant of the slots' case; they get a link to choose (SlotsOffered)."""
    if not MIN_SLOTS <= len(slots) <= MAX_SLOTS:
        raise InvalidInput("slots", f"offer {MIN_SLOTS} to {MAX_SLOTS} times")
    participant = _participant(session, participant_id)
    if any(s.case_id != participant.case_id or tuple(s.participant_ids) != (participant_id,) for s in slots):
        raise InvalidInput("slots", "every offered time is for this participant alone, in their case")
    if session.scalar(select(Offer.id).where(Offer.participant_id == participant_id, Offer.status == "open")):
        raise Conflict("this participant already has times offered to them: withdraw that offer first")
    # Held for `hours`, but never past the start of the last time: then nothing is left to choose.
    expires = min(now + timedelta(hours=hours), max(s.start for s in slots))
    offer = Offer(case_id=participant.case_id, participant_id=participant_id, status="open", expires_at=expires,
                  created_by_id=actor.id, created_at=now)
    session.add(offer)
    session.flush()
    for slot in sorted(slots, key=lambda s: s.start):
        held = booking.book(session, slot, actor, now, policy=policy, hold_for=expires - now)
        session.add(OfferSlot(appointment_id=held.id, offer_id=offer.id))
    session.flush()
    audit.record(session, actor.id, "offer.made", "offer", offer.id, str(len(slots)))
    publish(session, events.SlotsOffered(offer.id, participant_id, offer.case_id, actor.id))
    return offer


def _locked(session: Session, offer_id: int) -> Offer:
    offer = session.get(Offer, offer_id, with_for_update=True, populate_existing=True)
    if offer is None:
        raise NotFound("offer", offer_id)
    return offer


def choose(session: Session, offer_id: int, appointment_id: int, actor: User | None, now: datetime) -> Appointment:
    """Book the chosen slot and release the others. Choosing the same slot again changes nothing."""
    offer = _locked(session, offer_id)
    if offer.status == "chosen" and offer.chosen_appointment_id == appointment_id:
        return session.get(Appointment, appointment_id)  # type: ignore[return-value]
    if offer.status != "open":
        raise OfferClosed(offer, offer.status)
    if offer.expires_at <= now:
        raise OfferClosed(offer, "lapsed")
    # A withdrawal closes the participant's open offers itself (scheduler.withdrawal), so `open` is enough.
    slot_ids = list(session.scalars(select(OfferSlot.appointment_id).where(OfferSlot.offer_id == offer_id)))
    if appointment_id not in slot_ids:
        raise NotFound("offered time", appointment_id)
    try:  # refused before it writes anything of its own; the caller's transaction rolls back what is left
        chosen = booking.confirm(session, appointment_id, actor, now, offered=True)
    except Conflict:
        raise SlotGone(appointment_id) from None
    booking.release_holds(session, [i for i in slot_ids if i != appointment_id], actor, now, "offer_chosen")
    # They chose it themselves (or told the office so): they are coming. Plain statements: nothing to load.
    session.execute(update(Attendance).where(Attendance.appointment_id == appointment_id,
                                             Attendance.participant_id == offer.participant_id)
                    .values(response="coming", responded_at=now))
    session.execute(update(Offer).where(Offer.id == offer_id)
                    .values(status="chosen", chosen_appointment_id=appointment_id, decided_at=now))
    audit.record(session, actor.id if actor else None, "offer.chosen", "offer", offer.id, str(appointment_id))
    return chosen


def withdraw(session: Session, actor: User, offer_id: int, now: datetime) -> Offer:
    """The office takes the offer back: its holds are released; its link stops working."""
    offer = _locked(session, offer_id)
    if offer.status != "open":
        return offer
    _release(session, offer, actor, now, "offer_withdrawn")
    offer.status, offer.decided_at = "withdrawn", now
    audit.record(session, actor.id, "offer.withdrawn", "offer", offer.id)
    return offer


def _release(session: Session, offer: Offer, actor: User | None, now: datetime, reason: str) -> None:
    booking.release_holds(session, [slot.id for slot in offer.slots], actor, now, reason)


@dataclass(frozen=True)
class SlotState:
    appointment: Appointment
    free: bool


def slot_states(session: Session, offer: Offer, now: datetime) -> list[SlotState]:
    """Each offered time and whether it can still be chosen, read-only (a GET may show it, never change it).

    One look at what is taken around all the offer's times together (the participant's page shows this on
    every visit), each time's own hold left out: a hold does not stand in its own way."""
    slots = list(offer.slots)
    standing = [s for s in slots if offer.status == "open" and s.status == "held" and s.hold_expires_at is not None
                and s.hold_expires_at > now and s.start > now]
    if not standing:
        return [SlotState(s, False) for s in slots]
    buffers = booking.mediator_buffers(session, [s.id for s in standing])
    # Every time of an offer is for its one participant (make_offer sees to it).
    wanted = {s.id: needed_spans(s.start, s.end, buffers[s.id], s.room_id, (offer.participant_id,)) for s in standing}
    free = set()
    for busy_counts in (True, False):  # a time booked over imported busy time (an override) ignores it
        group = [s for s in standing if (s.busy_time_reason is None) == busy_counts]
        spans = [span for s in group for span in wanted[s.id]]
        if not spans:
            continue
        ids = {kind: sorted({sp.resource.id for sp in spans if sp.resource.kind == kind})
               for kind in ("mediator", "room", "participant")}
        taken = taken_spans(session, ids["mediator"], ids["room"], min(sp.start for sp in spans),
                            max(sp.end for sp in spans), now, participant_ids=ids["participant"],
                            mediator_busy=busy_counts, exclude_appointment_ids=[s.id for s in slots])
        free |= {s.id for s in group if not conflicting_resources(wanted[s.id], taken)}
    return [SlotState(s, s.id in free) for s in slots]


def lapse(session: Session, offer_id: int, now: datetime, note: str = "") -> bool:
    """An open offer with no time left to choose, or past its end: lapsed, holds released, the mediators
    get a task to contact the participant. False when it was decided already."""
    offer = _locked(session, offer_id)
    if offer.status != "open":
        return False
    if _stopped(session, offer):  # nobody to call about another time: closed as the office would
        _release(session, offer, None, now, "offer_withdrawn")
        offer.status, offer.decided_at = "withdrawn", now
        audit.record(session, None, "offer.withdrawn", "offer", offer.id)
        return True
    _release(session, offer, None, now, "offer_lapsed")
    offer.status, offer.decided_at = "lapsed", now
    _task(session, offer, OFFER_LAPSED, note, now)
    audit.record(session, None, "offer.lapsed", "offer", offer.id)
    return True


def _stopped(session: Session, offer: Offer) -> bool:
    """Whether the participant withdrew since the offer was made (a withdrawal leaves the offer open)."""
    participant = session.get(Participant, offer.participant_id)
    return participant is None or participant.withdrawn_at is not None


def _task(session: Session, offer: Offer, kind: str, note: str, now: datetime) -> None:
    case = session.get(Case, offer.case_id)
    for mediator in case.mediators if case else []:
        session.add(MediatorTask(mediator_id=mediator.id, case_id=offer.case_id, kind=kind,
                                 participant_id=offer.participant_id, note=note, created_at=now))


def lapse_due(session: Session, now: datetime, limit: int = 100) -> int:
    """The periodic sweep: lapse up to `limit` open offers that ran out or have no free time left.

    Those past their end are found in SQL first; then every other open offer is looked at (a batch of the
    first open offers by id would hide, behind `limit` offers still running, one that is due)."""
    expired = session.scalars(select(Offer.id).where(Offer.status == "open", Offer.expires_at <= now)
                              .order_by(Offer.expires_at, Offer.id).limit(limit)).all()
    done = sum(lapse(session, offer_id, now) for offer_id in expired)
    running = session.scalars(select(Offer).where(Offer.status == "open", Offer.expires_at > now)
                              .order_by(Offer.id)).all()
    for offer in running:
        if done >= limit:
            break
        if _stopped(session, offer) or not any(s.free for s in slot_states(session, offer, now)):
            done += lapse(session, offer.id, now)
    return done
