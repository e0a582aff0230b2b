"""Mediators, locations and rooms over the JSON API: field names of the API contract, roles, validation."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from scheduler.models import Location, Mediator, Room
from tests import factories
from tests.conftest import both_databases

HOURS = [{"weekday": 0, "start": "09:00", "end": "12:30"}, {"weekday": 2, "start": "13:00", "end": "17:00"}]


@pytest.fixture
def office(runtime: Any) -> dict[str, Any]:
    """A coordinator, an admin and a mediator with a login; each with bearer headers."""
    with runtime.db.write_session() as s:
        own = factories.mediator(s)
        _, coordinator = factories.staff(s, "coordinator")
        _, admin = factories.staff(s, "admin")
        _, mediator = factories.staff(s, "mediator", own)
        return {"coordinator": coordinator, "admin": admin, "mediator": mediator, "own_id": own.id}


def count(runtime: Any, model: type) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


@both_databases
def test_mediator_create_list_get_patch(client: Any, office: dict[str, Any]) -> None:
    body = {"name": "Noor Hendriks", "email": "noor@example.org", "phone": "06 12345678",
            "working_hours": HOURS, "buffer_minutes": 30, "active": True}
    created = client.post("/api/v1/mediators", json=body, headers=office["coordinator"])
    assert created.status_code == 201, created.get_json()
    data = created.get_json()
    assert data == {**body, "id": data["id"], "phone": "+31612345678"}
    assert created.headers["Location"].endswith(f"/api/v1/mediators/{data['id']}")

    listed = client.get("/api/v1/mediators", headers=office["mediator"]).get_json()["mediators"]
    assert data in listed and len(listed) == 2
    assert client.get(f"/api/v1/mediators/{data['id']}", headers=office["mediator"]).get_json() == data

    patched = client.patch(f"/api/v1/mediators/{data['id']}", json={"buffer_minutes": 15, "phone": None},
                           headers=office["admin"])
    assert patched.status_code == 200
    assert patched.get_json() == {**data, "buffer_minutes": 15, "phone": None}
    inactive = client.get("/api/v1/mediators?active=false", headers=office["admin"]).get_json()["mediators"]
    assert inactive == []


def test_mediator_writes_need_the_office(client: Any, office: dict[str, Any], runtime: Any) -> None:
    body = {"name": "X", "email": "x@example.org"}
    assert client.post("/api/v1/mediators", json=body).status_code == 401
    denied = client.post("/api/v1/mediators", json=body, headers=office["mediator"])
    assert denied.status_code == 403
    assert denied.mimetype == "application/problem+json"
    assert client.patch(f"/api/v1/mediators/{office['own_id']}", json={"buffer_minutes": 99},
                        headers=office["mediator"]).status_code == 403
    assert client.get("/api/v1/mediators", headers={"Authorization": "Bearer pdl_nope"}).status_code == 401
    assert count(runtime, Mediator) == 1
    with runtime.db.session() as s:
        assert s.get(Mediator, office["own_id"]).buffer_minutes == 0


def test_patch_leaves_unsent_fields_and_refuses_null_for_required(client: Any, office: dict[str, Any],
                                                                   runtime: Any) -> None:
    url = f"/api/v1/mediators/{office['own_id']}"
    before = client.get(url, headers=office["coordinator"]).get_json()
    refused = client.patch(url, json={"name": None}, headers=office["coordinator"])
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "name"
    ok = client.patch(url, json={"working_hours": []}, headers=office["coordinator"]).get_json()
    assert ok == {**before, "working_hours": []}


def test_working_hours_must_end_after_they_start(client: Any, office: dict[str, Any], runtime: Any) -> None:
    body = {"name": "Y", "email": "y@example.org",
            "working_hours": [{"weekday": 1, "start": "09:00", "end": "17:00"},
                              {"weekday": 3, "start": "14:00", "end": "09:00"}]}
    response = client.post("/api/v1/mediators", json=body, headers=office["coordinator"])
    assert response.status_code == 422
    assert {"field": "working_hours.1.end", "message": "must be after start"} in response.get_json()["errors"]
    assert count(runtime, Mediator) == 1


@both_databases
def test_location_and_room_lifecycle(client: Any, office: dict[str, Any]) -> None:
    headers = office["coordinator"]
    loc = client.post("/api/v1/locations", json={"name": "Buurthuis", "address": "Lindenlaan 12",
                                                  "city": "Utrecht"}, headers=headers)
    assert loc.status_code == 201
    location = loc.get_json()
    assert set(location) == {"id", "name", "address", "city"}
    assert client.get("/api/v1/locations", headers=office["mediator"]).get_json()["locations"] == [location]
    moved = client.patch(f"/api/v1/locations/{location['id']}", json={"city": "Zeist"}, headers=headers)
    assert moved.get_json() == {**location, "city": "Zeist"}

    room_body = {"location_id": location["id"], "name": "Spreekkamer 1", "capacity": 6,
                 "separate_waiting_area": True, "accessible": True, "active": True}
    room = client.post("/api/v1/rooms", json=room_body, headers=headers)
    assert room.status_code == 201
    data = room.get_json()
    assert data == {**room_body, "id": data["id"]}
    assert client.get(f"/api/v1/rooms/{data['id']}", headers=office["mediator"]).get_json() == data
    assert client.get(f"/api/v1/rooms?location_id={location['id']}", headers=headers).get_json()["rooms"] == [data]
    assert client.get(f"/api/v1/rooms?location_id={location['id'] + 1}", headers=headers).get_json()["rooms"] == []
    off = client.patch(f"/api/v1/rooms/{data['id']}", json={"active": False}, headers=headers).get_json()
    assert off == {**data, "active": False}
    assert client.get("/api/v1/rooms?active=true", headers=headers).get_json()["rooms"] == []


def test_room_defaults_and_unknown_location(client: Any, office: dict[str, Any], runtime: Any) -> None:
    headers = office["coordinator"]
    loc = client.post("/api/v1/locations", json={"name": "L", "address": "A 1", "city": "C"}, headers=headers)
    location_id = loc.get_json()["id"]
    room = client.post("/api/v1/rooms", json={"location_id": location_id, "name": "K"}, headers=headers).get_json()
    assert room["capacity"] == 4 and room["active"] is True and room["separate_waiting_area"] is False
    rooms_before = count(runtime, Room)
    unknown = client.post("/api/v1/rooms", json={"location_id": location_id + 100, "name": "K2"}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0]["field"] == "location_id"
    relocate = client.patch(f"/api/v1/rooms/{room['id']}", json={"location_id": 0}, headers=headers)
    assert relocate.status_code == 422
    assert count(runtime, Room) == rooms_before
    assert count(runtime, Location) == 1


def test_unknown_ids_in_the_path_are_404(client: Any, office: dict[str, Any]) -> None:
    for path in ("/api/v1/mediators/9999", "/api/v1/locations/9999", "/api/v1/rooms/9999"):
        response = client.get(path, headers=office["coordinator"])
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
    patch = client.patch("/api/v1/rooms/9999", json={"name": "x"}, headers=office["coordinator"])
    assert patch.status_code == 404
