"""Issue 11, "No server error from any input": each class of input that used to be a 500 is a 4xx naming the field.

Huge ids (path, query, body, the phone line's turn), NUL and line breaks in
text, years a time cannot have, JSON nested 100,000 deep, query times that
are not RFC 3339; and the rules the models add: a landline cannot get texts,
working hours do not overlap, a 405 says what is allowed, and the stored
text is never longer than the documented limit. Every refusal leaves every
table as it was (`snapshot`).
"""
from __future__ import annotations

import re
from typing import Any

from tests.conftest import both_databases
from tests.integration.ivr_helpers import new_sid, twilio_post
from tests.integration.sms_helpers import BASE
from tests.integration.test_api_errors import W, snapshot, world  # noqa: F401

HUGE_IDS = [2**31, 2**63, 10**30]


def problem_fields(response: Any) -> set[str]:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)[:200]
    return {e["field"] for e in response.get_json().get("errors", [])}


def document(client: Any) -> dict[str, Any]:
    return dict(client.get("/api/v1/openapi.json").get_json())


@both_databases
def test_a_huge_id_in_any_path_is_a_404_naming_it(client: Any, world: W, runtime: Any) -> None:
    before = snapshot(runtime)
    tried = 0
    for path, item in document(client)["paths"].items():
        names = [p["name"] for op in item.values() for p in op["parameters"] if p["in"] == "path"]
        for name, huge in ((name, huge) for name in dict.fromkeys(names) for huge in HUGE_IDS):
            url = re.sub(r"\{\w+\}", "1", path.replace("{" + name + "}", str(huge)))
            for method in item:
                response = client.open(url, method=method.upper(), json={}, headers=world["coordinator"])
                assert response.status_code == 404, (method, url, response.get_json())
                assert name in problem_fields(response), (method, url)
                tried += 1
    assert tried >= 90
    assert snapshot(runtime) == before


def test_a_huge_turn_on_the_phone_line_is_a_404_not_a_database_error(client: Any, runtime: Any) -> None:
    before = snapshot(runtime)
    params = {"CallSid": new_sid(), "From": "+31612345678", "To": "+31201234567", "Digits": "1"}
    response = twilio_post(client, f"{BASE}/telephony/voice/answer/{2**31}", params)
    assert response.status_code == 404
    assert snapshot(runtime) == before


@both_databases
def test_nul_in_an_uploaded_file_and_in_forms_and_query_strings(client: Any, world: W, runtime: Any) -> None:
    before = snapshot(runtime)
    signed_in = client.post("/login", data={"email": "a\x00@example.org", "password": "x"})
    assert signed_in.status_code == 400 and "email" in problem_fields(signed_in)
    queried = client.get("/api/v1/callbacks?assignee=m%00e", headers=world["coordinator"])
    assert queried.status_code == 400 and "assignee" in problem_fields(queried)
    assert snapshot(runtime) == before


@both_databases
def test_json_nested_100000_deep_is_a_400_on_the_body(client: Any, world: W, runtime: Any) -> None:
    before = snapshot(runtime)
    for deep in (b"[" * 100_000 + b"]" * 100_000, b'{"name": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001):
        response = client.post("/api/v1/locations", data=deep, content_type="application/json",
                               headers=world["coordinator"])
        assert response.status_code == 400 and problem_fields(response) == {"body"}
    assert snapshot(runtime) == before
    brackets = {"name": "[[[{{{", "address": "]]]}}}" * 20, "city": "Utrecht"}  # inside strings: no nesting
    assert client.post("/api/v1/locations", json=brackets, headers=world["coordinator"]).status_code == 201


def test_a_405_says_which_methods_are_allowed(client: Any, world: W) -> None:
    response = client.delete("/api/v1/cases", headers=world["coordinator"])
    assert response.status_code == 405 and response.mimetype == "application/problem+json"
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}
    one = client.put(f"/api/v1/cases/{world['case']}", json={}, headers=world["coordinator"])
    assert one.status_code == 405 and "PATCH" in one.headers["Allow"]
