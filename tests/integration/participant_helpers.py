"""Set-up for the participant page tests: a booked appointment (or an offer) and a personal link to it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from core.db import utcnow
from scheduler import booking, offers
from scheduler.links import issue
from scheduler.models import Participant
from tests.conftest import with_settings
from tests.integration.booking_helpers import POLICY, World, build_world, future_start, request
from tests.factories import staff

BASE = "http://localhost"  # the test client's own address: the link cookie is Secure only on https


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return with_settings(settings, public_base_url=BASE)


@dataclass
class Booked:
    world: World
    appointment_id: int
    participant_id: int
    other_id: int
    token: str
    start: datetime


def book_with_link(runtime: Any, joint: bool = False, mode: str = "in_person") -> Booked:
    """A confirmed appointment of the world's first participant (with the second, at a joint meeting)."""
    world = build_world(runtime.db)
    start = future_start()
    me, other = world.participant_ids
    with runtime.db.write_session() as s:
        kw: dict[str, Any] = {"mode": mode}
        if mode != "in_person":
            kw["room_id"] = None
        if joint:
            kw.update(kind="meeting", participant_ids=(me, other), minutes=90,
                      arrivals={me: start, other: start + timedelta(minutes=15)})
        appointment = booking.book(s, request(world, start, **kw), None, utcnow(), policy=POLICY)
        token = issue(s, me, appointment_id=appointment.id)
        return Booked(world, appointment.id, me, other, token, start)


def offer_with_link(runtime: Any, slots: int = 3) -> tuple[World, int, list[int], str]:
    """An offer of `slots` one-hour intake times on one day, to the world's first participant."""
    world = build_world(runtime.db)
    start = future_start()
    me = world.participant_ids[0]
    with runtime.db.write_session() as s:
        user, _ = staff(s, "coordinator")
        wanted = [request(world, start + timedelta(hours=2 * i)) for i in range(slots)]
        offer = offers.make_offer(s, user, me, wanted, utcnow(), policy=POLICY, hours=48)
        token = issue(s, me, offer_id=offer.id)
        return world, offer.id, [a.id for a in offer.slots], token


def others_details(runtime: Any, participant_ids: list[int]) -> list[str]:
    """Everything of these participants a page must never show: name, phone (as stored and as dialled), email,
    address."""
    out: list[str] = []
    with runtime.db.sessions() as s:
        for pid in participant_ids:
            p = s.get(Participant, pid)
            out += [v for v in (p.name, p.phone, p.email, p.address) if v]
            if p.phone:
                out.append(p.phone.replace("+31", "0"))
    return out


def open_link(client: Any, token: str) -> Any:
    """Follow the link as a phone would: the redirect, then the page."""
    first = client.get(f"/a/{token}")
    assert first.status_code == 303 and first.headers["Location"].endswith("/a/")
    return client.get("/a/")
