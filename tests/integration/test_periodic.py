"""Periodic ticks run once across processes: the advisory lock lets one win."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from core.periodic import run_task
from scheduler import booking
from scheduler.models import Appointment
from scheduler.periodic import EXPIRE_HOLDS, HOLDS_LOCK
from tests.integration.booking_helpers import NOW, build_world, request
from tests.integration.booking_helpers import POLICY


def test_holds_tick_releases_expired_holds_unless_another_process_holds_the_lock(database, settings):
    w = build_world(database)
    with database.write_session() as s:
        held = booking.book(s, request(w), None, NOW, policy=POLICY, hold_for=timedelta(minutes=15))
    later = NOW + timedelta(minutes=20)
    with database.write_session() as other:  # another worker process is in the middle of this tick
        assert other.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": HOLDS_LOCK}).scalar()
        assert run_task(EXPIRE_HOLDS, database, later, settings) is None
    with database.session() as s:
        assert s.get(Appointment, held.id).status == "held"
    assert run_task(EXPIRE_HOLDS, database, later, settings) == 1
    with database.session() as s:
        assert s.get(Appointment, held.id).cancel_reason == "hold_expired"
