"""Invariant 1 under real concurrency on PostgreSQL: one slot, many bookers, exactly one wins."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from werkzeug.serving import make_server

from core.db import Database
from scheduler import booking
from scheduler.models import Appointment, Reservation
from tests import factories as f
from tests.integration.booking_helpers import NOW, TUESDAY_10, build_world, request
from tests.support.days import working_day_at
from tests.integration.booking_helpers import POLICY

BOOKERS = 24


def _run_all(target: Any, count: int) -> list[Any]:
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = target(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a booking thread hung: deadlock or lock wait"
    return results


def test_many_services_booking_one_slot_exactly_one_wins(pg_url: str, database: Database) -> None:
    w = build_world(database)
    db = Database(pg_url, pool_size=BOOKERS, max_overflow=0)

    def book(i: int) -> int:
        with db.write_session() as s:
            return booking.book(s, request(w, start=TUESDAY_10 + timedelta(minutes=(i % 4) * 15)), None, NOW, policy=POLICY).id

    try:
        results = _run_all(book, BOOKERS)
    finally:
        db.dispose()
    wins = [r for r in results if isinstance(r, int)]
    losses = [r for r in results if isinstance(r, booking.BookingConflict)]
    assert len(wins) == 1, results
    assert len(losses) == BOOKERS - 1, [r for r in results if not isinstance(r, (int, booking.BookingConflict))]
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Appointment)) == 1
        assert s.scalar(select(func.count()).select_from(Reservation).where(Reservation.live)) == 3  # mediator, room, participant


def test_crossing_joint_bookings_do_not_deadlock(pg_url: str, database: Database) -> None:
    """Bookers name the two mediators in opposite orders; locks are taken in one order, so nobody deadlocks."""
    w = build_world(database)
    db = Database(pg_url, pool_size=BOOKERS, max_overflow=0)
    m1, m2 = w.mediator_ids

    def book(i: int) -> int:
        order = (m1, m2) if i % 2 else (m2, m1)
        start = TUESDAY_10 + timedelta(hours=2 * (i % 3))  # apart by more than the buffer
        with db.write_session() as s:
            return booking.book(s, request(w, start=start, mediator_ids=order, room_id=w.room_ids[i % 2]), None, NOW, policy=POLICY).id

    try:
        results = _run_all(book, BOOKERS)
    finally:
        db.dispose()
    unexpected = [r for r in results if not isinstance(r, (int, booking.BookingConflict))]
    assert unexpected == []
    assert len([r for r in results if isinstance(r, int)]) == 3  # one per distinct start


def test_http_requests_for_one_slot_get_one_201_and_409s(app: Any, database: Database) -> None:
    """The API checks the slot against the real clock: book a working day ahead, never a fixed date."""
    w = build_world(database)
    start = working_day_at(10, calendar=app.extensions["pendel"].workdays)
    with database.write_session() as s:
        _, headers = f.staff(s, "coordinator")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/api/v1/appointments"
    body = json.dumps({
        "case_id": w.case_id, "kind": "intake", "mode": "in_person",
        "start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat(),
        "mediator_ids": [w.mediator_ids[0]], "room_id": w.room_ids[0], "participant_ids": [w.participant_ids[0]],
    }).encode()

    def post(_: int) -> tuple[int, dict[str, Any]]:
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={**headers, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    try:
        results = _run_all(post, 20)
    finally:
        server.shutdown()
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * 19, statuses
    for status, payload in results:
        if status == 409:
            assert payload["conflicts"] and "HB-OTHER" not in json.dumps(payload)


