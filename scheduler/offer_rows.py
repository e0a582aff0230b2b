"""A case's offered times as its page shows them (scheduler.desk_cases; the actions are scheduler.desk_offers).

Open offers and those decided in the last RECENT days, newest first, each slot with its state in words the
page maps: `free` (can still be chosen), `gone` (lost since the offer: someone's busy time, or past),
`chosen`, `released` (let go when another was chosen, or when the offer lapsed or was withdrawn). Whether
an open offer's time is still free is scheduler.offers.slot_states, read-only: a GET changes nothing. One
query when the case has no offers (the case page's cost), a few more per open offer.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from scheduler.models import Appointment
from scheduler.offers import slot_states
from scheduler.participant_models import Offer

RECENT = timedelta(days=14)  # how long a decided offer stays on the case page


@dataclass(frozen=True)
class OfferedSlot:
    appointment_id: int
    start: datetime
    end: datetime
    mediators: tuple[str, ...]
    state: str  # free, gone, chosen or released


@dataclass(frozen=True)
class OfferRow:
    id: int
    participant_id: int
    status: str
    expires_at: datetime
    decided_at: datetime | None
    slots: tuple[OfferedSlot, ...]

    @property
    def open(self) -> bool:
        return self.status == "open"


def _state(offer: Offer, appointment: Appointment, free: bool) -> str:
    if offer.status == "open":
        return "free" if free else "gone"
    if offer.status == "chosen" and offer.chosen_appointment_id == appointment.id:
        return "chosen"
    return "released"


def offer_rows(session: Session, case_id: int, now: datetime) -> list[OfferRow]:
    offers = session.scalars(
        select(Offer).where(Offer.case_id == case_id, or_(Offer.status == "open", Offer.decided_at > now - RECENT))
        .order_by(Offer.created_at.desc(), Offer.id.desc())
        .options(selectinload(Offer.slots).selectinload(Appointment.mediators))).all()
    rows = []
    for offer in offers:
        free = {s.appointment.id: s.free for s in slot_states(session, offer, now)} if offer.status == "open" else {}
        rows.append(OfferRow(offer.id, offer.participant_id, offer.status, offer.expires_at, offer.decided_at, tuple(
            OfferedSlot(a.id, a.start, a.end, tuple(m.name for m in a.mediators), _state(offer, a, free.get(a.id, False)))
            for a in offer.slots)))
    return rows
