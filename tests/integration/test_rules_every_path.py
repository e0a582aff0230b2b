"""The booking rules hold on every path that creates or changes an appointment, over the HTTP API.

Keep-apart (a room with a separate waiting area, staggered arrivals), the office's calendar (working
days, working hours, minimum notice) and "a participant is in one place at a time" hold for booking,
reschedule and reassignment alike; only a coordinator overrides, with a reason that is stored and
audited. Times are counted from today, on working days, so the suite passes any day it runs.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.db import utcnow
from core.models import AuditEntry
from scheduler.models import Appointment, Participant, Room
from tests import factories
from tests.conftest import both_databases
from tests.integration.test_api_appointments import AMS, at, working_day, world  # noqa: F401 - the fixture

GAP = timedelta(minutes=15)


def joint(world: dict[str, Any], start: datetime, room: int, minutes: int = 120, **kw: Any) -> dict[str, Any]:
    victim, offender = world["mine_people"]
    body = {"case_id": world["mine"], "kind": "meeting", "mode": "in_person", "start": start.isoformat(),
            "end": (start + timedelta(minutes=minutes)).isoformat(), "mediator_ids": [world["m1"]],
            "room_id": room, "participant_ids": [victim, offender],
            "arrivals": {str(offender): (start + GAP).isoformat()}}
    body.update(kw)
    return body


def plain_room(runtime: Any, world: dict[str, Any]) -> int:
    """A room at the world's location without a separate waiting area."""
    with runtime.db.write_session() as s:
        room = Room(location_id=world["loc"], name="Kleine kamer", capacity=4, separate_waiting_area=False)
        s.add(room)
        s.flush()
        return room.id


def audit(runtime: Any, action_prefix: str) -> list[tuple[str, str]]:
    with runtime.db.session() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action.startswith(action_prefix))
                         .order_by(AuditEntry.id)).all()
        return [(r.action, r.detail) for r in rows]


def post(client: Any, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(f"/api/v1{path}", json=body, headers=headers)


# --- keep-apart ---------------------------------------------------------------------------------

@both_databases
def test_rescheduling_a_joint_meeting_into_a_room_without_a_waiting_area_is_refused(client, runtime, world):
    start = at(working_day(runtime), 10)
    booked = post(client, "/appointments", joint(world, start, world["rooms"][0]), world["mediator1"])
    assert booked.status_code == 201, booked.get_json()
    plain = plain_room(runtime, world)
    moved = post(client, f"/appointments/{booked.get_json()['id']}/reschedule",
                 {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat(), "room_id": plain},
                 world["mediator1"])
    assert moved.status_code == 422 and moved.get_json()["errors"][0]["field"] == "room_id"
    # A mediator may not override; a coordinator may, with a reason that is stored and audited.
    override = {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat(), "room_id": plain,
                "waiting_area_override": True, "waiting_area_reason": "no_other_room"}
    assert post(client, f"/appointments/{booked.get_json()['id']}/reschedule", override,
                world["mediator1"]).status_code == 403
    done = post(client, f"/appointments/{booked.get_json()['id']}/reschedule", override, world["coordinator"])
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["room_id"], done.get_json()["waiting_area_reason"]) == (plain, "no_other_room")
    assert audit(runtime, "appointment.override") == [("appointment.override.waiting_area", "no_other_room")]


def test_an_override_needs_a_reason(client, runtime, world):
    start = at(working_day(runtime), 10)
    body = joint(world, start, plain_room(runtime, world), waiting_area_override=True)
    response = post(client, "/appointments", body, world["coordinator"])
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "waiting_area_reason"


@both_databases
def test_a_joint_meeting_with_equal_arrivals_is_refused(client, runtime, world):
    start = at(working_day(runtime), 10)
    victim, offender = world["mine_people"]
    for arrivals in ({}, {str(victim): start.isoformat(), str(offender): start.isoformat()},
                     {str(offender): (start + timedelta(minutes=5)).isoformat()}):
        response = post(client, "/appointments", joint(world, start, world["rooms"][0], arrivals=arrivals),
                        world["coordinator"])
        assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "arrivals"
    assert post(client, "/appointments", joint(world, start, world["rooms"][0]), world["coordinator"]).status_code == 201


