"""Booking over the JSON API: book, hold → confirm, reschedule, cancel, availability, reassignment, conflicts."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.db import utcnow
from scheduler.models import Appointment, Case, Mediator, Reservation
from tests import factories
from tests.conftest import both_databases
from tests.support import days

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def world(runtime: Any) -> dict[str, Any]:
    """m1 and m2 share case `mine`; m3 alone has case `theirs`; a location with two rooms."""
    with runtime.db.write_session() as s:
        m1, m2, m3 = factories.mediator(s), factories.mediator(s), factories.mediator(s)
        mine, theirs = factories.case(s, [m1, m2]), factories.case(s, [m3])
        loc, other_loc = factories.location(s, rooms=2), factories.location(s, rooms=1)
        _, coordinator = factories.staff(s, "coordinator")
        _, mediator1 = factories.staff(s, "mediator", m1)
        _, mediator3 = factories.staff(s, "mediator", m3)
        return {"m1": m1.id, "m2": m2.id, "m3": m3.id, "mine": mine.id, "theirs": theirs.id,
                "theirs_ref": theirs.reference, "mine_people": [p.id for p in mine.participants],
                "loc": loc.id, "rooms": [r.id for r in loc.rooms], "other_loc": other_loc.id,
                "other_room": other_loc.rooms[0].id, "m1_name": m1.name,
                "coordinator": coordinator, "mediator1": mediator1, "mediator3": mediator3}


def working_day(runtime: Any, days_ahead: int = 14) -> datetime:
    """Local midnight of the first working day at least `days_ahead` days from now."""
    return days.local(days.working_day(days_ahead, runtime.workdays), 0)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


def booking(world: dict[str, Any], start: datetime, minutes: int = 60, **kw: Any) -> dict[str, Any]:
    body = {"case_id": world["mine"], "kind": "intake", "mode": "phone", "start": start.isoformat(),
            "end": (start + timedelta(minutes=minutes)).isoformat(), "mediator_ids": [world["m1"]]}
    body.update(kw)
    return body


def count(runtime: Any, model: type) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def utc(value: datetime) -> str:
    return value.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")


@both_databases
def test_coordinator_books_on_a_mediators_behalf(client: Any, world: dict[str, Any], runtime: Any) -> None:
    start = at(working_day(runtime), 10)
    body = booking(world, start, 90, kind="meeting", mode="in_person", room_id=world["rooms"][0],
                   participant_ids=world["mine_people"],
                   arrivals={str(world["mine_people"][1]): (start + timedelta(minutes=15)).isoformat()})
    response = client.post("/api/v1/appointments", json=body, headers=world["coordinator"])
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/appointments/{data['id']}")
    assert data == {"id": data["id"], "case_id": world["mine"], "kind": "meeting", "mode": "in_person",
                    "start": utc(start), "end": utc(start + timedelta(minutes=90)), "mediator_ids": [world["m1"]],
                    "room_id": world["rooms"][0], "participant_ids": world["mine_people"],
                    "arrivals": {str(world["mine_people"][1]): utc(start + timedelta(minutes=15))},
                    # The victim arrived first (at the start), so leaves DEPARTURE_GAP_MINUTES (10) before the end.
                    "departures": {str(world["mine_people"][0]): utc(start + timedelta(minutes=80)),
                                   str(world["mine_people"][1]): utc(start + timedelta(minutes=90))},
                    "status": "confirmed", "hold_expires_at": None, "cancel_reason": None,
                    "waiting_area_override": False, "waiting_area_reason": None, "outside_hours_reason": None,
                    "busy_time_reason": None, "video_url": None,
                    "replies": {}}
    assert client.get(f"/api/v1/appointments/{data['id']}", headers=world["mediator1"]).get_json() == data


@both_databases
def test_double_booking_is_409_naming_the_mediator_not_the_other_case(client: Any, world: dict[str, Any],
                                                                    runtime: Any) -> None:
    start = at(working_day(runtime), 11)
    with runtime.db.write_session() as s:  # m1 joins the other case and is booked there
        other_case = s.get(Case, world["theirs"])
        other_case.mediators.append(s.get(Mediator, world["m1"]))
    first = client.post("/api/v1/appointments", json=booking(world, start, case_id=world["theirs"]),
                        headers=world["coordinator"])
    assert first.status_code == 201
    before = (count(runtime, Appointment), count(runtime, Reservation))
    clash = client.post("/api/v1/appointments", json=booking(world, start + timedelta(minutes=30)),
                        headers=world["mediator1"])
    assert clash.status_code == 409
    problem = clash.get_json()
    assert problem["conflicts"] == [{"type": "mediator", "id": world["m1"], "name": world["m1_name"]}]
    assert world["theirs_ref"] not in clash.get_data(as_text=True)
    assert "case" not in problem["detail"].lower()
    assert (count(runtime, Appointment), count(runtime, Reservation)) == before


def test_room_conflict_names_the_room(client: Any, world: dict[str, Any], runtime: Any) -> None:
    start = at(working_day(runtime), 9)
    room = world["rooms"][0]
    assert client.post("/api/v1/appointments", json=booking(world, start, mode="in_person", room_id=room),
                       headers=world["coordinator"]).status_code == 201
    clash = client.post("/api/v1/appointments", headers=world["coordinator"], json=booking(
        world, start, mode="in_person", room_id=room, mediator_ids=[world["m2"]]))
    assert clash.status_code == 409
    assert [c["type"] for c in clash.get_json()["conflicts"]] == ["room"]


def test_hold_then_confirm(client: Any, world: dict[str, Any], runtime: Any) -> None:
    start = at(working_day(runtime), 13)
    held = client.post("/api/v1/appointments", json=booking(world, start, status="held"), headers=world["mediator1"])
    assert held.status_code == 201
    data = held.get_json()
    assert data["status"] == "held" and data["hold_expires_at"] is not None
    expires = datetime.fromisoformat(data["hold_expires_at"])
    assert timedelta(0) < expires - utcnow() <= runtime.hold_duration
    other = client.post("/api/v1/appointments", json=booking(world, start), headers=world["coordinator"])
    assert other.status_code == 409  # the hold keeps the slot
    confirmed = client.post(f"/api/v1/appointments/{data['id']}/confirm", headers=world["mediator1"])
    assert confirmed.status_code == 200
    assert confirmed.get_json() == {**data, "status": "confirmed", "hold_expires_at": None}
    assert client.post(f"/api/v1/appointments/{data['id']}/confirm", headers=world["mediator1"]).status_code == 409


@both_databases
def test_reschedule_and_cancel_free_the_slot(client: Any, world: dict[str, Any], runtime: Any) -> None:
    day = working_day(runtime)
    first = client.post("/api/v1/appointments", json=booking(world, at(day, 9)), headers=world["mediator1"])
    second = client.post("/api/v1/appointments", json=booking(world, at(day, 14)), headers=world["mediator1"])
    first_id, second_id = first.get_json()["id"], second.get_json()["id"]
    move = {"start": at(day, 15).isoformat(), "end": at(day, 16).isoformat()}
    moved = client.post(f"/api/v1/appointments/{first_id}/reschedule", json=move, headers=world["mediator1"])
    assert moved.status_code == 200
    assert (moved.get_json()["start"], moved.get_json()["end"]) == (utc(at(day, 15)), utc(at(day, 16)))
    onto = {"start": at(day, 14, 30).isoformat(), "end": at(day, 15, 30).isoformat()}
    blocked = client.post(f"/api/v1/appointments/{first_id}/reschedule", json=onto, headers=world["mediator1"])
    assert blocked.status_code == 409
    assert client.get(f"/api/v1/appointments/{first_id}", headers=world["mediator1"]).get_json()["start"] == utc(
        at(day, 15))

    cancelled = client.post(f"/api/v1/appointments/{second_id}/cancel", json={"reason": "participant_request"},
                            headers=world["mediator1"])
    assert cancelled.status_code == 200
    assert (cancelled.get_json()["status"], cancelled.get_json()["cancel_reason"]) == ("cancelled",
                                                                                       "participant_request")
    rebooked = client.post("/api/v1/appointments", json=booking(world, at(day, 14)), headers=world["coordinator"])
    assert rebooked.status_code == 201
    bare = client.post(f"/api/v1/appointments/{rebooked.get_json()['id']}/cancel", headers=world["coordinator"])
    assert bare.status_code == 200 and bare.get_json()["cancel_reason"] == "cancelled"


@both_databases
def test_a_mediator_cannot_see_or_touch_appointments_of_other_cases(client: Any, world: dict[str, Any],
                                                                    runtime: Any) -> None:
    start = at(working_day(runtime), 10)
    theirs = client.post("/api/v1/appointments", headers=world["mediator3"], json=booking(
        world, start, case_id=world["theirs"], mediator_ids=[world["m3"]])).get_json()
    mine = client.post("/api/v1/appointments", json=booking(world, start), headers=world["mediator1"]).get_json()
    listed = client.get("/api/v1/appointments", headers=world["mediator1"]).get_json()["appointments"]
    assert [a["id"] for a in listed] == [mine["id"]]
    for path in ("", "/confirm", "/cancel"):
        method = client.get if not path else client.post
        assert method(f"/api/v1/appointments/{theirs['id']}{path}", headers=world["mediator1"]).status_code == 404
    assert client.get(f"/api/v1/appointments?case_id={world['theirs']}",
                      headers=world["mediator1"]).get_json()["appointments"] == []
    booked_there = client.post("/api/v1/appointments", headers=world["mediator1"], json=booking(
        world, start + timedelta(hours=3), case_id=world["theirs"], mediator_ids=[world["m3"]]))
    assert booked_there.status_code == 422
    assert booked_there.get_json()["errors"][0]["field"] == "case_id"
    assert client.get(f"/api/v1/appointments/{theirs['id']}",
                      headers=world["mediator3"]).get_json()["status"] == "confirmed"


def test_list_filters(client: Any, world: dict[str, Any], runtime: Any) -> None:
    day = working_day(runtime)
    a = client.post("/api/v1/appointments", json=booking(world, at(day, 9)), headers=world["coordinator"]).get_json()
    b = client.post("/api/v1/appointments", json=booking(world, at(day, 11), mediator_ids=[world["m2"]]),
                    headers=world["coordinator"]).get_json()
    headers = world["coordinator"]

    def ids(**params: Any) -> list[int]:
        response = client.get("/api/v1/appointments?" + urlencode(params), headers=headers)
        assert response.status_code == 200, response.get_json()
        return [x["id"] for x in response.get_json()["appointments"]]

    assert ids(case_id=world["mine"]) == [a["id"], b["id"]]
    assert ids(mediator_id=world["m2"]) == [b["id"]]
    assert ids(**{"from": at(day, 10).isoformat(), "to": at(day, 18).isoformat()}) == [b["id"]]
    assert ids(status="cancelled") == []


@both_databases
def test_availability_offers_free_slots_and_drops_booked_ones(client: Any, world: dict[str, Any],
                                                              runtime: Any) -> None:
    day = working_day(runtime)
    query = {"mediator_ids": f"{world['m1']},{world['m2']}", "duration_minutes": 60, "from": day.isoformat(),
             "to": (day + timedelta(days=1)).isoformat(), "limit": 100}
    response = client.get("/api/v1/availability?" + urlencode(query), headers=world["mediator1"])
    assert response.status_code == 200, response.get_json()
    slots = response.get_json()["slots"]
    assert slots and slots[0] == {"start": utc(at(day, 9)), "end": utc(at(day, 10)), "room_id": None}
    for slot in slots:
        start = datetime.fromisoformat(slot["start"]).astimezone(AMS)
        end = datetime.fromisoformat(slot["end"]).astimezone(AMS)
        assert end - start == timedelta(hours=1) and time(9) <= start.time() and end.time() <= time(17)
    client.post("/api/v1/appointments", json=booking(world, at(day, 9)), headers=world["mediator1"])
    again = client.get("/api/v1/availability?" + urlencode(query), headers=world["mediator1"]).get_json()["slots"]
    assert again[0]["start"] == utc(at(day, 10))

    at_location = {**query, "mediator_ids": world["m1"], "location_id": world["loc"]}
    rooms = client.get("/api/v1/availability?" + urlencode(at_location), headers=world["coordinator"]).get_json()
    assert rooms["slots"] and {s["room_id"] for s in rooms["slots"]} <= set(world["rooms"])
    repeated = f"/api/v1/availability?mediator_ids={world['m1']}&mediator_ids={world['m2']}&" + urlencode(
        {k: v for k, v in query.items() if k != "mediator_ids"})
    assert client.get(repeated, headers=world["coordinator"]).get_json()["slots"] == again


def test_reassign_future_moves_to_a_free_mediator(client: Any, world: dict[str, Any], runtime: Any) -> None:
    start = at(working_day(runtime), 10)
    booked = client.post("/api/v1/appointments", json=booking(world, start), headers=world["mediator1"]).get_json()
    denied = client.post(f"/api/v1/mediators/{world['m1']}/reassign-future", json={}, headers=world["mediator1"])
    assert denied.status_code == 403
    response = client.post(f"/api/v1/mediators/{world['m1']}/reassign-future",
                           json={"to_mediator_ids": [world["m2"]]}, headers=world["coordinator"])
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"moved": [{"appointment_id": booked["id"], "mediator_id": world["m2"]}],
                                   "unmovable": [], "tasks_moved": []}
    moved = client.get(f"/api/v1/appointments/{booked['id']}", headers=world["coordinator"]).get_json()
    assert moved["mediator_ids"] == [world["m2"]]
    assert client.post("/api/v1/mediators/9999/reassign-future", json={},
                       headers=world["coordinator"]).status_code == 404
