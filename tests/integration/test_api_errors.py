"""The issue's "Bad input" list: each is a 4xx problem naming the field, and the database is unchanged.

The row count of every table is compared before and after, so a request that
wrote anything (even an audit entry) before failing would be caught.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from composition import metadata
from core.db import utcnow
from tests import factories
from tests.conftest import both_databases
from tests.support.days import working_day_at

W = dict[str, Any]


@pytest.fixture
def world(runtime: Any) -> W:
    with runtime.db.write_session() as s:
        m1, m2, m3 = factories.mediator(s), factories.mediator(s), factories.mediator(s)
        case = factories.case(s, [m1, m2])
        loc, other = factories.location(s, rooms=1), factories.location(s, rooms=1)
        _, coordinator = factories.staff(s, "coordinator")
        _, mediator = factories.staff(s, "mediator", m1)
    start = working_day_at(10, calendar=runtime.workdays)  # the API checks it against the real clock
    return {"m1": m1.id, "m2": m2.id, "m3": m3.id, "case": case.id, "people": [p.id for p in case.participants],
            "loc": loc.id, "room": loc.rooms[0].id, "other_room": other.rooms[0].id, "start": start,
            "coordinator": coordinator, "mediator": mediator}


def snapshot(runtime: Any) -> dict[str, int]:
    with runtime.db.session() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) or 0 for t in metadata().sorted_tables}


def appointment(w: W, **changes: Any) -> W:
    body = {"case_id": w["case"], "kind": "intake", "mode": "phone", "start": w["start"].isoformat(),
            "end": (w["start"] + timedelta(hours=1)).isoformat(), "mediator_ids": [w["m1"]]}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def iso(w: W, hours: float) -> str:
    return (w["start"] + timedelta(hours=hours)).isoformat()


# (name, path, body builder, expected status, field named in the errors)
BAD_BODIES: list[tuple[str, str, Callable[[W], W], int, str]] = [
    ("string for an int", "/appointments", lambda w: appointment(w, case_id=str(w["case"])), 422, "case_id"),
    ("yes for a bool", "/appointments", lambda w: appointment(w, waiting_area_override="yes"), 422,
     "waiting_area_override"),
    ("1 for a bool", "/mediators", lambda w: {"name": "A", "email": "a@example.org", "active": 1}, 422, "active"),
    ("string minutes", "/mediators", lambda w: {"name": "A", "email": "a@example.org", "buffer_minutes": "30"},
     422, "buffer_minutes"),
    ("unknown field", "/appointments", lambda w: appointment(w, colour="red"), 422, "colour"),
    ("missing field", "/appointments", lambda w: appointment(w, kind=...), 422, "kind"),
    ("end before start", "/appointments", lambda w: appointment(w, end=iso(w, -1)), 422, "end"),
    ("zero duration", "/appointments", lambda w: appointment(w, end=iso(w, 0)), 422, "end"),
    ("over eight hours", "/appointments", lambda w: appointment(w, end=iso(w, 8.25)), 422, "end"),
    ("start without offset", "/appointments", lambda w: appointment(w, start="2030-03-04T10:00:00"), 422, "start"),
    ("arrival without offset", "/appointments",
     lambda w: appointment(w, participant_ids=w["people"], arrivals={str(w["people"][0]): "2030-03-04T10:00:00"}),
     422, "arrivals"),
    ("unknown case", "/appointments", lambda w: appointment(w, case_id=99999), 422, "case_id"),
    ("unknown mediator", "/appointments", lambda w: appointment(w, mediator_ids=[99999]), 422, "mediator_ids"),
    ("mediator not on the case", "/appointments", lambda w: appointment(w, mediator_ids=[w["m3"]]), 422,
     "mediator_ids"),
    ("three mediators", "/appointments", lambda w: appointment(w, mediator_ids=[w["m1"], w["m2"], w["m3"]]), 422,
     "mediator_ids"),
    ("unknown room", "/appointments", lambda w: appointment(w, mode="in_person", room_id=99999), 422, "room_id"),
    ("room for a phone call", "/appointments", lambda w: appointment(w, room_id=w["room"]), 422, "room_id"),
    ("unknown participant", "/appointments", lambda w: appointment(w, participant_ids=[99999]), 422,
     "participant_ids"),
    ("booking in the past", "/appointments",
     lambda w: appointment(w, start=(utcnow() - timedelta(hours=2)).isoformat(),
                           end=(utcnow() - timedelta(hours=1)).isoformat()), 422, "start"),
    ("unknown status", "/appointments", lambda w: appointment(w, status="cancelled"), 422, "status"),
    ("invalid phone", "/participants", lambda w: {"case_id": w["case"], "name": "P", "role": "victim",
                                                  "phone": "12345"}, 422, "phone"),
    ("invalid email", "/mediators", lambda w: {"name": "A", "email": "not-an-address"}, 422, "email"),
    ("unknown role", "/participants", lambda w: {"case_id": w["case"], "name": "P", "role": "witness"}, 422,
     "role"),
    ("unknown case kind", "/cases", lambda w: {"kind": "burglary"}, 422, "kind"),
    ("unknown location", "/rooms", lambda w: {"location_id": 99999, "name": "R"}, 422, "location_id"),
    ("free-text cancel reason", "/appointments/{appointment}/cancel", lambda w: {"reason": "Jan is sick"}, 422,
     "reason"),
    ("reschedule end before start", "/appointments/{appointment}/reschedule",
     lambda w: {"start": iso(w, 2), "end": iso(w, 1)}, 422, "end"),
    ("reschedule into the past", "/appointments/{appointment}/reschedule",
     lambda w: {"start": (utcnow() - timedelta(hours=3)).isoformat(),
                "end": (utcnow() - timedelta(hours=2)).isoformat()}, 422, "start"),
]


@pytest.fixture
def booked(client: Any, world: W) -> int:
    response = client.post("/api/v1/appointments", json=appointment(world, start=iso(world, 4), end=iso(world, 5)),
                           headers=world["coordinator"])
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


@pytest.mark.parametrize(("name", "path", "build", "status", "field"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_bodies_are_refused_naming_the_field(client: Any, world: W, booked: int, runtime: Any, name: str,
                                                 path: str, build: Callable[[W], W], status: int, field: str) -> None:
    before = snapshot(runtime)
    response = client.post("/api/v1" + path.format(appointment=booked), json=build(world),
                           headers=world["coordinator"])
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status
    assert any(e["field"].split(".")[0] == field for e in problem["errors"]), problem
    assert snapshot(runtime) == before


@both_databases
@pytest.mark.parametrize(("data", "content_type", "status"), [
    ('{"case_id": 1,', "application/json", 400),
    ("[1, 2]", "application/json", 400),
    ('"text"', "application/json", 400),
    ('{"case_id": 1}', "text/plain", 415),
], ids=["malformed", "array", "string", "not-json"])
def test_a_body_that_is_not_a_json_object(client: Any, world: W, runtime: Any, data: str, content_type: str,
                                          status: int) -> None:
    before = snapshot(runtime)
    response = client.post("/api/v1/appointments", data=data, content_type=content_type,
                           headers=world["coordinator"])
    assert response.status_code == status
    assert response.get_json()["errors"][0]["field"] == "body"
    assert snapshot(runtime) == before


def availability_query(w: W, **changes: Any) -> str:
    query = {"mediator_ids": str(w["m1"]), "duration_minutes": "60", "from": w["start"].isoformat(),
             "to": (w["start"] + timedelta(days=7)).isoformat()}
    query.update(changes)
    return "/api/v1/availability?" + urlencode({k: v for k, v in query.items() if v is not ...})


BAD_QUERIES: list[tuple[str, dict[str, Any], str]] = [
    ("zero minutes", {"duration_minutes": "0"}, "duration_minutes"),
    ("absurd minutes", {"duration_minutes": "481"}, "duration_minutes"),
    ("fractional minutes", {"duration_minutes": "1.5"}, "duration_minutes"),
    ("from without offset", {"from": "2030-03-04T09:00:00"}, "from"),
    ("to before from", {"to": "2000-01-01T00:00:00+00:00"}, "to"),
    ("over 26 weeks", {"to": "2099-01-01T00:00:00+00:00"}, "to"),
    ("no mediator", {"mediator_ids": ...}, "mediator_ids"),
    ("not a number", {"mediator_ids": "abc"}, "mediator_ids"),
    ("unknown mediator", {"mediator_ids": "99999"}, "mediator_ids"),
    ("unknown room", {"room_id": "99999"}, "room_id"),
    ("unknown location", {"location_id": "99999"}, "location_id"),
    ("unknown parameter", {"colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("name", "changes", "field"), BAD_QUERIES, ids=[q[0] for q in BAD_QUERIES])
def test_bad_availability_queries(client: Any, world: W, name: str, changes: dict[str, Any], field: str) -> None:
    response = client.get(availability_query(world, **changes), headers=world["mediator"])
    assert response.status_code == 422, response.get_json()
    assert any(e["field"].split(".")[0] == field for e in response.get_json()["errors"])


def test_three_mediators_and_a_room_elsewhere(client: Any, world: W) -> None:
    three = availability_query(world, mediator_ids=f"{world['m1']},{world['m2']},{world['m3']}")
    assert client.get(three, headers=world["coordinator"]).status_code == 422
    elsewhere = client.get(availability_query(world, room_id=world["other_room"], location_id=world["loc"]),
                           headers=world["coordinator"])
    assert elsewhere.status_code == 422
    assert elsewhere.get_json()["errors"][0]["field"] == "room_id"


def test_an_unencoded_plus_in_an_offset_is_understood(client: Any, world: W) -> None:
    start = world["start"].strftime("%Y-%m-%dT%H:%M:%S+01:00")
    end = (world["start"] + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S+01:00")
    url = f"/api/v1/availability?mediator_ids={world['m1']}&duration_minutes=60&from={start}&to={end}"
    assert client.get(url, headers=world["mediator"]).status_code == 200


def test_auth_and_unknown_things_are_problems(client: Any, world: W) -> None:
    for response, status in ((client.get("/api/v1/cases"), 401),
                             (client.get("/api/v1/cases", headers={"Authorization": "Bearer wrong"}), 401),
                             (client.post("/api/v1/locations", json={"name": "x", "address": "y", "city": "z"},
                                          headers=world["mediator"]), 403),
                             (client.get("/api/v1/appointments/99999", headers=world["coordinator"]), 404),
                             (client.get("/api/v1/no-such-thing", headers=world["coordinator"]), 404),
                             (client.delete("/api/v1/cases", headers=world["coordinator"]), 405)):
        assert response.status_code == status
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == status
