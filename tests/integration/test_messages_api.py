"""GET /api/v1/messages: delivery state only (no address, no text), filtered, and only what you may see."""
from __future__ import annotations

from typing import Any

import pytest

from core.db import utcnow
from notifications.models import OutboxMessage
from notifications.outbox import NewMessage, add_message
from tests import factories
from tests.conftest import both_databases

FIELDS = {"id", "kind", "channel", "recipient_kind", "participant_id", "mediator_id", "appointment_id", "status",
          "provider_status", "attempts", "next_attempt_at", "last_error", "created_at", "sent_at"}


@pytest.fixture
def world(runtime: Any) -> dict[str, Any]:
    """Two mediators with logins and a case each; messages to participants, mediators and a caller."""
    now = utcnow()
    with runtime.db.write_session() as s:
        m1, m2 = factories.mediator(s), factories.mediator(s)
        mine, theirs = factories.case(s, [m1]), factories.case(s, [m2])
        _, coordinator = factories.staff(s, "coordinator")
        _, mediator1 = factories.staff(s, "mediator", m1)
        ids: dict[str, int] = {}

        def message(name: str, **kw: Any) -> None:
            values: dict[str, Any] = dict(key=name, kind="appointment_confirmed", channel="sms",
                                          recipient_kind="participant", to="+31600000000", language="nl",
                                          body="secret text", subject=None)
            values.update(kw)
            status = values.pop("status", "pending")
            row_id = add_message(s, NewMessage(**values), now)
            assert row_id is not None
            s.get_one(OutboxMessage, row_id).status = status
            ids[name] = row_id

        message("mine_sms", participant_id=mine.participants[0].id, status="sent")
        message("mine_email", channel="email", to="p@example.net", participant_id=mine.participants[1].id,
                status="dead")
        message("theirs_sms", participant_id=theirs.participants[0].id, status="undelivered")
        message("notice_m1", kind="mediator_notice", channel="email", recipient_kind="mediator",
                to=m1.email, mediator_id=m1.id)
        message("notice_m2", kind="mediator_notice", channel="email", recipient_kind="mediator",
                to=m2.email, mediator_id=m2.id, status="dead")
        message("caller", kind="callback_confirmation", recipient_kind="caller")
        s.flush()
        with_row = s.get(OutboxMessage, ids["mine_sms"])
        with_row.provider_status, with_row.last_error, with_row.attempts = "delivered", None, 1
        return {"ids": ids, "coordinator": coordinator, "mediator1": mediator1,
                "mine_people": [p.id for p in mine.participants]}


def listed(client: Any, headers: dict[str, str], query: str = "") -> list[int]:
    response = client.get(f"/api/v1/messages{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [m["id"] for m in response.get_json()["messages"]]


@both_databases
def test_the_office_sees_every_message_without_address_or_text(client: Any, world: dict[str, Any]) -> None:
    response = client.get("/api/v1/messages", headers=world["coordinator"])
    rows = response.get_json()["messages"]
    assert [r["id"] for r in rows] == sorted(world["ids"].values(), reverse=True)  # newest first
    for row in rows:
        assert set(row) == FIELDS
    assert "secret text" not in response.get_data(as_text=True)
    assert "+31600000000" not in response.get_data(as_text=True)
    one = client.get(f"/api/v1/messages/{world['ids']['mine_sms']}", headers=world["coordinator"]).get_json()
    assert {k: one[k] for k in ("kind", "channel", "status", "provider_status", "attempts", "participant_id")} == {
        "kind": "appointment_confirmed", "channel": "sms", "status": "sent", "provider_status": "delivered",
        "attempts": 1, "participant_id": world["mine_people"][0]}
    assert one["created_at"].endswith("Z")


def test_filters(client: Any, world: dict[str, Any]) -> None:
    ids, headers = world["ids"], world["coordinator"]
    assert listed(client, headers, "?status=dead,undelivered") == sorted(
        [ids["mine_email"], ids["theirs_sms"], ids["notice_m2"]], reverse=True)
    assert listed(client, headers, "?status=dead&status=sent") == sorted(
        [ids["mine_sms"], ids["mine_email"], ids["notice_m2"]], reverse=True)
    assert listed(client, headers, "?channel=email&status=dead") == [ids["notice_m2"], ids["mine_email"]]
    assert listed(client, headers, f"?participant_id={world['mine_people'][1]}") == [ids["mine_email"]]
    assert listed(client, headers, "?appointment_id=999999") == []
    assert listed(client, headers, "?limit=2") == [ids["caller"], ids["notice_m2"]]
    assert listed(client, headers, f"?limit=2&before_id={ids['notice_m2']}") == [ids["notice_m1"], ids["theirs_sms"]]


def test_a_mediator_sees_their_participants_and_their_own_notices_only(client: Any, world: dict[str, Any]) -> None:
    ids, headers = world["ids"], world["mediator1"]
    assert listed(client, headers) == sorted([ids["mine_sms"], ids["mine_email"], ids["notice_m1"]], reverse=True)
    assert listed(client, headers, "?status=undelivered") == []
    for hidden in ("theirs_sms", "notice_m2", "caller"):
        response = client.get(f"/api/v1/messages/{ids[hidden]}", headers=headers)
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"


def test_bad_queries_and_missing_sign_in(client: Any, world: dict[str, Any]) -> None:
    headers = world["coordinator"]
    bad_status = client.get("/api/v1/messages?status=lost", headers=headers)
    assert bad_status.status_code == 422 and bad_status.get_json()["errors"][0]["field"].startswith("status")
    assert client.get("/api/v1/messages?to=%2B31600000000", headers=headers).status_code == 422
    assert client.get("/api/v1/messages?limit=0", headers=headers).status_code == 422
    assert client.get("/api/v1/messages").status_code == 401
    assert client.get("/api/v1/messages/999999", headers=headers).status_code == 404
    assert client.post("/api/v1/messages", json={}, headers=headers).status_code == 405


def test_the_messages_resource_is_in_the_openapi_document(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/messages"]) == {"get"}
    assert set(paths["/api/v1/messages/{message_id}"]) == {"get"}
    params = {p["name"] for p in paths["/api/v1/messages"]["get"]["parameters"]}
    assert {"status", "channel", "appointment_id", "participant_id", "limit", "before_id"} <= params
    assert "401" in paths["/api/v1/messages"]["get"]["responses"]