@both_databases
def test_a_reschedule_moves_every_arrival_and_refuses_what_no_longer_fits(client, runtime, world):
    start = at(working_day(runtime), 10)
    victim, offender = world["mine_people"]
    body = joint(world, start, world["rooms"][0], arrivals={str(victim): (start + 2 * GAP).isoformat()})
    appointment = post(client, "/appointments", body, world["mediator1"]).get_json()
    path = f"/appointments/{appointment['id']}/reschedule"
    # Shortening the meeting to 20 minutes cannot keep the later arrival inside it: refused, not clamped.
    short = post(client, path, {"start": start.isoformat(), "end": (start + timedelta(minutes=20)).isoformat()},
                 world["mediator1"])
    assert short.status_code == 422 and short.get_json()["errors"][0]["field"] == "arrivals"
    later = start + timedelta(hours=3)
    moved = post(client, path, {"start": later.isoformat(), "end": (later + timedelta(hours=2)).isoformat()},
                 world["mediator1"])
    assert moved.status_code == 200, moved.get_json()
    arrivals = {int(k): datetime.fromisoformat(v) for k, v in moved.get_json()["arrivals"].items()}
    assert arrivals == {victim: later + 2 * GAP}  # the offender arrives at the start, 30 minutes apart
    back = post(client, path, {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()},
                world["mediator1"]).get_json()
    assert {int(k): datetime.fromisoformat(v) for k, v in back["arrivals"].items()} == {victim: start + 2 * GAP}
    # New arrivals given with the move replace the old ones, under the same rule.
    same = post(client, path, {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat(),
                               "arrivals": {str(victim): start.isoformat()}}, world["mediator1"])
    assert same.status_code == 422 and same.get_json()["errors"][0]["field"] == "arrivals"


# --- the office's calendar ----------------------------------------------------------------------

def _next(runtime: Any, wanted: Any) -> date:
    day = (utcnow() + timedelta(days=7)).astimezone(AMS).date()
    while not wanted(day):
        day += timedelta(days=1)
    return day


def _refused_times(runtime: Any) -> dict[str, datetime]:
    christmas = date(utcnow().astimezone(AMS).year + 1, 12, 25)
    saturday = _next(runtime, lambda d: d.weekday() == 5)
    weekday = working_day(runtime)
    return {"christmas morning": datetime.combine(christmas, time(10), AMS),
            "a saturday": datetime.combine(saturday, time(10), AMS),
            "21:00": at(weekday, 21),
            "in ten minutes": (utcnow() + timedelta(minutes=10)).astimezone(AMS)}


@both_databases
def test_times_outside_the_office_calendar_are_refused_unless_a_coordinator_gives_a_reason(client, runtime, world):
    for what, start in _refused_times(runtime).items():
        refused = post(client, "/appointments", {**_phone(world, start)}, world["coordinator"])
        assert refused.status_code == 422, what
        assert refused.get_json()["errors"][0]["field"] == "start", what
        mediator = post(client, "/appointments", _phone(world, start, outside_hours="participant_request"),
                        world["mediator1"])
        assert mediator.status_code == 403, what
        allowed = post(client, "/appointments", _phone(world, start, outside_hours="participant_request"),
                       world["coordinator"])
        assert allowed.status_code == 201, (what, allowed.get_json())
        assert allowed.get_json()["outside_hours_reason"] == "participant_request"
        client.post(f"/api/v1/appointments/{allowed.get_json()['id']}/cancel", json={}, headers=world["coordinator"])
    assert [a for a, _ in audit(runtime, "appointment.override")] == ["appointment.override.outside_hours"] * 4


def _phone(world: dict[str, Any], start: datetime, **kw: Any) -> dict[str, Any]:
    body = {"case_id": world["mine"], "kind": "intake", "mode": "phone", "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(), "mediator_ids": [world["m1"]],
            "participant_ids": [world["mine_people"][0]]}
    body.update(kw)
    return body


