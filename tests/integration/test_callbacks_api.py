"""/api/v1/callbacks and /api/v1/me through the real app: the queue as staff see and work it.

Who sees what (a mediator only requests linked to their cases, the rest 404),
filters and order, what a request shows (the number to call, never the
number that called), bad input (422 naming the field, nothing changed),
closed requests (409), the duty switch, and click-to-call refused while
Twilio is not configured. Races, unreachable and queued calls:
test_callback_queue.py.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from core.models import AuditEntry, User
from telephony.callbacks import Choices, Window, submit
from telephony.models import CallbackAttempt, CallbackCall, CallbackRequest
from tests import factories
from tests.conftest import both_databases
from tests.integration.ivr_helpers import Caller, local

MONDAY_10 = local(2026, 11, 30, 10, 0)
TUESDAY_12 = local(2026, 12, 1, 12, 0)
SAME = "same"
SUMMARY = {"id", "number", "number_typed_in", "verify_identity", "caller_number_known", "texts_to_caller_allowed",
           "language", "moment", "may_identify", "wants_confirmation", "defaulted", "case_id", "created_at",
           "window_start", "due_at", "overdue", "status", "assignee", "attempts_count", "last_attempt"}


def new_request(s: Any, number: str, *, caller: str | None = SAME, wants: bool = True, due: Any = TUESDAY_12,
                case_id: int | None = None, status: str = "open") -> int:
    """A request as the IVR would submit it; `caller` is the number that called (None: withheld)."""
    caller_number = number if caller == SAME else caller
    row_id = submit(s, Choices(number=number, number_typed_in=caller_number != number, caller_number=caller_number,
                            language="nl", moment="morning", may_identify=False, wants_confirmation=wants,
                            call_sid=f"CA{number[1:]:0>32}"), Window(due - timedelta(hours=3), due))
    row = s.get(CallbackRequest, row_id)
    row.case_id = case_id if case_id is not None else row.case_id
    row.status = status
    s.flush()
    return row.id


def snapshot(runtime: Any) -> tuple[Any, ...]:
    """Everything a refused request must leave alone."""
    with runtime.db.session() as s:
        rows = tuple(s.execute(select(CallbackRequest.id, CallbackRequest.status, CallbackRequest.assignee_id)
                               .order_by(CallbackRequest.id)).all())
        return (rows, *(s.scalar(select(func.count()).select_from(m)) for m in (CallbackAttempt, CallbackCall,
                                                                                 AuditEntry)))


@pytest.fixture
def now(app: Any):  # type: ignore[no-untyped-def]
    def set_now(moment: Any) -> None:
        app.config["PENDEL_NOW"] = moment
    set_now(MONDAY_10)
    return set_now


@pytest.fixture
def world(runtime: Any, now: Any) -> dict[str, Any]:
    with runtime.db.write_session() as s:
        m1, m2 = factories.mediator(s), factories.mediator(s)
        mine, theirs = factories.case(s, [m1]), factories.case(s, [m2])
        coordinator, c_headers = factories.staff(s, "coordinator")
        _, c2_headers = factories.staff(s, "coordinator")
        mediator, m_headers = factories.staff(s, "mediator", m1)
        ids = {"plain": new_request(s, "+31611111111", due=TUESDAY_12),
               "mine": new_request(s, mine.participants[0].phone, due=TUESDAY_12 - timedelta(hours=2)),
               "theirs": new_request(s, "+31622222222", case_id=theirs.id, due=TUESDAY_12),
               "typed": new_request(s, "+31633333333", caller=None, due=TUESDAY_12 + timedelta(hours=5)),
               "done": new_request(s, "+31644444444", status="done", due=TUESDAY_12 - timedelta(hours=1))}
        return {"ids": ids, "coordinator": c_headers, "coordinator2": c2_headers, "mediator": m_headers,
                "coordinator_id": coordinator.id, "coordinator_name": coordinator.name, "mine_case": mine.id,
                "mediator_id": mediator.id}


def listed(client: Any, headers: dict[str, str], query: str = "") -> list[int]:
    response = client.get(f"/api/v1/callbacks{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [c["id"] for c in response.get_json()["callbacks"]]


@both_databases
def test_the_office_sees_the_open_queue_soonest_due_first(client: Any, world: dict[str, Any], now: Any) -> None:
    ids = world["ids"]
    response = client.get("/api/v1/callbacks", headers=world["coordinator"])
    data = response.get_json()
    assert [c["id"] for c in data["callbacks"]] == [ids["mine"], ids["plain"], ids["theirs"], ids["typed"]]
    assert data["total"] == 4
    first = data["callbacks"][0]
    assert set(first) == SUMMARY
    assert (first["number_typed_in"], first["verify_identity"], first["texts_to_caller_allowed"]) == (
        False, False, True)
    assert (first["status"], first["assignee"], first["attempts_count"], first["last_attempt"], first["overdue"]) == (
        "open", None, 0, None, False)
    assert first["case_id"] == world["mine_case"] and first["due_at"] == "2026-12-01T09:00:00Z"
    typed = data["callbacks"][3]
    assert (typed["number"], typed["verify_identity"], typed["caller_number_known"]) == ("+31633333333", True, False)
    assert typed["texts_to_caller_allowed"] is False and "caller_number" not in typed
    now(local(2026, 12, 1, 15, 0))  # Tuesday afternoon, by the phone line's clock
    overdue = {c["id"]: c["overdue"] for c in client.get("/api/v1/callbacks?status=open,done",
                                                         headers=world["coordinator"]).get_json()["callbacks"]}
    assert overdue == {ids["mine"]: True, ids["plain"]: True, ids["theirs"]: True, ids["typed"]: False,
                       ids["done"]: False}


def test_a_request_from_the_phone_line_shows_up_in_the_queue(client: Any, world: dict[str, Any]) -> None:
    assert Caller(client, "+31655555555").walk("2", "1", "2", "1", "1").hung_up  # afternoon, own number, text
    [new] = [c for c in client.get("/api/v1/callbacks", headers=world["coordinator"]).get_json()["callbacks"]
             if c["number"] == "+31655555555"]
    assert (new["moment"], new["may_identify"], new["wants_confirmation"], new["number_typed_in"]) == (
        "afternoon", True, True, False)
    assert (new["window_start"], new["due_at"]) == ("2026-12-01T11:00:00Z", "2026-12-01T16:00:00Z")


def test_filters_and_paging(client: Any, world: dict[str, Any]) -> None:
    ids, office = world["ids"], world["coordinator"]
    assert listed(client, office, "?status=done") == [ids["done"]]
    assert listed(client, office, "?status=done&status=open") == listed(client, office, "?status=open,done") == [
        ids["mine"], ids["done"], ids["plain"], ids["theirs"], ids["typed"]]
    assert listed(client, office, f"?case_id={world['mine_case']}") == [ids["mine"]]
    assert listed(client, office, "?due_before=2026-12-01T12:00:00%2B01:00") == [ids["mine"]]
    assert client.post(f"/api/v1/callbacks/{ids['plain']}/claim", headers=office).status_code == 200
    assert listed(client, office, "?assignee=me") == [ids["plain"]]
    assert listed(client, world["coordinator2"], "?assignee=me") == []
    assert listed(client, office, f"?assignee={world['coordinator_id']}") == [ids["plain"]]
    assert listed(client, office, "?assignee=none") == [ids["mine"], ids["theirs"], ids["typed"]]
    page = client.get("/api/v1/callbacks?limit=2&offset=1", headers=office).get_json()
    assert ([c["id"] for c in page["callbacks"]], page["total"]) == ([ids["plain"], ids["theirs"]], 4)


def test_a_mediator_sees_only_requests_linked_to_their_cases(client: Any, world: dict[str, Any]) -> None:
    ids, headers = world["ids"], world["mediator"]
    assert listed(client, headers, "?status=open,in_progress,done") == [ids["mine"]]
    for other in ("plain", "theirs", "done"):
        assert client.get(f"/api/v1/callbacks/{ids[other]}", headers=headers).status_code == 404
        assert client.post(f"/api/v1/callbacks/{ids[other]}/claim", headers=headers).status_code == 404
        assert client.post(f"/api/v1/callbacks/{ids[other]}/attempts", json={"outcome": "busy"},
                           headers=headers).status_code == 404
    assert client.get("/api/v1/callbacks/999999", headers=world["coordinator"]).status_code == 404
    claimed = client.post(f"/api/v1/callbacks/{ids['mine']}/claim", headers=headers)
    assert claimed.status_code == 200 and claimed.get_json()["assignee"]["id"] == world["mediator_id"]
    assert client.get("/api/v1/callbacks").status_code == 401


def test_claim_attempt_release_close_and_the_detail_view(client: Any, world: dict[str, Any],
                                                         runtime: Any) -> None:
    cid, office, other = world["ids"]["plain"], world["coordinator"], world["coordinator2"]
    claimed = client.post(f"/api/v1/callbacks/{cid}/claim", headers=office).get_json()
    assert claimed["status"] == "in_progress" and claimed["assignee"] == {
        "id": world["coordinator_id"], "name": world["coordinator_name"]}
    assert client.post(f"/api/v1/callbacks/{cid}/claim", headers=office).status_code == 200  # yours again: fine
    taken = client.post(f"/api/v1/callbacks/{cid}/claim", headers=other)
    assert taken.status_code == 409 and world["coordinator_name"] in taken.get_json()["detail"]
    created = client.post(f"/api/v1/callbacks/{cid}/attempts", json={"outcome": "no_answer"}, headers=office)
    assert created.status_code == 201 and created.headers["Location"].endswith(f"/api/v1/callbacks/{cid}")
    body = created.get_json()
    assert (body["attempt"]["outcome"], body["attempt"]["at"], body["attempt"]["via_call"]) == (
        "no_answer", "2026-11-30T09:00:00Z", False)
    assert body["callback"]["status"] == "in_progress" and body["callback"]["attempts_count"] == 1
    with runtime.db.write_session() as s:  # a click-to-call whose outcome Twilio reported
        call = CallbackCall(callback_id=cid, user_id=world["coordinator_id"], state="finished")
        s.add(call)
        s.add(CallbackAttempt(callback_id=cid, at=local(2026, 11, 30, 11, 0), outcome="busy", call_sid="CA" + "1" * 32))
    detail = client.get(f"/api/v1/callbacks/{cid}", headers=office).get_json()
    assert set(detail) == SUMMARY | {"attempts", "calls"}
    assert [(a["outcome"], a["via_call"], a["by"]) for a in detail["attempts"]] == [
        ("no_answer", False, claimed["assignee"]), ("busy", True, None)]
    assert detail["last_attempt"] == {"at": "2026-11-30T10:00:00Z", "outcome": "busy"}
    assert [(c["state"], c["by"], c["error"]) for c in detail["calls"]] == [("finished", claimed["assignee"], None)]
    listed_row = client.get("/api/v1/callbacks", headers=office).get_json()["callbacks"]
    assert [(c["attempts_count"], c["last_attempt"]) for c in listed_row if c["id"] == cid] == [
        (2, detail["last_attempt"])]
    assert client.post(f"/api/v1/callbacks/{cid}/release", headers=office).get_json()["status"] == "open"
    assert client.post(f"/api/v1/callbacks/{cid}/release", headers=office).status_code == 409
    closed = client.post(f"/api/v1/callbacks/{cid}/close", json={"status": "done"}, headers=other)
    assert closed.status_code == 200 and closed.get_json()["status"] == "done"


def test_bad_input_names_the_field_and_changes_nothing(client: Any, world: dict[str, Any], runtime: Any) -> None:
    cid, office = world["ids"]["plain"], world["coordinator"]
    before = snapshot(runtime)
    cases = [("post", f"/api/v1/callbacks/{cid}/attempts", {"outcome": "maybe"}, "outcome"),
             ("post", f"/api/v1/callbacks/{cid}/attempts", {}, "outcome"),
             ("post", f"/api/v1/callbacks/{cid}/attempts", {"outcome": "busy", "at": "now"}, "at"),
             ("post", f"/api/v1/callbacks/{cid}/close", {"status": "unreachable"}, "status"),
             ("get", "/api/v1/callbacks?status=bogus", None, "status.0"),
             ("get", "/api/v1/callbacks?assignee=bob", None, "assignee"),
             ("get", "/api/v1/callbacks?limit=0", None, "limit"),
             ("get", "/api/v1/callbacks?due_before=2026-12-01T12:00:00", None, "due_before"),
             ("get", "/api/v1/callbacks?colour=red", None, "colour")]
    for method, url, body, field in cases:
        response = getattr(client, method)(url, json=body, headers=office) if body is not None else \
            getattr(client, method)(url, headers=office)
        assert response.status_code == 422, (url, body, response.get_json())
        assert response.mimetype == "application/problem+json"
        assert [e["field"] for e in response.get_json()["errors"]] == [field], (url, body)
    assert snapshot(runtime) == before


def test_a_closed_request_refuses_claim_attempt_close_and_release(client: Any, world: dict[str, Any],
                                                                  runtime: Any) -> None:
    cid, office = world["ids"]["done"], world["coordinator"]
    before = snapshot(runtime)
    for action, body in (("claim", None), ("attempts", {"outcome": "reached"}), ("close", {"status": "cancelled"}),
                         ("release", None), ("call", None)):
        response = client.post(f"/api/v1/callbacks/{cid}/{action}", json=body, headers=office)
        assert response.status_code == 409, (action, response.get_json())
    assert snapshot(runtime) == before


def test_click_to_call_needs_twilio(client: Any, world: dict[str, Any], runtime: Any) -> None:
    before = snapshot(runtime)
    refused = client.post(f"/api/v1/callbacks/{world['ids']['plain']}/call", headers=world["coordinator"])
    assert refused.status_code == 409 and refused.get_json()["detail"] == "calling needs Twilio to be configured"
    assert snapshot(runtime) == before


def test_me_and_the_duty_switch(client: Any, world: dict[str, Any], runtime: Any) -> None:
    office, me = world["coordinator"], world["coordinator_id"]
    mine = client.get("/api/v1/me", headers=office).get_json()
    assert mine == {"id": me, "name": world["coordinator_name"], "email": mine["email"], "role": "coordinator",
                    "phone": None, "on_duty": False}
    refused = client.patch("/api/v1/me", json={"on_duty": True}, headers=office)
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "on_duty"
    for bad, field in (({"phone": "12"}, "phone"), ({"on_duty": 1}, "on_duty"), ({"name": "X"}, "name")):
        response = client.patch("/api/v1/me", json=bad, headers=office)
        assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == field
    with runtime.db.session() as s:
        user = s.get(User, me)
        assert (user.phone, user.on_duty) == (None, False)
    on = client.patch("/api/v1/me", json={"phone": "06 12345678", "on_duty": True}, headers=office)
    assert (on.status_code, on.get_json()["phone"], on.get_json()["on_duty"]) == (200, "+31612345678", True)
    assert client.get("/api/v1/on-duty", headers=office).get_json() == {
        "on_duty": [{"id": me, "name": world["coordinator_name"], "phone": "+31612345678"}]}
    assert client.get("/api/v1/on-duty", headers=world["mediator"]).status_code == 403
    assert client.patch("/api/v1/me", json={"on_duty": False}, headers=office).get_json()["phone"] == "+31612345678"
    assert client.patch("/api/v1/me", json={"on_duty": True}, headers=office).get_json()["on_duty"] is True
    off = client.patch("/api/v1/me", json={"phone": None}, headers=office).get_json()
    assert (off["phone"], off["on_duty"]) == (None, False)
    assert client.get("/api/v1/on-duty", headers=office).get_json() == {"on_duty": []}


def test_the_openapi_document_describes_the_queue(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/callbacks"]) == {"get"}
    assert set(paths["/api/v1/callbacks/{callback_id}"]) == {"get"}
    for action in ("claim", "release", "attempts", "close", "call"):
        assert set(paths[f"/api/v1/callbacks/{{callback_id}}/{action}"]) == {"post"}
    assert set(paths["/api/v1/me"]) == {"get", "patch"} and set(paths["/api/v1/on-duty"]) == {"get"}
    params = {p["name"] for p in paths["/api/v1/callbacks"]["get"]["parameters"]}
    assert params == {"status", "assignee", "case_id", "due_before", "limit", "offset"}
    assert {"201", "404", "409", "422"} <= set(paths["/api/v1/callbacks/{callback_id}/attempts"]["post"]["responses"])
    assert {"202", "409", "503"} <= set(paths["/api/v1/callbacks/{callback_id}/call"]["post"]["responses"])
