"""What the tests of scheduler.offers share: a world, a coordinator, three times on a Tuesday, an offer of them."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from core.db import Database
from core.models import User
from scheduler import offers
from scheduler.models import Appointment
from scheduler.participant_models import Offer, OfferSlot
from tests import factories as f
from tests.integration.booking_helpers import NOW, POLICY, TUESDAY_10, World, build_world, request

HOURS = 48
HOUR = timedelta(hours=1)
TIMES = (TUESDAY_10, TUESDAY_10 + 3 * HOUR, TUESDAY_10 + 5 * HOUR)  # 10:00, 13:00, 15:00 on Tuesday


def _world(db: Database) -> tuple[World, int]:
    w = build_world(db)
    with db.write_session() as s:
        user, _ = f.staff(s, "coordinator")
        return w, user.id


def _slot(w: World, start: datetime, **kw: Any) -> Any:
    return request(w, start=start, mode="phone", room_id=None, **kw)


def _offer(db: Database, w: World, uid: int, times: tuple[datetime, ...] = TIMES, participant: int | None = None,
           now: datetime = NOW, hours: int = HOURS, **kw: Any) -> int:
    pid = w.participant_ids[0] if participant is None else participant
    with db.write_session() as s:
        offer = offers.make_offer(s, s.get(User, uid), pid, [_slot(w, t, participant_ids=(pid,), **kw) for t in times],
                                  now, policy=POLICY, hours=hours)
        return offer.id


def _slots(db: Database, offer_id: int) -> list[Appointment]:
    with db.session() as s:
        rows = list(s.scalars(select(Appointment).join(OfferSlot, OfferSlot.appointment_id == Appointment.id)
                              .where(OfferSlot.offer_id == offer_id).order_by(Appointment.start)))
        s.expunge_all()
        return rows


def _offer_row(db: Database, offer_id: int) -> Offer:
    with db.session() as s:
        row = s.get(Offer, offer_id)
        s.expunge_all()
        return row  # type: ignore[return-value]


def _count(db: Database, model: Any, *where: Any) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _choose(db: Database, offer_id: int, appointment_id: int, uid: int | None, now: datetime = NOW) -> int:
    with db.write_session() as s:
        return offers.choose(s, offer_id, appointment_id, s.get(User, uid) if uid else None, now).id
