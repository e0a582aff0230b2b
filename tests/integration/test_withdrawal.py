"""Withdrawal: stop at any moment, at once for that participant, and only through the mediator for the other."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.problems import Conflict, InvalidInput
from scheduler import booking, events
from scheduler.models import Appointment, MediatorTask, Participant
from scheduler.withdrawal import INFORM_OTHER_PARTY, undo_withdrawal, withdraw
from tests.conftest import both_databases
from tests.integration.booking_helpers import NOW, TUESDAY_10, build_world, request
from tests.integration.booking_helpers import POLICY


@both_databases
def test_withdrawal_cancels_future_appointments_and_tells_nobody_automatically(database):
    w = build_world(database)
    victim, offender = w.participant_ids
    with database.write_session() as s:
        intake = booking.book(s, request(w, participant_ids=(victim,)), None, NOW, policy=POLICY)
        other_intake = booking.book(s, request(w, start=TUESDAY_10 + timedelta(days=1), participant_ids=(offender,),
                                               mediator_ids=(w.mediator_ids[1],)), None, NOW, policy=POLICY)
        meeting_start = TUESDAY_10 + timedelta(days=7)
        meeting = booking.book(s, request(w, start=meeting_start, kind="meeting", minutes=120,
                                          participant_ids=(victim, offender),
                                          arrivals={offender: meeting_start + timedelta(minutes=15)}),
                               None, NOW, policy=POLICY)
    with database.write_session() as s:
        withdraw(s, victim, None, NOW + timedelta(minutes=5))
        published = s.info["events"]
    cancelled = [e for e in published if isinstance(e, events.AppointmentCancelled)]
    assert {e.appointment_id for e in cancelled} == {intake.id, meeting.id}
    # Nobody in a cancelled appointment is messaged automatically.
    for e in cancelled:
        assert e.reason == "participant_withdrew"
        with database.session() as s:
            everyone = {a.participant_id for a in s.get(Appointment, e.appointment_id).attendances}
        assert set(e.silent_participant_ids) == everyone
    assert any(isinstance(e, events.ParticipantWithdrew) for e in published)
    with database.session() as s:
        assert s.get(Appointment, intake.id).status == "cancelled"
        assert s.get(Appointment, meeting.id).status == "cancelled"
        assert s.get(Appointment, other_intake.id).status == "confirmed"  # the other party's own intake stays
        assert s.get(Participant, victim).withdrawn_at is not None
        tasks = s.scalars(select(MediatorTask)).all()
    # One task per mediator of the joint meeting: tell the other party personally. None for the solo intake.
    assert {(t.kind, t.appointment_id, t.mediator_id) for t in tasks} == {(INFORM_OTHER_PARTY, meeting.id, w.mediator_ids[0])}


def test_withdrawn_participant_cannot_be_booked_until_undone(database):
    w = build_world(database)
    victim = w.participant_ids[0]
    with database.write_session() as s:
        withdraw(s, victim, None, NOW)
    with pytest.raises(InvalidInput) as err, database.write_session() as s:
        booking.book(s, request(w, participant_ids=(victim,)), None, NOW, policy=POLICY)
    assert err.value.errors[0]["field"] == "participant_ids"
    with database.write_session() as s:
        undo_withdrawal(s, victim, None, NOW)
        assert isinstance(s.info["events"][-1], events.WithdrawalUndone)
    with database.write_session() as s:
        booking.book(s, request(w, participant_ids=(victim,)), None, NOW, policy=POLICY)
    with pytest.raises(Conflict), database.write_session() as s:
        undo_withdrawal(s, victim, None, NOW)


def test_undo_does_not_revive_cancelled_appointments(database):
    w = build_world(database)
    victim = w.participant_ids[0]
    with database.write_session() as s:
        a = booking.book(s, request(w, participant_ids=(victim,)), None, NOW, policy=POLICY)
    with database.write_session() as s:
        withdraw(s, victim, None, NOW)
    with database.write_session() as s:
        undo_withdrawal(s, victim, None, NOW)
    with database.session() as s:
        assert s.get(Appointment, a.id).status == "cancelled"


def test_past_appointments_are_left_alone(database):
    w = build_world(database)
    victim = w.participant_ids[0]
    with database.write_session() as s:
        a = booking.book(s, request(w, participant_ids=(victim,)), None, NOW, policy=POLICY)
    with database.write_session() as s:
        withdraw(s, victim, None, a.end + timedelta(hours=1))
        assert not [e for e in s.info["events"] if isinstance(e, events.AppointmentCancelled)]
    with database.session() as s:
        assert s.get(Appointment, a.id).status == "confirmed"


def test_the_inform_task_goes_to_a_mediator_who_is_at_work(database):
    """The meeting's mediator is away (inactive): the other party must still hear it soon, from the case's
    other mediator, not when the absent one is back."""
    w = build_world(database)
    victim, offender = w.participant_ids
    away, colleague = w.mediator_ids
    start = TUESDAY_10 + timedelta(days=7)
    with database.write_session() as s:
        meeting = booking.book(s, request(w, start=start, kind="meeting", minutes=120, participant_ids=(victim, offender),
                                          arrivals={offender: start + timedelta(minutes=15)}), None, NOW, policy=POLICY)
    with database.write_session() as s:
        from scheduler.models import Mediator
        s.get(Mediator, away).active = False
    with database.write_session() as s:
        withdraw(s, victim, None, NOW + timedelta(minutes=5))
    with database.session() as s:
        tasks = s.scalars(select(MediatorTask)).all()
    assert {(t.kind, t.appointment_id, t.mediator_id) for t in tasks} == {(INFORM_OTHER_PARTY, meeting.id, colleague)}
