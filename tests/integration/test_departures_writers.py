"""Every writer of attendances stores the staggered departures of scheduler.rules.staggered_departures.

The writers: booking.book and booking.reschedule (a move of the whole appointment, new arrivals, a change
of mode or participants), the API's create and reschedule (which call them, with the office's settings),
and the joint-meeting page (tests/integration/test_desk_meeting.py). Reassignment changes only mediators:
it leaves the departures as they are.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.db import Database
from core.problems import InvalidInput
from scheduler import booking
from scheduler.changes import AppointmentChange
from scheduler.models import Appointment, Attendance
from scheduler.reassign import reassign_future
from tests.conftest import with_settings
from tests.integration.booking_helpers import NOW, POLICY, TUESDAY_10, build_world, request
from tests.integration.test_api_appointments import at, utc, working_day, world  # noqa: F401 - the fixture

MIN = timedelta(minutes=1)
GAP = POLICY.departure_gap  # the settings' default, 10 minutes


def departures(db: Database, appointment_id: int) -> dict[int, datetime | None]:
    with db.session() as s:
        return {a.participant_id: a.departure
                for a in s.scalars(select(Attendance).where(Attendance.appointment_id == appointment_id))}


def _joint(w: Any, start: datetime = TUESDAY_10, minutes: int = 120, first: str = "victim", **kw: Any) -> Any:
    victim, offender = w.participant_ids
    later = offender if first == "victim" else victim
    return request(w, start, minutes, kind="meeting", participant_ids=(victim, offender),
                   arrivals={later: start + 15 * MIN}, **kw)


def test_book_stores_the_departures_and_a_one_sided_appointment_none(database: Database) -> None:
    w = build_world(database)
    victim, offender = w.participant_ids
    with database.write_session() as s:
        joint = booking.book(s, _joint(w), None, NOW, policy=POLICY).id
        intake = booking.book(s, request(w, TUESDAY_10 + timedelta(days=1)), None, NOW, policy=POLICY).id
    end = TUESDAY_10 + timedelta(hours=2)
    assert departures(database, joint) == {victim: end - GAP, offender: end}
    assert departures(database, intake) == {victim: None}


def test_book_follows_the_policy_gap_and_zero_turns_it_off(database: Database) -> None:
    w = build_world(database)
    victim, offender = w.participant_ids
    end = TUESDAY_10 + timedelta(hours=2)
    with database.write_session() as s:
        a = booking.book(s, _joint(w, first="offender"), None, NOW, policy=replace(POLICY, departure_gap=25 * MIN)).id
    assert departures(database, a) == {victim: end, offender: end - 25 * MIN}
    later = TUESDAY_10 + timedelta(days=1)
    with database.write_session() as s:
        b = booking.book(s, _joint(w, later), None, NOW, policy=replace(POLICY, departure_gap=timedelta(0))).id
    assert departures(database, b) == {victim: later + timedelta(hours=2), offender: later + timedelta(hours=2)}


def test_a_move_of_the_whole_appointment_moves_the_departures(database: Database) -> None:
    w = build_world(database)
    victim, offender = w.participant_ids
    with database.write_session() as s:
        a = booking.book(s, _joint(w), None, NOW, policy=POLICY).id
    later = TUESDAY_10 + timedelta(days=1, hours=1)
    with database.write_session() as s:
        booking.reschedule(s, a, AppointmentChange(later, later + timedelta(hours=1)), None, NOW, policy=POLICY)
    end = later + timedelta(hours=1)
    assert departures(database, a) == {victim: end - GAP, offender: end}


def test_new_arrivals_swap_who_leaves_first(database: Database) -> None:
    w = build_world(database)
    victim, offender = w.participant_ids
    with database.write_session() as s:
        a = booking.book(s, _joint(w), None, NOW, policy=POLICY).id
    end = TUESDAY_10 + timedelta(hours=2)
    change = AppointmentChange(TUESDAY_10, end, arrivals={victim: TUESDAY_10 + 20 * MIN})
    with database.write_session() as s:
        booking.reschedule(s, a, change, None, NOW, policy=POLICY)
    assert departures(database, a) == {victim: end, offender: end - GAP}


def test_by_video_or_with_one_party_left_there_are_no_departures(database: Database) -> None:
    w = build_world(database)
    victim, offender = w.participant_ids
    with database.write_session() as s:
        a = booking.book(s, _joint(w), None, NOW, policy=POLICY).id
        b = booking.book(s, _joint(w, TUESDAY_10 + timedelta(days=1)), None, NOW, policy=POLICY).id
    end = TUESDAY_10 + timedelta(hours=2)
    with database.write_session() as s:
        booking.reschedule(s, a, AppointmentChange(TUESDAY_10, end, mode="video", room_id=None), None, NOW,
                           policy=POLICY)
        day_after = TUESDAY_10 + timedelta(days=1)
        booking.reschedule(s, b, AppointmentChange(day_after, day_after + timedelta(hours=2),
                                                   participant_ids=(victim,), arrivals={}), None, NOW, policy=POLICY)
    assert departures(database, a) == {victim: None, offender: None}
    assert departures(database, b) == {victim: None}


def test_a_move_that_leaves_the_second_party_arriving_after_the_first_leaves_is_refused(database: Database) -> None:
    w = build_world(database)
    _, offender = w.participant_ids
    with database.write_session() as s:
        a = booking.book(s, _joint(w), None, NOW, policy=POLICY).id
    short = AppointmentChange(TUESDAY_10, TUESDAY_10 + 20 * MIN)  # the offender arrives at 15, the victim leaves at 10
    with pytest.raises(InvalidInput) as err, database.write_session() as s:
        booking.reschedule(s, a, short, None, NOW, policy=POLICY)
    assert err.value.errors[0]["field"] == "arrivals"
    with database.session() as s:  # nothing changed
        assert s.get(Appointment, a).end == TUESDAY_10 + timedelta(hours=2)
    assert departures(database, a)[offender] == TUESDAY_10 + timedelta(hours=2)


def test_reassignment_leaves_the_departures_as_they_are(database: Database) -> None:
    w = build_world(database)
    with database.write_session() as s:
        a = booking.book(s, _joint(w), None, NOW, policy=POLICY).id
    before = departures(database, a)
    with database.write_session() as s:
        result = reassign_future(s, w.mediator_ids[0], None, NOW, policy=POLICY)
    assert result.moved and departures(database, a) == before


# --- through the API, with the office's settings -------------------------------------------------

def _api_joint(world: dict[str, Any], start: datetime, minutes: int = 90) -> dict[str, Any]:
    victim, offender = world["mine_people"]
    return {"case_id": world["mine"], "kind": "meeting", "mode": "in_person", "start": start.isoformat(),
            "end": (start + timedelta(minutes=minutes)).isoformat(), "mediator_ids": [world["m1"]],
            "room_id": world["rooms"][0], "participant_ids": [victim, offender],
            "arrivals": {str(victim): (start + 15 * MIN).isoformat()}}


def test_api_create_and_reschedule_return_and_store_the_departures(client: Any, runtime: Any,
                                                                   world: dict[str, Any]) -> None:
    victim, offender = world["mine_people"]
    start = at(working_day(runtime), 10)
    created = client.post("/api/v1/appointments", json=_api_joint(world, start), headers=world["coordinator"])
    assert created.status_code == 201, created.get_json()
    end = start + timedelta(minutes=90)
    assert created.get_json()["departures"] == {str(victim): utc(end), str(offender): utc(end - GAP)}
    later = start + timedelta(hours=3)
    moved = client.post(f"/api/v1/appointments/{created.get_json()['id']}/reschedule", headers=world["coordinator"],
                        json={"start": later.isoformat(), "end": (later + timedelta(hours=1)).isoformat()})
    assert moved.status_code == 200, moved.get_json()
    new_end = later + timedelta(hours=1)
    assert moved.get_json()["departures"] == {str(victim): utc(new_end), str(offender): utc(new_end - GAP)}
    assert departures(runtime.db, moved.get_json()["id"]) == {victim: new_end, offender: new_end - GAP}


def test_the_api_uses_the_departure_gap_setting(settings: Any, world: dict[str, Any]) -> None:
    from app import create_app

    app = create_app(with_settings(settings, departure_gap_minutes=0))
    try:
        victim, offender = world["mine_people"]
        start = at(working_day(app.extensions["pendel"]), 11)
        response = app.test_client().post("/api/v1/appointments", json=_api_joint(world, start),
                                          headers=world["coordinator"])
        assert response.status_code == 201, response.get_json()
        end = utc(start + timedelta(minutes=90))
        assert response.get_json()["departures"] == {str(victim): end, str(offender): end}
    finally:
        app.extensions["pendel"].db.dispose()


def test_the_openapi_document_describes_departures(client: Any) -> None:
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["AppointmentOut"]
    assert "departures" in schema["properties"] and "departures" in schema["required"]
    assert "leaves" in schema["properties"]["departures"]["description"]


def test_a_mediator_sees_the_departures_too(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    start = at(working_day(runtime), 14)
    created = client.post("/api/v1/appointments", json=_api_joint(world, start, 60), headers=world["mediator1"])
    assert created.status_code == 201, created.get_json()
    listed = client.get(f"/api/v1/appointments?case_id={world['mine']}", headers=world["mediator1"]).get_json()
    assert listed["appointments"][0]["departures"] == created.get_json()["departures"]


# --- what each party is told: their own arrival and departure, never the other's ---------------

def test_each_party_is_told_only_their_own_arrival_and_departure(runtime: Any) -> None:
    from core.db import utcnow
    from notifications.models import OutboxMessage
    from tests.integration.booking_helpers import future_start

    db = runtime.db
    w = build_world(db)
    victim, offender = w.participant_ids
    start = future_start()  # 10:00 local
    with db.write_session() as s:
        booking.book(s, _joint(w, start), None, utcnow(), policy=POLICY)
    with db.session() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient_kind == "participant",
                                                     OutboxMessage.kind == "appointment_confirmed")).all()
        said = {(r.participant_id, r.channel): (r.body, r.attachment_ics) for r in rows}
    victim_sms, offender_sms = said[(victim, "sms")][0], said[(offender, "sms")][0]
    assert "10:00 uur tot 11:50 uur" in victim_sms and "10:15" not in victim_sms and "12:00" not in victim_sms
    assert "10:15 uur tot 12:00 uur" in offender_sms and "11:50" not in offender_sms
    victim_mail, victim_ics = said[(victim, "email")]
    assert "10:00 tot 11:50 uur" in victim_mail and "10:15" not in victim_mail
    # The calendar invitation runs from their own arrival to their own departure.
    assert "DTSTART;TZID=Europe/Amsterdam:" in victim_ics
    assert [line for line in victim_ics.splitlines() if line.startswith("DTEND")][0].endswith("T115000")
    offender_mail, offender_ics = said[(offender, "email")]
    assert "10:15 tot 12:00 uur" in offender_mail and "11:50" not in offender_mail
    assert [line for line in offender_ics.splitlines() if line.startswith("DTEND")][0].endswith("T120000")