def test_a_reschedule_checks_the_office_calendar_too_and_the_override_does_not_carry(client, runtime, world):
    start = at(working_day(runtime), 10)
    booked = post(client, "/appointments", _phone(world, start), world["mediator1"]).get_json()
    evening = at(working_day(runtime), 20)
    path = f"/appointments/{booked['id']}/reschedule"
    body = {"start": evening.isoformat(), "end": (evening + timedelta(hours=1)).isoformat()}
    assert post(client, path, body, world["mediator1"]).status_code == 422
    moved = post(client, path, {**body, "outside_hours": "urgent"}, world["coordinator"])
    assert moved.status_code == 200 and moved.get_json()["outside_hours_reason"] == "urgent"
    # Moving on to another evening needs its own reason.
    other = evening + timedelta(minutes=30)
    assert post(client, path, {"start": other.isoformat(), "end": (other + timedelta(hours=1)).isoformat()},
                world["coordinator"]).status_code == 422


# --- a participant is in one place at a time ----------------------------------------------------

@both_databases
def test_a_participant_cannot_be_in_two_appointments_at_once(client, runtime, world):
    start = at(working_day(runtime), 10)
    victim = world["mine_people"][0]
    first = post(client, "/appointments", _phone(world, start), world["coordinator"])
    assert first.status_code == 201
    # Another mediator, another mode, half an hour later: still the same person.
    clash = post(client, "/appointments", _phone(world, start + timedelta(minutes=30), mediator_ids=[world["m2"]],
                                                  mode="video"), world["coordinator"])
    assert clash.status_code == 409
    assert clash.get_json()["conflicts"] == [{"type": "participant", "id": victim,
                                              "name": _name(runtime, victim)}]
    # A reschedule of another appointment into that time is refused the same way.
    later = post(client, "/appointments", _phone(world, start + timedelta(hours=2), mediator_ids=[world["m2"]]),
                 world["coordinator"]).get_json()
    into = post(client, f"/appointments/{later['id']}/reschedule",
                {"start": (start + timedelta(minutes=30)).isoformat(),
                 "end": (start + timedelta(minutes=90)).isoformat()}, world["coordinator"])
    assert into.status_code == 409 and into.get_json()["conflicts"][0]["type"] == "participant"
    # Right after the first one is fine.
    assert post(client, "/appointments", _phone(world, start + timedelta(hours=1), mediator_ids=[world["m2"]]),
                world["coordinator"]).status_code == 201


def _name(runtime: Any, participant_id: int) -> str:
    with runtime.db.session() as s:
        return s.get(Participant, participant_id).name


# --- a reschedule that reshapes the appointment ------------------------------------------------

@both_databases
def test_one_reschedule_changes_mode_room_mediators_participants_and_arrivals_at_once(client, runtime, world):
    start = at(working_day(runtime), 10)
    victim, offender = world["mine_people"]
    booked = post(client, "/appointments", _phone(world, start), world["coordinator"]).get_json()
    later = start + timedelta(hours=2)
    body = {"start": later.isoformat(), "end": (later + timedelta(hours=2)).isoformat(), "mode": "in_person",
            "room_id": world["rooms"][1], "mediator_ids": [world["m1"], world["m2"]],
            "participant_ids": [victim, offender], "arrivals": {str(offender): (later + GAP).isoformat()}}
    moved = post(client, f"/appointments/{booked['id']}/reschedule", body, world["coordinator"])
    assert moved.status_code == 200, moved.get_json()
    data = moved.get_json()
    assert (data["mode"], data["room_id"], data["mediator_ids"], data["participant_ids"]) == (
        "in_person", world["rooms"][1], [world["m1"], world["m2"]], [victim, offender])
    # A change that breaks a rule changes nothing at all.
    broken = {**body, "mode": "phone"}  # a phone appointment with a room
    refused = post(client, f"/appointments/{booked['id']}/reschedule", broken, world["coordinator"])
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "room_id"
    with runtime.db.session() as s:
        kept = s.get(Appointment, booked["id"])
        assert (kept.mode, kept.version) == ("in_person", 2)


# --- reassignment of a sick mediator ------------------------------------------------------------

