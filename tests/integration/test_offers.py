"""Slots offered to a participant (scheduler.offers) against real databases: make, choose, withdraw, lapse.

Each offered time is an ordinary hold (booking.book), so the booking rules apply to each and the holds are
busy for everyone else; choosing books one atomically and releases the others; a time lost since the offer
(imported busy time) is `SlotGone` and the offer stays open; of two choosers at once exactly one books.
The times are fixed (booking_helpers.NOW, a Monday) and handed to the services, so no wall clock is involved.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any, Callable

import pytest
from sqlalchemy import func, select

from core.db import Database
from core.models import User
from core.problems import Conflict, InvalidInput, NotFound
from scheduler import booking, events, offers, withdrawal
from scheduler.models import Appointment, Attendance, BusyBlock, MediatorTask, Participant, Reservation
from scheduler.participant_models import Offer, OfferSlot
from tests import factories as f
from tests.conftest import both_databases
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


# --- making an offer ------------------------------------------------------------------------------

@both_databases
def test_an_offer_holds_each_time_until_it_runs_out(database: Database) -> None:
    w, uid = _world(database)
    with database.write_session() as s:
        offer = offers.make_offer(s, s.get(User, uid), w.participant_ids[0],
                                  [_slot(w, t) for t in reversed(TIMES)], NOW, policy=POLICY, hours=HOURS)
        published = [e for e in s.info["events"] if isinstance(e, events.SlotsOffered)]
        offer_id = offer.id
    assert published == [events.SlotsOffered(offer_id, w.participant_ids[0], w.case_id, uid)]
    row = _offer_row(database, offer_id)
    # Held for HOURS, but never past the start of the last time (Tuesday 15:00 is sooner here).
    assert row.status == "open" and row.case_id == w.case_id and row.expires_at == TIMES[-1] < NOW + HOURS * HOUR
    slots = _slots(database, offer_id)
    assert [a.start for a in slots] == list(TIMES)
    assert {a.status for a in slots} == {"held"}
    assert {a.hold_expires_at for a in slots} == {row.expires_at}  # the holds last exactly as long as the offer
    # No confirmation goes out for a hold: nothing is booked yet.
    assert not any(isinstance(e, events.AppointmentConfirmed) for e in published)


@both_databases
@pytest.mark.parametrize("count", [1, 5])
def test_two_to_four_times(database: Database, count: int) -> None:
    w, uid = _world(database)
    times = tuple(TUESDAY_10 + timedelta(days=d) for d in range(count))
    with pytest.raises(InvalidInput) as err:
        _offer(database, w, uid, times)
    assert err.value.errors[0]["field"] == "slots"
    assert _count(database, Offer) == 0 and _count(database, Appointment) == 0


@both_databases
def test_every_time_is_for_this_participant_alone(database: Database) -> None:
    w, uid = _world(database)
    mine, other = w.participant_ids
    for wrong in ({"participant_ids": (other,)}, {"participant_ids": (mine, other)},
                  {"case_id": w.other_case_id}):
        with pytest.raises(InvalidInput) as err, database.write_session() as s:
            offers.make_offer(s, s.get(User, uid), mine, [_slot(w, TIMES[0]), _slot(w, TIMES[1], **wrong)], NOW,
                              policy=POLICY, hours=HOURS)
        assert err.value.errors[0]["field"] == "slots"
    assert _count(database, Offer) == 0 and _count(database, Appointment) == 0


@both_databases
def test_nothing_is_offered_to_a_participant_who_stopped_or_cannot_be_reached(database: Database) -> None:
    w, uid = _world(database)
    with database.write_session() as s:
        s.get(Participant, w.participant_ids[0]).withdrawn_at = NOW - HOUR
        unreachable = s.get(Participant, w.participant_ids[1])
        unreachable.sms_allowed, unreachable.email = False, None  # no texts, and no address for emails
    with pytest.raises(Conflict):
        _offer(database, w, uid)
    with pytest.raises(InvalidInput) as err:
        _offer(database, w, uid, participant=w.participant_ids[1])
    assert err.value.errors[0]["field"] == "participant_id"
    with database.write_session() as s:  # texts allowed without a number is no channel either
        unreachable = s.get(Participant, w.participant_ids[1])
        unreachable.sms_allowed, unreachable.phone = True, None
    with pytest.raises(InvalidInput):
        _offer(database, w, uid, participant=w.participant_ids[1])
    with database.write_session() as s:  # emails allowed with an address: reachable
        unreachable = s.get(Participant, w.participant_ids[1])
        unreachable.email_allowed, unreachable.email = True, "p@example.net"
    assert _offer(database, w, uid, participant=w.participant_ids[1])
    with pytest.raises(InvalidInput):
        _offer(database, w, uid, participant=10_000)


@both_databases
def test_one_open_offer_per_participant(database: Database) -> None:
    w, uid = _world(database)
    first = _offer(database, w, uid)
    later = tuple(t + timedelta(days=1) for t in TIMES)
    with pytest.raises(Conflict):
        _offer(database, w, uid, later)
    with database.write_session() as s:
        offers.withdraw(s, s.get(User, uid), first, NOW)
    assert _offer(database, w, uid, later)  # once it is withdrawn, a new one may be made


@both_databases
def test_the_booking_rules_apply_to_each_time(database: Database) -> None:
    w, uid = _world(database)
    evening = TUESDAY_10 + 10 * HOUR  # 20:00: outside the mediator's working hours
    with pytest.raises(InvalidInput) as err:
        _offer(database, w, uid, (TIMES[0], evening))
    assert err.value.errors[0]["field"] == "start"
    with pytest.raises(InvalidInput) as err:  # the minimum notice
        _offer(database, w, uid, (NOW + timedelta(minutes=30), TIMES[0]))
    assert err.value.errors[0]["field"] == "start"
    assert _count(database, Appointment) == 0 and _count(database, Offer) == 0


@both_databases
def test_overlapping_times_are_refused_by_the_participant_reservation(database: Database) -> None:
    w, uid = _world(database)
    with pytest.raises(booking.BookingConflict) as err:
        _offer(database, w, uid, (TIMES[0], TIMES[0] + timedelta(minutes=30)), mediator_ids=(w.mediator_ids[1],))
    assert ("participant", w.participant_ids[0]) in {(c["type"], c["id"]) for c in err.value.extra["conflicts"]}
    assert _count(database, Appointment) == 0 and _count(database, Offer) == 0  # the whole offer rolled back


@both_databases
def test_the_holds_are_busy_for_everyone_else(database: Database) -> None:
    w, uid = _world(database)
    _offer(database, w, uid)
    other = _slot(w, TIMES[1], case_id=w.other_case_id, participant_ids=(w.other_participant_ids[0],))
    with pytest.raises(booking.BookingConflict) as err, database.write_session() as s:
        booking.book(s, other, None, NOW + HOUR, policy=POLICY)
    assert [c["type"] for c in err.value.extra["conflicts"]] == ["mediator"]
    # ...also for the participant with another mediator of the case
    again = _slot(w, TIMES[1], mediator_ids=(w.mediator_ids[1],))
    with pytest.raises(booking.BookingConflict), database.write_session() as s:
        booking.book(s, again, None, NOW + HOUR, policy=POLICY)


# --- choosing -------------------------------------------------------------------------------------

@both_databases
def test_choosing_books_one_and_releases_the_others(database: Database) -> None:
    w, uid = _world(database)
    offer_id = _offer(database, w, uid)
    first, second, third = (a.id for a in _slots(database, offer_id))
    with database.write_session() as s:
        chosen = offers.choose(s, offer_id, second, None, NOW + HOUR)
        confirmed = [e for e in s.info["events"] if isinstance(e, events.AppointmentConfirmed)]
        cancelled = [e for e in s.info["events"] if isinstance(e, events.AppointmentCancelled)]
        assert chosen.id == second
    assert [e.appointment_id for e in confirmed] == [second]  # the participant's confirmation
    assert cancelled == []  # the other holds go silently: they were never booked
    statuses = {a.id: (a.status, a.cancel_reason) for a in _slots(database, offer_id)}
    assert statuses == {first: ("cancelled", "offer_chosen"), second: ("confirmed", None),
                        third: ("cancelled", "offer_chosen")}
    with database.session() as s:
        assert s.get(Appointment, second).hold_expires_at is None
        attendance = s.get(Attendance, (second, w.participant_ids[0]))
        assert attendance.response == "coming" and attendance.responded_at == NOW + HOUR
        # the released times are free again: only the chosen one's reservations are live
        live = set(s.scalars(select(Reservation.appointment_id).where(Reservation.live)))
        assert live == {second}
    row = _offer_row(database, offer_id)
    assert (row.status, row.chosen_appointment_id, row.decided_at) == ("chosen", second, NOW + HOUR)
    # The released time can be booked by someone else now.
    with database.write_session() as s:
        booking.book(s, _slot(w, TIMES[0], case_id=w.other_case_id, participant_ids=(w.other_participant_ids[0],)),
                     None, NOW + HOUR, policy=POLICY)


@both_databases
def test_choosing_the_same_time_again_changes_nothing_another_is_refused(database: Database) -> None:
    w, uid = _world(database)
    offer_id = _offer(database, w, uid)
    first, second, _third = (a.id for a in _slots(database, offer_id))
    assert _choose(database, offer_id, first, None) == first
    with database.write_session() as s:
        assert offers.choose(s, offer_id, first, s.get(User, uid), NOW + HOUR).id == first
        assert s.info.get("events", []) == []  # no second confirmation
    with pytest.raises(offers.OfferClosed) as err:
        _choose(database, offer_id, second, None)
    assert err.value.state == "chosen"
    assert _count(database, Appointment, Appointment.status == "confirmed") == 1


@both_databases
def test_a_decided_or_expired_offer_is_closed(database: Database) -> None:
    w, uid = _world(database)
    withdrawn = _offer(database, w, uid)
    with database.write_session() as s:
        offers.withdraw(s, s.get(User, uid), withdrawn, NOW)
    slot = _slots(database, withdrawn)[0].id
    with pytest.raises(offers.OfferClosed) as err:
        _choose(database, withdrawn, slot, uid)
    assert err.value.state == "withdrawn"

    expiring = _offer(database, w, uid, participant=w.participant_ids[1])
    slot = _slots(database, expiring)[0].id
    with pytest.raises(offers.OfferClosed) as err:  # past its end, before the sweep got to it
        _choose(database, expiring, slot, None, NOW + timedelta(hours=HOURS))
    assert err.value.state == "lapsed"
    with database.write_session() as s:
        assert offers.lapse_due(s, NOW + timedelta(hours=HOURS)) == 1
    with pytest.raises(offers.OfferClosed) as err:
        _choose(database, expiring, slot, None, NOW + HOUR)
    assert err.value.state == "lapsed"
    assert _count(database, Appointment, Appointment.status == "confirmed") == 0


@both_databases
def test_only_a_time_of_the_offer_can_be_chosen(database: Database) -> None:
    w, uid = _world(database)
    offer_id = _offer(database, w, uid)
    with database.write_session() as s:
        stranger = booking.book(s, _slot(w, TUESDAY_10 + timedelta(days=1)), None, NOW, policy=POLICY,
                                hold_for=HOUR).id
    with pytest.raises(NotFound):
        _choose(database, offer_id, stranger, None)
    with pytest.raises(NotFound):
        _choose(database, 10_000, stranger, None)
    assert _offer_row(database, offer_id).status == "open"


@both_databases
def test_a_time_lost_since_the_offer_is_gone_and_the_rest_stays_open(database: Database) -> None:
    w, uid = _world(database)
    offer_id = _offer(database, w, uid)
    first, second, third = (a.id for a in _slots(database, offer_id))
    with database.write_session() as s:  # the mediator's own calendar got busy time over the first
        s.add(BusyBlock(source_id=1, mediator_id=w.mediator_ids[0], starts_at=TIMES[0] - HOUR / 2,
                        ends_at=TIMES[0] + HOUR / 2, uid="ext-doctor"))
    with database.session() as s:
        states = offers.slot_states(s, s.get(Offer, offer_id), NOW + HOUR)
        assert [(st.appointment.id, st.free) for st in states] == [(first, False), (second, True), (third, True)]
    with pytest.raises(offers.SlotGone) as err:
        _choose(database, offer_id, first, None, NOW + HOUR)
    assert err.value.extra["appointment_id"] == first
    assert _offer_row(database, offer_id).status == "open"
    assert {a.status for a in _slots(database, offer_id)} == {"held"}  # nothing changed
    assert _choose(database, offer_id, third, None, NOW + HOUR) == third
    assert _offer_row(database, offer_id).chosen_appointment_id == third


@both_databases
def test_slot_states_of_a_decided_offer_are_not_free(database: Database) -> None:
    w, uid = _world(database)
    offer_id = _offer(database, w, uid)
    second = _slots(database, offer_id)[1].id
    _choose(database, offer_id, second, uid)
    with database.session() as s:
        assert [st.free for st in offers.slot_states(s, s.get(Offer, offer_id), NOW + HOUR)] == [False] * 3


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
