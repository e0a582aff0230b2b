"""Holds that have run out: released everywhere, not only where someone books next."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.locking import clear_expired_holds
from scheduler.models import Reservation


def expire_holds(session: Session, now: datetime) -> list[int]:
    rows = session.execute(select(Reservation.mediator_id, Reservation.room_id).where(
        Reservation.live, Reservation.expires_at.is_not(None), Reservation.expires_at <= now)).all()
    mediators = {m for m, _ in rows if m is not None}
    rooms = {r for _, r in rows if r is not None}
    return clear_expired_holds(session, mediators, rooms, now)
