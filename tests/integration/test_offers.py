"""Slots offered to a participant (scheduler.offers) against real databases: making an offer and choosing from it.

Each offered time is an ordinary hold (booking.book), so the booking rules apply to each and the holds are
busy for everyone else; choosing books one atomically and releases the others; a time lost since the offer
(imported busy time) is `SlotGone` and the offer stays open. Choosers at once, withdrawing and lapsing:
test_offers_at_once.py. The times are fixed (booking_helpers.NOW, a Monday) and handed to the services.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.db import Database
from core.models import User
from core.problems import Conflict, InvalidInput, NotFound
from scheduler import booking, events, offers
from scheduler.models import Appointment, Attendance, BusyBlock, Participant, Reservation
from scheduler.participant_models import Offer
from tests.conftest import both_databases
from tests.integration.booking_helpers import NOW, POLICY, TUESDAY_10
from tests.integration.offer_helpers import (_world, _slot, _offer, _slots, _offer_row, _count,
                                                  _choose, HOURS, HOUR, TIMES)


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
