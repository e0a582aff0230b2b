"""The callback queue under load and at its edges, on real PostgreSQL (and Redis for click-to-call).

Two coordinators claiming one request at the same moment: one wins, the
other hears who has it. Attempts until unreachable over two working days:
exactly one discreet text to the number that called when the caller allowed
texts, none otherwise. Click-to-call with Twilio configured: a queue that
cannot take the job fails the call (503) and leaves the request claimed; a
working Redis holds the job `call-<id>` on the "calls" queue (not run here).
"""
from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from rq.job import Job
from sqlalchemy import select, text

from core.config import Settings
from core.queue import queue
from notifications.models import OutboxMessage
from telephony.models import CallbackCall, CallbackRequest
from tests import factories
from tests.conftest import with_settings
from tests.integration.ivr_helpers import local
from tests.integration.test_callbacks_api import MONDAY_10, new_request

ROUNDS = 20


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Twilio configured (click-to-call is available); nothing here talks to Twilio."""
    return with_settings(settings, twilio_account_sid="AC" + "0" * 32, twilio_phone_number="+31850000000")


@pytest.fixture
def office(runtime: Any, app: Any) -> dict[str, Any]:
    app.config["PENDEL_NOW"] = MONDAY_10
    with runtime.db.write_session() as s:
        first, first_headers = factories.staff(s, "coordinator")
        second, second_headers = factories.staff(s, "coordinator")
        first.phone = "+31611110000"
        return {"first": first_headers, "second": second_headers, "names": {first.id: first.name,
                                                                            second.id: second.name},
                "first_id": first.id}


def test_two_coordinators_claiming_at_once_one_wins(app: Any, runtime: Any, office: dict[str, Any]) -> None:
    with runtime.db.write_session() as s:
        ids = [new_request(s, f"+316200000{n:02d}") for n in range(ROUNDS)]
    barrier = threading.Barrier(2)

    def claim(headers: dict[str, str], callback_id: int) -> tuple[int, Any]:
        client = app.test_client()  # a client (and so a request context) per thread
        barrier.wait()
        response = client.post(f"/api/v1/callbacks/{callback_id}/claim", headers=headers)
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=2) as pool:
        for callback_id in ids:
            answers = list(pool.map(lambda h: claim(h, callback_id), [office["first"], office["second"]]))
            assert sorted(code for code, _ in answers) == [200, 409], answers
            [winner] = [body for code, body in answers if code == 200]
            [loser] = [body for code, body in answers if code == 409]
            holder = winner["assignee"]
            assert winner["status"] == "in_progress"
            assert office["names"][holder["id"]] == holder["name"] and holder["name"] in loser["detail"]
            assert loser["assignee_id"] == holder["id"]
            with runtime.db.session() as s:
                row = s.get(CallbackRequest, callback_id)
                assert (row.status, row.assignee_id) == ("in_progress", holder["id"])


def unreachable_texts(runtime: Any) -> list[tuple[str | None, str, int | None]]:
    with runtime.db.session() as s:
        return list(s.execute(select(OutboxMessage.to_address, OutboxMessage.recipient_kind, OutboxMessage.id)
                              .where(OutboxMessage.kind == "callback_unreachable")).all())


@pytest.mark.parametrize(("number", "caller", "wants", "texted"), [
    pytest.param("+31612345678", "+31612345678", True, "+31612345678", id="own-number-texts-allowed"),
    pytest.param("+31687654321", "+31612345678", True, "+31612345678", id="typed-in-texts-go-to-the-caller"),
    pytest.param("+31687654321", None, True, None, id="typed-in-caller-withheld"),
    pytest.param("+31612345678", "+31612345678", False, None, id="texts-not-allowed"),
])
def test_three_failures_over_two_working_days_make_it_unreachable(
        client: Any, app: Any, runtime: Any, office: dict[str, Any], number: str, caller: str | None,
        wants: bool, texted: str | None) -> None:
    with runtime.db.write_session() as s:
        cid = new_request(s, number, caller=caller, wants=wants)
    url, headers = f"/api/v1/callbacks/{cid}/attempts", office["first"]
    for moment, outcome in ((local(2026, 12, 1, 9, 30), "no_answer"), (local(2026, 12, 1, 11, 0), "busy"),
                            (local(2026, 12, 1, 16, 45), "no_answer")):  # three on one Tuesday: not yet
        app.config["PENDEL_NOW"] = moment
        response = client.post(url, json={"outcome": outcome}, headers=headers)
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["callback"]["status"] == "in_progress"
    assert unreachable_texts(runtime) == []
    app.config["PENDEL_NOW"] = local(2026, 12, 2, 10, 0)  # Wednesday: the second working day
    response = client.post(url, json={"outcome": "no_answer"}, headers=headers)
    assert response.status_code == 201
    done = response.get_json()["callback"]
    assert (done["status"], done["attempts_count"], response.get_json()["attempt"]["at"]) == (
        "unreachable", 4, "2026-12-02T09:00:00Z")
    texts = unreachable_texts(runtime)
    assert [(to, kind) for to, kind, _ in texts] == ([(texted, "caller")] if texted else [])
    again = client.post(url, json={"outcome": "no_answer"}, headers=headers)
    assert again.status_code == 409 and again.get_json()["callback_status"] == "unreachable"
    assert client.post(f"/api/v1/callbacks/{cid}/claim", headers=office["second"]).status_code == 409
    assert unreachable_texts(runtime) == texts
    listed = client.get("/api/v1/callbacks?status=unreachable", headers=headers).get_json()["callbacks"]
    assert [c["id"] for c in listed] == [cid] and listed[0]["overdue"] is False


def test_someone_elses_claim_refuses_a_mediators_attempt(client: Any, runtime: Any,
                                                         office: dict[str, Any]) -> None:
    with runtime.db.write_session() as s:
        m = factories.mediator(s)
        case = factories.case(s, [m])
        _, mediator = factories.staff(s, "mediator", m)
        cid = new_request(s, case.participants[0].phone)
    assert client.post(f"/api/v1/callbacks/{cid}/claim", headers=office["second"]).status_code == 200
    for action, body in (("attempts", {"outcome": "busy"}), ("close", {"status": "done"}), ("release", None),
                         ("call", None)):
        response = client.post(f"/api/v1/callbacks/{cid}/{action}", json=body, headers=mediator)
        assert response.status_code == 409, (action, response.get_json())
    # The office may step in on anyone's claim.
    assert client.post(f"/api/v1/callbacks/{cid}/attempts", json={"outcome": "busy"},
                       headers=office["first"]).status_code == 201


def calls(runtime: Any) -> list[tuple[Any, ...]]:
    with runtime.db.session() as s:
        return list(s.execute(select(CallbackCall.id, CallbackCall.callback_id, CallbackCall.user_id,
                                     CallbackCall.state, CallbackCall.error).order_by(CallbackCall.id)).all())


def claim_of(runtime: Any, cid: int) -> tuple[str, int | None]:
    with runtime.db.session() as s:
        row = s.get(CallbackRequest, cid)
        return row.status, row.assignee_id


@pytest.mark.parametrize("redis_url", [None, "redis://127.0.0.1:1/0"], ids=["no-redis", "redis-unreachable"])
def test_click_to_call_without_a_queue_fails_the_call(client: Any, runtime: Any, office: dict[str, Any],
                                                      redis_url: str | None) -> None:
    import redis

    runtime.redis = redis.Redis.from_url(redis_url, socket_connect_timeout=1) if redis_url else None
    with runtime.db.write_session() as s:
        cid = new_request(s, "+31612345678")
    response = client.post(f"/api/v1/callbacks/{cid}/call", headers=office["first"])
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == "the call could not be started; try again"
    [(call_id, callback_id, user_id, state, error)] = calls(runtime)
    assert (callback_id, user_id, state, error) == (cid, office["first_id"], "failed", "queue unavailable")
    assert claim_of(runtime, cid) == ("in_progress", office["first_id"])
    detail = client.get(f"/api/v1/callbacks/{cid}", headers=office["first"]).get_json()
    assert [(c["id"], c["state"], c["error"]) for c in detail["calls"]] == [(call_id, "failed", "queue unavailable")]


def test_click_to_call_needs_your_phone(client: Any, runtime: Any, office: dict[str, Any]) -> None:
    with runtime.db.write_session() as s:
        cid = new_request(s, "+31612345678")
    response = client.post(f"/api/v1/callbacks/{cid}/call", headers=office["second"])  # no phone on file
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "phone"
    assert calls(runtime) == [] and claim_of(runtime, cid) == ("open", None)


def test_click_to_call_queues_the_job_on_the_calls_queue(client: Any, runtime: Any, office: dict[str, Any],
                                                         real_redis: Any) -> None:
    runtime.redis = real_redis
    with runtime.db.write_session() as s:
        cid = new_request(s, "+31612345678")
        # Job ids carry the row id: start far from 1 so another run on the shared Redis cannot collide.
        s.execute(text("SELECT setval('callback_calls_id_seq', :n)"), {"n": random.randrange(10**9, 2 * 10**9)})
    response = client.post(f"/api/v1/callbacks/{cid}/call", headers=office["first"])
    assert response.status_code == 202, response.get_json()
    started = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/callbacks/{cid}")
    job_id = f"call-{started['id']}"
    try:
        assert (started["callback_id"], started["state"]) == (cid, "requested")
        calls_queue = queue(real_redis, "calls")
        assert job_id in calls_queue.get_job_ids()
        job = Job.fetch(job_id, connection=real_redis)
        assert (job.func_name, job.args) == ("telephony.click_to_call.place_call_job", (started["id"],))
        assert [row[3] for row in calls(runtime)] == ["requested"]
        assert claim_of(runtime, cid) == ("in_progress", office["first_id"])
        busy = client.post(f"/api/v1/callbacks/{cid}/call", headers=office["first"])  # one call at a time
        assert busy.status_code == 409 and len(calls(runtime)) == 1
    finally:
        if Job.exists(job_id, connection=real_redis):
            Job.fetch(job_id, connection=real_redis).delete(remove_from_queue=True)
