"""Offers against real databases, continued: choosers at once (PostgreSQL row locks), withdrawing an offer
and the periodic sweep that lapses those that ran out (scheduler.offers.lapse_due)."""
from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any, Callable

import pytest
from sqlalchemy import select

from core.db import Database
from core.models import User
from core.problems import Conflict, NotFound
from scheduler import offers, withdrawal
from scheduler.models import Appointment, BusyBlock, MediatorTask, Reservation
from scheduler.participant_models import Offer
from tests.conftest import both_databases
from tests.integration.booking_helpers import NOW
from tests.integration.offer_helpers import _world, _offer, _slots, _offer_row, _count, _choose, HOURS, HOUR, TIMES


# --- at once (PostgreSQL: row locks) --------------------------------------------------------------

def _at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - the test looks at what each got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a chooser hung"
    return results


@pytest.mark.parametrize("coordinator", [False, True], ids=["two-browsers", "participant-and-coordinator"])
def test_two_choosing_at_once_exactly_one_books(pg_url: str, database: Database, coordinator: bool) -> None:
    w, uid = _world(database)
    db = Database(pg_url, pool_size=4, max_overflow=0)
    try:
        for round_ in range(5):  # a few rounds: the race goes either way
            pid = w.participant_ids[round_ % 2]
            times = tuple(t + timedelta(days=7 * round_) for t in TIMES)
            offer_id = _offer(database, w, uid, times, participant=pid)
            first, second, _third = (a.id for a in _slots(database, offer_id))
            results = _at_once([lambda: _choose(db, offer_id, first, None),
                                lambda: _choose(db, offer_id, second, uid if coordinator else None)])
            won = [r for r in results if isinstance(r, int)]
            lost = [r for r in results if isinstance(r, offers.OfferClosed)]
            assert len(won) == 1 and len(lost) == 1, results
            assert lost[0].state == "chosen"
            assert _offer_row(database, offer_id).chosen_appointment_id == won[0]
            statuses = sorted(a.status for a in _slots(database, offer_id))
            assert statuses == ["cancelled", "cancelled", "confirmed"]
    finally:
        db.dispose()


def test_the_same_time_chosen_twice_at_once_books_once(pg_url: str, database: Database) -> None:
    w, uid = _world(database)
    offer_id = _offer(database, w, uid)
    first = _slots(database, offer_id)[0].id
    db = Database(pg_url, pool_size=4, max_overflow=0)
    try:
        results = _at_once([lambda: _choose(db, offer_id, first, None), lambda: _choose(db, offer_id, first, uid)])
    finally:
        db.dispose()
    assert results == [first, first]
    assert _count(database, Appointment, Appointment.status == "confirmed") == 1


def test_two_offers_for_one_participant_at_once_make_one(pg_url: str, database: Database) -> None:
    w, uid = _world(database)
    db = Database(pg_url, pool_size=4, max_overflow=0)
    later = tuple(t + timedelta(days=1) for t in TIMES)
    try:
        results = _at_once([lambda: _offer(db, w, uid, TIMES), lambda: _offer(db, w, uid, later)])
    finally:
        db.dispose()
    assert len([r for r in results if isinstance(r, int)]) == 1, results
    assert len([r for r in results if isinstance(r, Conflict)]) == 1, results
    assert _count(database, Offer, Offer.status == "open") == 1


# --- withdrawing and lapsing ----------------------------------------------------------------------

@both_databases
def test_withdrawing_releases_the_holds(database: Database) -> None:
    w, uid = _world(database)
    offer_id = _offer(database, w, uid)
    with database.write_session() as s:
        assert offers.withdraw(s, s.get(User, uid), offer_id, NOW + HOUR).status == "withdrawn"
    assert {(a.status, a.cancel_reason) for a in _slots(database, offer_id)} == {("cancelled", "offer_withdrawn")}
    assert _count(database, Reservation, Reservation.live) == 0
    row = _offer_row(database, offer_id)
    assert (row.status, row.decided_at) == ("withdrawn", NOW + HOUR)
    with database.write_session() as s:  # twice: nothing more
        assert offers.withdraw(s, s.get(User, uid), offer_id, NOW + 2 * HOUR).decided_at == NOW + HOUR
    with pytest.raises(NotFound), database.write_session() as s:
        offers.withdraw(s, s.get(User, uid), 10_000, NOW)


