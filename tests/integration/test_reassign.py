"""A mediator falls ill: their future appointments move to free colleagues, or are listed."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.workdays import WorkingDayCalendar
from scheduler import booking
from scheduler.models import Appointment, Reservation, case_mediators
from scheduler.reassign import reassign_future
from tests import factories as f
from tests.conftest import both_databases
from tests.integration.booking_helpers import NOW, TUESDAY_10, build_world, request
from tests.integration.booking_helpers import POLICY

TZ = ZoneInfo("Europe/Amsterdam")


@both_databases
def test_reassign_moves_to_a_free_colleague_and_lists_the_rest(database):
    w = build_world(database)
    sick, colleague = w.mediator_ids
    with database.write_session() as s:
        free_one = booking.book(s, request(w), None, NOW, policy=POLICY)
        clash_time = TUESDAY_10 + timedelta(days=1)
        stuck = booking.book(s, request(w, start=clash_time), None, NOW, policy=POLICY)
        # The colleague is busy at the second time, with another case.
        booking.book(s, request(w, start=clash_time, mediator_ids=(colleague,), room_id=w.room_ids[1],
                                case_id=w.other_case_id, participant_ids=(w.other_participant_ids[0],)), None, NOW, policy=POLICY)
    with database.write_session() as s:
        result = reassign_future(s, sick, None, NOW, policy=POLICY)
    assert result.moved == [(free_one.id, colleague)]
    assert result.unmovable == [stuck.id]
    with database.session() as s:
        moved = s.get(Appointment, free_one.id)
        assert [m.id for m in moved.mediators] == [colleague] and moved.version == 2
        live = s.scalars(select(Reservation.mediator_id).where(Reservation.appointment_id == free_one.id,
                                                               Reservation.live,
                                                               Reservation.mediator_id.is_not(None))).all()
        assert live == [colleague]
        assert [m.id for m in s.get(Appointment, stuck.id).mediators] == [sick]


def test_reassign_respects_working_hours_and_brings_the_new_mediator_onto_the_case(database):
    w = build_world(database)
    sick = w.mediator_ids[0]
    with database.write_session() as s:
        a = booking.book(s, request(w), None, NOW, policy=POLICY)
        mornings_off = f.mediator(s, working_hours=[{"weekday": d, "start": "13:00", "end": "17:00"} for d in range(5)])
        newcomer = f.mediator(s)
        mornings_off_id, newcomer_id = mornings_off.id, newcomer.id
    with database.write_session() as s:
        result = reassign_future(s, sick, None, NOW, policy=POLICY, candidate_ids=[mornings_off_id, newcomer_id])
    assert result.moved == [(a.id, newcomer_id)]
    with database.session() as s:
        assert newcomer_id in s.scalars(select(case_mediators.c.mediator_id)
                                        .where(case_mediators.c.case_id == w.case_id)).all()
