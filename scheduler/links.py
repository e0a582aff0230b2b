"""Participants' personal links: issued with each message, checked each time they are used.

The rule of when a link works lives here and nowhere else (`resolve`): the token must be known, the
participant not withdrawn, the case open, and the link's appointment still live and not long over
(PARTICIPANT_LINK_HOURS_AFTER after its end), or its offer not withdrawn by the office and, once
chosen, the chosen appointment by the same measure. Nothing about this is stored, so a withdrawal,
a cancellation or a reschedule takes effect on every link the moment it commits. Whoever asks gets
the same `None` for an unknown, tampered, expired or revoked token: the page cannot tell them apart,
and neither can someone guessing.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from scheduler.models import Appointment, Case, Participant
from scheduler.participant_models import Offer, ParticipantLink

TOKEN_BYTES = 16   # 128 random bits: 22 characters in base64url
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{22}")
LINK_PATH = "/a/"  # the short path in messages: PUBLIC_BASE_URL + LINK_PATH + token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def link_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}{LINK_PATH}{token}"


def issue(session: Session, participant_id: int, *, appointment_id: int | None = None,
          offer_id: int | None = None) -> str:
    """A new token for one participant and one appointment or offer; only its hash is stored."""
    if (appointment_id is None) == (offer_id is None):
        raise ValueError("a link points at one appointment or one offer")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(ParticipantLink(token_hash=token_hash(token), participant_id=participant_id,
                                appointment_id=appointment_id, offer_id=offer_id))
    return token


@dataclass(frozen=True)
class Link:
    """What a working link opens: the participant's own appointment, or their offer."""

    link_id: int
    participant: Participant
    appointment: Appointment | None
    offer: Offer | None


def _appointment_open(appointment: Appointment | None, now: datetime, grace: timedelta) -> bool:
    return appointment is not None and appointment.status == "confirmed" and appointment.end + grace > now


def _offer_open(session: Session, offer: Offer | None, now: datetime, grace: timedelta) -> bool:
    if offer is None or offer.status == "withdrawn":
        return False
    if offer.status == "chosen":
        return _appointment_open(session.get(Appointment, offer.chosen_appointment_id or 0), now, grace)
    # Open or lapsed: the page still works a while after the offer ran out, to ask for a callback instead.
    return offer.expires_at + grace > now


def resolve(session: Session, token: str | None, now: datetime, grace: timedelta) -> Link | None:
    """The link behind `token` if it still works, else None, whatever the reason."""
    if not token or not _TOKEN_SHAPE.fullmatch(token):
        return None
    # One round trip: the link, its participant, the case's status, and its appointment or offer.
    found = session.execute(select(ParticipantLink, Participant, Case.status, Appointment, Offer)
                            .join(Participant, Participant.id == ParticipantLink.participant_id)
                            .join(Case, Case.id == Participant.case_id)
                            .outerjoin(Appointment, Appointment.id == ParticipantLink.appointment_id)
                            .outerjoin(Offer, Offer.id == ParticipantLink.offer_id)
                            .where(ParticipantLink.token_hash == token_hash(token))).first()
    if found is None:
        return None
    row, participant, case_status, appointment, offer = found
    if participant.withdrawn_at is not None or case_status == "closed":
        return None
    if row.appointment_id is not None:
        if not _appointment_open(appointment, now, grace) or not _attends(appointment, participant.id):
            return None
        return Link(row.id, participant, appointment, None)
    if not _offer_open(session, offer, now, grace) or offer is None or offer.participant_id != participant.id:
        return None
    return Link(row.id, participant, None, offer)


def _attends(appointment: Appointment | None, participant_id: int) -> bool:
    """Still one of the appointment's participants (a reschedule may have taken them off)."""
    return appointment is not None and any(a.participant_id == participant_id for a in appointment.attendances)


def purge_dead(session: Session, now: datetime, grace: timedelta) -> int:
    """Delete links that can never work again: their appointment ended more than `grace` ago or is off, or
    their offer ran out that long ago without a choice, or its chosen time is over. Returns how many."""
    over = now - grace
    finished = select(Appointment.id).where(or_(Appointment.end < over, Appointment.status == "cancelled"))
    chosen_over = select(Offer.id).join(Appointment, Appointment.id == Offer.chosen_appointment_id).where(
        or_(Appointment.end < over, Appointment.status == "cancelled"))
    unchosen_over = select(Offer.id).where(Offer.status != "chosen", or_(Offer.expires_at < over,
                                                                           Offer.status == "withdrawn"))
    gone = delete(ParticipantLink).where(or_(ParticipantLink.appointment_id.in_(finished),
                                             ParticipantLink.offer_id.in_(chosen_over),
                                             ParticipantLink.offer_id.in_(unchosen_over)))
    return session.execute(gone, execution_options={"synchronize_session": False}).rowcount or 0