@both_databases
def test_a_chosen_offer_cannot_be_withdrawn(database: Database) -> None:
    w, uid = _world(database)
    offer_id = _offer(database, w, uid)
    chosen = _choose(database, offer_id, _slots(database, offer_id)[0].id, uid)
    with database.write_session() as s:
        assert offers.withdraw(s, s.get(User, uid), offer_id, NOW + HOUR).status == "chosen"
    with database.session() as s:
        assert s.get(Appointment, chosen).status == "confirmed"


def _tasks(db: Database) -> list[tuple[int, str, int | None]]:
    with db.session() as s:
        return sorted(s.execute(select(MediatorTask.mediator_id, MediatorTask.kind, MediatorTask.participant_id)).all())


@both_databases
def test_an_expired_offer_lapses_and_each_case_mediator_gets_a_task(database: Database) -> None:
    w, uid = _world(database)
    offer_id = _offer(database, w, uid, tuple(t + timedelta(days=7) for t in TIMES))  # times after its end
    with database.write_session() as s:
        assert offers.lapse_due(s, NOW + timedelta(hours=HOURS - 1)) == 0  # not yet
    end = NOW + timedelta(hours=HOURS)
    with database.write_session() as s:
        assert offers.lapse_due(s, end) == 1
    row = _offer_row(database, offer_id)
    assert (row.status, row.decided_at) == ("lapsed", end)
    assert {a.status for a in _slots(database, offer_id)} == {"cancelled"}
    assert _count(database, Reservation, Reservation.live) == 0
    assert _tasks(database) == [(m, offers.OFFER_LAPSED, w.participant_ids[0]) for m in sorted(w.mediator_ids)]
    with database.write_session() as s:
        assert offers.lapse_due(s, end + HOUR) == 0  # once
    assert len(_tasks(database)) == 2


@both_databases
def test_an_offer_with_no_time_left_lapses_before_its_end(database: Database) -> None:
    w, uid = _world(database)
    offer_id = _offer(database, w, uid)
    with database.write_session() as s:  # a day off in the mediator's own calendar over the first two
        s.add(BusyBlock(source_id=1, mediator_id=w.mediator_ids[0], starts_at=TIMES[0], ends_at=TIMES[1] + HOUR,
                        uid="ext-day-off"))
    with database.write_session() as s:
        assert offers.lapse_due(s, NOW + HOUR) == 0  # one time is still free
    assert _offer_row(database, offer_id).status == "open"
    with database.write_session() as s:
        s.add(BusyBlock(source_id=1, mediator_id=w.mediator_ids[0], starts_at=TIMES[2], ends_at=TIMES[2] + HOUR,
                        uid="ext-late"))
    with database.write_session() as s:
        assert offers.lapse_due(s, NOW + HOUR) == 1
    assert _offer_row(database, offer_id).status == "lapsed"
    assert [k for _m, k, _p in _tasks(database)] == [offers.OFFER_LAPSED] * 2


@both_databases
def test_the_sweep_reaches_offers_behind_many_that_are_not_due(database: Database) -> None:
    """The sweep looks at a batch at a time; offers still running must not hide an expired one behind them."""
    w, uid = _world(database)
    _offer(database, w, uid, hours=HOURS)                                            # runs two days
    short = _offer(database, w, uid, participant=w.participant_ids[1], hours=1,
                   times=tuple(t + timedelta(days=1) for t in TIMES))                 # runs an hour
    with database.write_session() as s:
        assert offers.lapse_due(s, NOW + 2 * HOUR, limit=1) == 1
    assert _offer_row(database, short).status == "lapsed"


@both_databases
def test_an_offer_of_a_participant_who_stopped_closes_without_a_task(database: Database) -> None:
    w, uid = _world(database)
    offer_id = _offer(database, w, uid)
    with database.write_session() as s:  # the withdrawal cancels the holds and closes the offer
        withdrawal.withdraw(s, w.participant_ids[0], s.get(User, uid), NOW + HOUR)
    assert _offer_row(database, offer_id).status == "withdrawn"
    assert {a.status for a in _slots(database, offer_id)} == {"cancelled"}
    with pytest.raises(offers.OfferClosed) as err:  # "book this time for them" after they stopped
        _choose(database, offer_id, _slots(database, offer_id)[0].id, uid, NOW + HOUR)
    assert err.value.state == "withdrawn"
    with database.write_session() as s:
        assert offers.lapse_due(s, NOW + HOUR) == 0
    assert _offer_row(database, offer_id).status == "withdrawn"
    assert [k for _m, k, _p in _tasks(database) if k == offers.OFFER_LAPSED] == []  # nobody to call about a time
