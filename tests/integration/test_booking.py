"""Booking against real databases: holds, confirm, reschedule, cancel, buffers, busy blocks."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.problems import Conflict, InvalidInput
from scheduler import booking, events
from scheduler.models import Appointment, BusyBlock, Reservation
from tests.conftest import both_databases
from tests.integration.booking_helpers import NOW, TUESDAY_10, build_world, request
from tests.integration.booking_helpers import POLICY
from scheduler.changes import AppointmentChange


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


@both_databases
def test_double_booking_is_refused_naming_the_resource_not_the_case(database):
    w = build_world(database)
    with database.write_session() as s:
        booking.book(s, request(w), None, NOW, policy=POLICY)
    clash = request(w, start=TUESDAY_10 + timedelta(minutes=30), case_id=w.other_case_id,
                    participant_ids=(w.other_participant_ids[0],))
    with pytest.raises(booking.BookingConflict) as err, database.write_session() as s:
        booking.book(s, clash, None, NOW, policy=POLICY)
    kinds = {(c["type"], c["id"]) for c in err.value.extra["conflicts"]}
    assert kinds == {("mediator", w.mediator_ids[0]), ("room", w.room_ids[0])}
    assert "HB-" not in err.value.detail
    assert _count(database, Appointment) == 1


@both_databases
def test_buffer_after_appointment_blocks_the_mediator_only(database):
    w = build_world(database, buffers=(30, 0))
    with database.write_session() as s:
        booking.book(s, request(w), None, NOW, policy=POLICY)
    # 15 minutes after the end: inside mediator 1's 30-minute buffer.
    with pytest.raises(booking.BookingConflict) as err, database.write_session() as s:
        booking.book(s, request(w, start=TUESDAY_10 + timedelta(minutes=75), room_id=w.room_ids[1]), None, NOW, policy=POLICY)
    assert [c["type"] for c in err.value.extra["conflicts"]] == ["mediator"]
    # The room itself is free right at the end; another mediator can take it.
    with database.write_session() as s:
        booking.book(s, request(w, start=TUESDAY_10 + timedelta(minutes=60), mediator_ids=(w.mediator_ids[1],),
                                participant_ids=()), None, NOW, policy=POLICY)
    # And mediator 1 is free once the buffer has passed.
    with database.write_session() as s:
        booking.book(s, request(w, start=TUESDAY_10 + timedelta(minutes=90), room_id=w.room_ids[1],
                                participant_ids=()), None, NOW, policy=POLICY)


@both_databases
def test_imported_busy_time_blocks_booking(database):
    w = build_world(database)
    with database.write_session() as s:
        s.add(BusyBlock(source_id=1, mediator_id=w.mediator_ids[0], starts_at=TUESDAY_10 + timedelta(minutes=45),
                        ends_at=TUESDAY_10 + timedelta(hours=2), uid="ext-1"))
    with pytest.raises(booking.BookingConflict), database.write_session() as s:
        booking.book(s, request(w), None, NOW, policy=POLICY)


@both_databases
def test_hold_blocks_others_until_it_expires_then_is_cleared_in_the_booking(database):
    w = build_world(database)
    with database.write_session() as s:
        held = booking.book(s, request(w), None, NOW, policy=POLICY, hold_for=timedelta(minutes=15))
    assert held.status == "held"
    other = request(w, case_id=w.other_case_id, participant_ids=(w.other_participant_ids[0],))
    with pytest.raises(booking.BookingConflict), database.write_session() as s:
        booking.book(s, other, None, NOW + timedelta(minutes=10), policy=POLICY)
    with database.write_session() as s:
        won = booking.book(s, other, None, NOW + timedelta(minutes=16), policy=POLICY)
    with database.session() as s:
        assert s.get(Appointment, held.id).status == "cancelled"
        assert s.get(Appointment, held.id).cancel_reason == "hold_expired"
        assert s.get(Appointment, won.id).status == "confirmed"
        assert not any(r.live for r in s.scalars(select(Reservation).where(Reservation.appointment_id == held.id)))


@both_databases
def test_confirm_a_hold_and_refuse_an_expired_one(database):
    w = build_world(database)
    with database.write_session() as s:
        held = booking.book(s, request(w), None, NOW, policy=POLICY, hold_for=timedelta(minutes=15))
        assert s.info.get("events", []) == []
    with database.write_session() as s:
        confirmed = booking.confirm(s, held.id, None, NOW + timedelta(minutes=5))
        assert [type(e) for e in s.info["events"]] == [events.AppointmentConfirmed]
    assert confirmed.status == "confirmed" and confirmed.hold_expires_at is None
    with database.session() as s:
        assert all(r.expires_at is None for r in s.scalars(select(Reservation)))
    with database.write_session() as s:
        late = booking.book(s, request(w, start=TUESDAY_10 + timedelta(hours=3)), None, NOW, policy=POLICY, hold_for=timedelta(minutes=15))
    with pytest.raises(Conflict), database.write_session() as s:
        booking.confirm(s, late.id, None, NOW + timedelta(minutes=20))


@both_databases
def test_confirm_rechecks_imported_busy_time(database):
    w = build_world(database)
    with database.write_session() as s:
        held = booking.book(s, request(w), None, NOW, policy=POLICY, hold_for=timedelta(minutes=15))
    with database.write_session() as s:  # a calendar sync lands while the mediator fills in the booking
        s.add(BusyBlock(source_id=7, mediator_id=w.mediator_ids[0], starts_at=TUESDAY_10,
                        ends_at=TUESDAY_10 + timedelta(minutes=30), uid="late"))
    with pytest.raises(booking.BookingConflict), database.write_session() as s:
        booking.confirm(s, held.id, None, NOW + timedelta(minutes=1))
    with database.session() as s:
        assert s.get(Appointment, held.id).status == "held"


@both_databases
def test_reschedule_is_atomic_and_bumps_the_version(database):
    w = build_world(database)
    with database.write_session() as s:
        first = booking.book(s, request(w), None, NOW, policy=POLICY)
        blocker = booking.book(s, request(w, start=TUESDAY_10 + timedelta(hours=3), case_id=w.other_case_id,
                                          participant_ids=(w.other_participant_ids[0],)), None, NOW, policy=POLICY)
    new_start = blocker.start
    with pytest.raises(booking.BookingConflict), database.write_session() as s:
        booking.reschedule(s, first.id, AppointmentChange(new_start, new_start + timedelta(hours=1)), None, NOW, policy=POLICY)
    with database.session() as s:  # the failed move left the original booking intact
        kept = s.get(Appointment, first.id)
        assert (kept.start, kept.version) == (TUESDAY_10, 1)
        assert len([r for r in s.scalars(select(Reservation).where(Reservation.appointment_id == first.id,
                                                                   Reservation.live))]) == 3  # mediator, room, participant
    later = TUESDAY_10 + timedelta(days=1)
    with database.write_session() as s:
        moved = booking.reschedule(s, first.id, AppointmentChange(later, later + timedelta(hours=1)), None, NOW, policy=POLICY)
        assert isinstance(s.info["events"][-1], events.AppointmentRescheduled)
    assert moved.version == 2
    with database.write_session() as s:  # the old time is free again
        booking.book(s, request(w, case_id=w.other_case_id, participant_ids=(w.other_participant_ids[0],)), None, NOW, policy=POLICY)


@both_databases
def test_cancel_frees_the_slot_and_is_idempotent(database):
    w = build_world(database)
    with database.write_session() as s:
        a = booking.book(s, request(w), None, NOW, policy=POLICY)
    with database.write_session() as s:
        booking.cancel(s, a.id, None, NOW)
        booking.cancel(s, a.id, None, NOW)
        assert [type(e) for e in s.info["events"]] == [events.AppointmentCancelled]
    with database.write_session() as s:
        booking.book(s, request(w), None, NOW, policy=POLICY)


@pytest.mark.parametrize("changes, field", [
    (dict(minutes=0), "end"),
    (dict(minutes=8 * 60 + 1), "end"),
    (dict(start=NOW - timedelta(hours=1)), "start"),
    (dict(mode="phone"), "room_id"),
    (dict(room_id=None), "room_id"),
    (dict(mediator_ids=()), "mediator_ids"),
    (dict(kind="party"), "kind"),
])
def test_bad_requests_name_the_field_and_change_nothing(database, changes, field):
    w = build_world(database)
    with pytest.raises(InvalidInput) as err, database.write_session() as s:
        booking.book(s, request(w, **changes), None, NOW, policy=POLICY)
    assert err.value.errors[0]["field"] == field
    assert _count(database, Appointment) == 0 and _count(database, Reservation) == 0


def test_participants_and_mediators_must_belong_to_the_case(database):
    w = build_world(database)
    with database.write_session() as s:
        from tests import factories as f
        stranger = f.mediator(s).id
    for changes, field in [(dict(participant_ids=(w.other_participant_ids[0],)), "participant_ids"),
                           (dict(mediator_ids=(stranger,)), "mediator_ids")]:
        with pytest.raises(InvalidInput) as err, database.write_session() as s:
            booking.book(s, request(w, **changes), None, NOW, policy=POLICY)
        assert err.value.errors[0]["field"] == field


def test_joint_meeting_needs_a_waiting_area_unless_overridden(database):
    w = build_world(database, waiting_area=False)
    joint = dict(kind="meeting", participant_ids=tuple(w.participant_ids), minutes=120,
                 arrivals={w.participant_ids[0]: TUESDAY_10, w.participant_ids[1]: TUESDAY_10 + timedelta(minutes=15)})
    with pytest.raises(InvalidInput) as err, database.write_session() as s:
        booking.book(s, request(w, **joint), None, NOW, policy=POLICY)
    assert err.value.errors[0]["field"] == "room_id"
    with database.write_session() as s:
        a = booking.book(s, request(w, waiting_area_override=True, waiting_area_reason="no_other_room", **joint),
                         None, NOW, policy=POLICY)
        arrivals = {att.participant_id: att.arrival for att in a.attendances}
    assert arrivals[w.participant_ids[1]] == TUESDAY_10 + timedelta(minutes=15)
    with database.session() as s:  # the room is held for the whole span, not from the later arrival
        room = s.scalar(select(Reservation).where(Reservation.appointment_id == a.id, Reservation.room_id.is_not(None)))
        assert (room.starts_at, room.ends_at) == (TUESDAY_10, TUESDAY_10 + timedelta(minutes=120))


def test_an_expired_hold_cannot_be_moved_back_to_life(database):
    w = build_world(database)
    with database.write_session() as s:
        held = booking.book(s, request(w), None, NOW, policy=POLICY, hold_for=timedelta(minutes=15))
    later = TUESDAY_10 + timedelta(days=1)
    with pytest.raises(Conflict), database.write_session() as s:
        booking.reschedule(s, held.id, AppointmentChange(later, later + timedelta(hours=1)), None, NOW + timedelta(minutes=30), policy=POLICY)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Reservation)
                        .where(Reservation.appointment_id == held.id, Reservation.starts_at == later)) == 0


def test_reschedule_keeps_staggered_arrivals_at_their_distance_and_forgets_replies(database):
    from scheduler.models import Attendance

    w = build_world(database)
    victim, offender = w.participant_ids
    joint = dict(kind="meeting", participant_ids=(victim, offender), minutes=120,
                 arrivals={victim: TUESDAY_10, offender: TUESDAY_10 + timedelta(minutes=20)})
    with database.write_session() as s:
        a = booking.book(s, request(w, **joint), None, NOW, policy=POLICY)
    with database.write_session() as s:
        att = s.get(Attendance, (a.id, offender))
        att.response, att.responded_at = "coming", NOW
    new_start = TUESDAY_10 + timedelta(minutes=10)  # a small move: old arrivals still lie inside
    with database.write_session() as s:
        booking.reschedule(s, a.id, AppointmentChange(new_start, new_start + timedelta(hours=2)), None, NOW, policy=POLICY)
    with database.session() as s:
        arrivals = {x.participant_id: (x.arrival, x.response) for x in s.get(Appointment, a.id).attendances}
    assert arrivals == {victim: (new_start, None), offender: (new_start + timedelta(minutes=20), None)}