@both_databases
def test_reassignment_takes_a_date_range_moves_open_tasks_and_audits(client, runtime, world):
    from scheduler.models import MediatorTask

    first = working_day(runtime)
    second = working_day(runtime, days_ahead=(first.date() - utcnow().astimezone(AMS).date()).days + 1)
    a = post(client, "/appointments", _phone(world, at(first, 10)), world["coordinator"]).get_json()
    b = post(client, "/appointments", _phone(world, at(second, 10)), world["coordinator"]).get_json()
    with runtime.db.write_session() as s:
        outsider = factories.mediator(s)
        task = MediatorTask(mediator_id=world["m1"], case_id=world["mine"], kind="inform_other_party",
                            participant_id=world["mine_people"][0])
        s.add(task)
        s.flush()
        task_id, outsider_id = task.id, outsider.id
    body = {"from": first.date().isoformat(), "to": first.date().isoformat(), "to_mediator_ids": [outsider_id]}
    done = post(client, f"/mediators/{world['m1']}/reassign-future", body, world["coordinator"])
    assert done.status_code == 200, done.get_json()
    assert done.get_json() == {"moved": [{"appointment_id": a["id"], "mediator_id": outsider_id}], "unmovable": [],
                               "tasks_moved": [{"task_id": task_id, "mediator_id": outsider_id}]}
    with runtime.db.session() as s:
        assert [m.id for m in s.get(Appointment, b["id"]).mediators] == [world["m1"]]  # outside the range
        assert s.get(MediatorTask, task_id).mediator_id == outsider_id
    actions = dict(audit(runtime, "mediator.reassigned"))
    assert actions["mediator.reassigned"].startswith(f"from={first.date().isoformat()};to={first.date().isoformat()}")
    assert audit(runtime, "case.mediator_added") == [("case.mediator_added", f"mediator={outsider_id}")]
    backwards = {"from": second.date().isoformat(), "to": first.date().isoformat()}
    refused = post(client, f"/mediators/{world['m1']}/reassign-future", backwards, world["coordinator"])
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "to"


def test_reassignment_keeps_the_rules_of_a_booking(client, runtime, world):
    """A colleague free at the time but not working then does not take the appointment over."""
    start = at(working_day(runtime), 10)
    booked = post(client, "/appointments", _phone(world, start), world["coordinator"]).get_json()
    with runtime.db.write_session() as s:
        afternoons = factories.mediator(s, working_hours=[{"weekday": d, "start": "13:00", "end": "17:00"}
                                                          for d in range(5)])
        afternoons_id = afternoons.id
    done = post(client, f"/mediators/{world['m1']}/reassign-future", {"to_mediator_ids": [afternoons_id]},
                world["coordinator"])
    assert done.get_json()["unmovable"] == [booked["id"]]


def test_concurrent_bookings_of_one_participant_through_different_mediators_one_wins(pg_url, database):
    """No row lock serialises two bookings that share only a participant: the database constraint does."""
    from core.db import Database
    from scheduler import booking
    from tests.integration.booking_helpers import POLICY, build_world, request
    from tests.support.days import working_day_at
    from tests.integration.test_concurrency import _run_all

    w = build_world(database)
    start = working_day_at(10, days_ahead=7)
    db = Database(pg_url)

    def book(i: int) -> int:
        with db.write_session() as s:
            return booking.book(s, request(w, start=start + timedelta(minutes=15 * (i % 2)),
                                           mediator_ids=(w.mediator_ids[i % 2],), room_id=w.room_ids[i % 2]),
                                None, utcnow(), policy=POLICY).id

    try:
        results = _run_all(book, 8)
    finally:
        db.dispose()
    wins = [r for r in results if isinstance(r, int)]
    assert len(wins) == 1, results
    assert all(isinstance(r, booking.BookingConflict) for r in results if not isinstance(r, int)), results
    assert {c["type"] for r in results if isinstance(r, booking.BookingConflict) for c in r.extra["conflicts"]} <= {
        "participant", "mediator", "room"}


def test_another_cases_participant_reads_like_an_unknown_one(client, runtime, world):
    start = at(working_day(runtime), 10)
    with runtime.db.session() as s:
        theirs = s.scalar(select(Participant.id).where(Participant.case_id == world["theirs"]))
    answers = []
    for participant_id in (theirs, 2_000_000):
        response = post(client, "/appointments", _phone(world, start, participant_ids=[participant_id]),
                        world["mediator1"])
        assert response.status_code == 422
        answers.append(response.get_json()["errors"][0]["message"].replace(str(participant_id), "N"))
    assert answers[0] == answers[1]
