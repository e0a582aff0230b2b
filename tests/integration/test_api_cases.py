"""Cases, participants, withdrawal and tasks over the JSON API; a mediator sees only their own cases."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import utcnow
from scheduler.models import Case, MediatorTask, Participant
from tests import factories
from tests.conftest import both_databases
from tests.support.days import working_day_at


@pytest.fixture
def world(runtime: Any) -> dict[str, Any]:
    """Two mediators with logins, each on one case (victim + offender), a coordinator and a room."""
    with runtime.db.write_session() as s:
        m1, m2 = factories.mediator(s), factories.mediator(s)
        mine, theirs = factories.case(s, [m1]), factories.case(s, [m2])
        room = factories.location(s, rooms=1).rooms[0]
        _, coordinator = factories.staff(s, "coordinator")
        _, mediator1 = factories.staff(s, "mediator", m1)
        _, mediator2 = factories.staff(s, "mediator", m2)
        return {"m1": m1.id, "m2": m2.id, "mine": mine.id, "theirs": theirs.id, "room": room.id,
                "mine_ref": mine.reference, "theirs_ref": theirs.reference,
                "mine_people": [p.id for p in mine.participants],
                "theirs_people": [p.id for p in theirs.participants],
                "coordinator": coordinator, "mediator1": mediator1, "mediator2": mediator2}


def count(runtime: Any, model: type) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


@both_databases
def test_coordinator_opens_lists_gets_and_patches_a_case(client: Any, world: dict[str, Any]) -> None:
    headers = world["coordinator"]
    before = utcnow()
    created = client.post("/api/v1/cases", json={"kind": "traffic_accident", "mediator_ids": [world["m1"]]},
                          headers=headers)
    assert created.status_code == 201, created.get_json()
    case = created.get_json()
    assert case["reference"][:8] in {f"HB-{before.year}-", f"HB-{utcnow().year}-"}  # even across New Year
    assert {k: case[k] for k in ("kind", "status", "mediator_ids")} == {
        "kind": "traffic_accident", "status": "registered", "mediator_ids": [world["m1"]]}
    assert created.headers["Location"].endswith(f"/api/v1/cases/{case['id']}")
    assert case in client.get("/api/v1/cases", headers=headers).get_json()["cases"]
    assert client.get(f"/api/v1/cases/{case['id']}", headers=headers).get_json() == case
    patched = client.patch(f"/api/v1/cases/{case['id']}", json={"status": "intake",
                                                                 "mediator_ids": [world["m1"], world["m2"]]},
                           headers=headers)
    assert patched.get_json() == {**case, "status": "intake", "mediator_ids": [world["m1"], world["m2"]]}


def test_a_reference_is_unique(client: Any, world: dict[str, Any], runtime: Any) -> None:
    before = count(runtime, Case)
    response = client.post("/api/v1/cases", json={"reference": world["mine_ref"], "kind": "crime"},
                           headers=world["coordinator"])
    assert response.status_code == 409
    assert response.get_json()["errors"][0]["field"] == "reference"
    assert count(runtime, Case) == before


@both_databases
def test_a_mediator_sees_only_their_cases(client: Any, world: dict[str, Any]) -> None:
    headers = world["mediator1"]
    cases = client.get("/api/v1/cases", headers=headers).get_json()["cases"]
    assert [c["id"] for c in cases] == [world["mine"]]
    assert client.get(f"/api/v1/cases/{world['theirs']}", headers=headers).status_code == 404
    assert client.patch(f"/api/v1/cases/{world['theirs']}", json={"status": "contact"},
                        headers=headers).status_code == 404
    people = client.get("/api/v1/participants", headers=headers).get_json()["participants"]
    assert sorted(p["id"] for p in people) == sorted(world["mine_people"])
    assert client.get(f"/api/v1/participants?case_id={world['theirs']}",
                      headers=headers).get_json()["participants"] == []
    other = world["theirs_people"][0]
    assert client.get(f"/api/v1/participants/{other}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/participants/{other}/withdraw", headers=headers).status_code == 404


def test_only_the_office_opens_cases_and_assigns_mediators(client: Any, world: dict[str, Any],
                                                           runtime: Any) -> None:
    headers = world["mediator1"]
    before = count(runtime, Case)
    assert client.post("/api/v1/cases", json={"kind": "crime"}, headers=headers).status_code == 403
    assert count(runtime, Case) == before
    assign = client.patch(f"/api/v1/cases/{world['mine']}", json={"mediator_ids": [world["m1"], world["m2"]]},
                          headers=headers)
    assert assign.status_code == 403
    status = client.patch(f"/api/v1/cases/{world['mine']}", json={"status": "contact"}, headers=headers)
    assert status.status_code == 200 and status.get_json()["mediator_ids"] == [world["m1"]]
    assert client.get("/api/v1/cases").status_code == 401


def test_participant_create_patch_and_normalisation(client: Any, world: dict[str, Any], runtime: Any) -> None:
    body = {"case_id": world["mine"], "name": "Iris", "role": "next_of_kin", "phone": "0612345678",
            "email": "iris@example.net", "address": "Dorpsstraat 1, Houten", "language": "en",
            "sms_allowed": True, "email_allowed": False, "full_text_opt_in": False}
    created = client.post("/api/v1/participants", json=body, headers=world["mediator1"])
    assert created.status_code == 201, created.get_json()
    data = created.get_json()
    assert data == {**body, "id": data["id"], "phone": "+31612345678", "withdrawn_at": None, "erased_at": None}
    patched = client.patch(f"/api/v1/participants/{data['id']}", json={"email_allowed": True, "address": None},
                           headers=world["coordinator"])
    assert patched.get_json() == {**data, "email_allowed": True, "address": None}
    before = count(runtime, Participant)
    no_phone = client.post("/api/v1/participants", json={**body, "phone": None}, headers=world["coordinator"])
    assert no_phone.status_code == 422 and no_phone.get_json()["errors"][0]["field"] == "sms_allowed"
    foreign = client.post("/api/v1/participants", json={**body, "case_id": world["theirs"]},
                          headers=world["mediator1"])
    assert foreign.status_code == 422 and foreign.get_json()["errors"][0]["field"] == "case_id"
    assert count(runtime, Participant) == before


def _book_meeting(client: Any, world: dict[str, Any]) -> dict[str, Any]:
    start = working_day_at(10)
    response = client.post("/api/v1/appointments", headers=world["mediator1"], json={
        "case_id": world["mine"], "kind": "meeting", "mode": "in_person", "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(), "mediator_ids": [world["m1"]], "room_id": world["room"],
        "participant_ids": world["mine_people"],
        "arrivals": {str(world["mine_people"][1]): (start + timedelta(minutes=15)).isoformat()}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@both_databases
def test_withdrawal_cancels_the_meeting_and_tasks_the_mediator(client: Any, world: dict[str, Any]) -> None:
    meeting = _book_meeting(client, world)
    victim, offender = world["mine_people"]
    response = client.post(f"/api/v1/participants/{offender}/withdraw", headers=world["coordinator"])
    assert response.status_code == 200
    assert response.get_json()["withdrawn_at"] is not None
    cancelled = client.get(f"/api/v1/appointments/{meeting['id']}", headers=world["mediator1"]).get_json()
    assert cancelled["status"] == "cancelled"
    tasks = client.get("/api/v1/tasks?open=true", headers=world["mediator1"]).get_json()["tasks"]
    assert [(t["mediator_id"], t["case_id"], t["appointment_id"]) for t in tasks] == [
        (world["m1"], world["mine"], meeting["id"])]
    assert client.get("/api/v1/tasks", headers=world["mediator2"]).get_json()["tasks"] == []
    assert len(client.get("/api/v1/tasks", headers=world["coordinator"]).get_json()["tasks"]) == 1

    done = client.post(f"/api/v1/tasks/{tasks[0]['id']}/done", headers=world["mediator1"])
    assert done.status_code == 200 and done.get_json()["done_at"] is not None
    assert client.get("/api/v1/tasks?open=true", headers=world["mediator1"]).get_json()["tasks"] == []
    assert client.post(f"/api/v1/tasks/{tasks[0]['id']}/done", headers=world["mediator2"]).status_code == 404

    undone = client.post(f"/api/v1/participants/{offender}/undo-withdrawal", headers=world["mediator1"])
    assert undone.status_code == 200 and undone.get_json()["withdrawn_at"] is None
    again = client.post(f"/api/v1/participants/{offender}/undo-withdrawal", headers=world["mediator1"])
    assert again.status_code == 409
    still = client.get(f"/api/v1/appointments/{meeting['id']}", headers=world["mediator1"]).get_json()
    assert still["status"] == "cancelled"
    assert victim in still["participant_ids"]


def test_a_mediator_with_appointments_ahead_stays_on_the_case(client: Any, world: dict[str, Any],
                                                              runtime: Any) -> None:
    _book_meeting(client, world)
    response = client.patch(f"/api/v1/cases/{world['mine']}", json={"mediator_ids": [world["m2"]]},
                            headers=world["coordinator"])
    assert response.status_code == 409
    assert response.get_json()["errors"][0]["field"] == "mediator_ids"
    closing = client.patch(f"/api/v1/cases/{world['mine']}", json={"status": "closed"},
                           headers=world["coordinator"])
    assert closing.status_code == 409
    case = client.get(f"/api/v1/cases/{world['mine']}", headers=world["coordinator"]).get_json()
    assert case["mediator_ids"] == [world["m1"]] and case["status"] == "intake"
    assert count(runtime, MediatorTask) == 0
