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
from typing import Any, Callable
from urllib.parse import urlencode

from sqlalchemy import select

from core.inputs import MAX_ID
from scheduler.models import Location, Participant
from tests.conftest import both_databases
from tests.integration.ivr_helpers import new_sid, twilio_post
from tests.integration.sms_helpers import BASE
from tests.integration.test_api_errors import W, appointment, booked, iso, snapshot, world  # noqa: F401

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
def test_a_huge_id_in_any_query_is_a_422_naming_it(client: Any, world: W) -> None:
    tried = 0
    for path, item in document(client)["paths"].items():
        if "get" not in item or "{" in path:
            continue
        for parameter, huge in ((p, huge) for p in item["get"]["parameters"] for huge in HUGE_IDS[:2]):
            schema = parameter["schema"].get("anyOf", [parameter["schema"]])[0]
            schema = schema.get("items", schema)
            if schema.get("type") == "integer" and schema.get("maximum") == MAX_ID:
                response = client.get(f"{path}?{parameter['name']}={huge}", headers=world["coordinator"])
                assert response.status_code == 422, (path, parameter["name"])
                assert parameter["name"] in {f.split(".")[0] for f in problem_fields(response)}
                tried += 1
    assert tried >= 20


BODY_IDS: list[tuple[str, Callable[[W, int], W], str]] = [
    ("/appointments", lambda w, n: appointment(w, case_id=n), "case_id"),
    ("/appointments", lambda w, n: appointment(w, mediator_ids=[n]), "mediator_ids.0"),
    ("/appointments", lambda w, n: appointment(w, mode="in_person", room_id=n), "room_id"),
    ("/appointments", lambda w, n: appointment(w, participant_ids=[n]), "participant_ids.0"),
    ("/appointments", lambda w, n: appointment(w, arrivals={str(n): iso(w, 0)}), "arrivals"),
    ("/appointments/{appointment}/reschedule", lambda w, n: {"start": iso(w, 6), "end": iso(w, 7), "room_id": n},
     "room_id"),
    ("/participants", lambda w, n: {"case_id": n, "name": "P", "role": "victim"}, "case_id"),
    ("/rooms", lambda w, n: {"location_id": n, "name": "R"}, "location_id"),
    ("/cases", lambda w, n: {"kind": "crime", "mediator_ids": [n]}, "mediator_ids.0"),
    ("/calendar-sources", lambda w, n: {"owner": {"mediator_id": n}, "kind": "upload", "content": "x"},
     "owner.mediator_id"),
    ("/mediators/{m1}/reassign-future", lambda w, n: {"to_mediator_ids": [n]}, "to_mediator_ids.0"),
]


@both_databases
def test_a_huge_id_in_any_body_is_a_422_naming_it(client: Any, world: W, booked: int, runtime: Any) -> None:
    before = snapshot(runtime)
    for huge in HUGE_IDS[:2]:
        for path, build, field in BODY_IDS:
            response = client.post("/api/v1" + path.format(appointment=booked, m1=world["m1"]),
                                   json=build(world, huge), headers=world["coordinator"])
            assert response.status_code == 422, (path, field, response.get_json())
            assert any(f.startswith(field) for f in problem_fields(response)), response.get_json()
    assert snapshot(runtime) == before


TEXTS: list[tuple[str, str, Callable[[W, str], W], str]] = [
    ("POST", "/mediators", lambda w, t: {"name": t, "email": "a@example.org"}, "name"),
    ("POST", "/mediators", lambda w, t: {"name": "A", "email": f"a{t}@example.org"}, "email"),
    ("POST", "/locations", lambda w, t: {"name": "L", "address": f"Straat {t}1", "city": "Utrecht"}, "address"),
    ("POST", "/locations", lambda w, t: {"name": "L", "address": "Straat 1", "city": f"Utr{t}echt"}, "city"),
    ("POST", "/rooms", lambda w, t: {"location_id": w["loc"], "name": f"Kamer{t}"}, "name"),
    ("POST", "/participants", lambda w, t: {"case_id": w["case"], "name": f"P{t}", "role": "victim"}, "name"),
    ("POST", "/participants", lambda w, t: {"case_id": w["case"], "name": "P", "role": "victim",
                                            "address": f"Laan{t} 3"}, "address"),
    ("POST", "/participants", lambda w, t: {"case_id": w["case"], "name": "P", "role": "victim",
                                            "phone": f"06{t}12345678"}, "phone"),
    ("POST", "/cases", lambda w, t: {"kind": "crime", "reference": f"HB{t}1"}, "reference"),
    ("POST", "/calendar-sources", lambda w, t: {"owner": {"mediator_id": w["m1"]}, "kind": "ics_url", "label": t,
                                                "url": "https://example.org/c.ics"}, "label"),
    ("POST", "/calendar-sources", lambda w, t: {"owner": {"mediator_id": w["m1"]}, "kind": "caldav",
                                                "url": f"https://example.org/{t}dav/", "username": "u",
                                                "password": "p"}, "url"),
    ("POST", "/calendar-sources", lambda w, t: {"owner": {"mediator_id": w["m1"]}, "kind": "caldav",
                                                "url": "https://example.org/dav/", "username": f"u{t}",
                                                "password": f"p{t}"}, "username"),
    ("PATCH", "/me", lambda w, t: {"phone": f"06 1234{t}5678"}, "phone"),
]


@both_databases
def test_nul_and_line_breaks_in_one_line_text_are_422_naming_the_field(client: Any, world: W,
                                                                       runtime: Any) -> None:
    before = snapshot(runtime)
    for text in ("\x00", "\n", "\r\n", "\u2028"):
        for method, path, build, field in TEXTS:
            response = client.open("/api/v1" + path, method=method, json=build(world, text),
                                   headers=world["coordinator"])
            assert response.status_code == 422, (repr(text), path, field, response.get_json())
            assert field in problem_fields(response), (repr(text), path, field)
    assert snapshot(runtime) == before


@both_databases
def test_nul_in_an_uploaded_file_and_in_forms_and_query_strings(client: Any, world: W, runtime: Any) -> None:
    before = snapshot(runtime)
    upload = {"owner": {"mediator_id": world["m1"]}, "kind": "upload",
              "content": "BEGIN:VCALENDAR\r\nX-A:\x00\r\nEND:VCALENDAR\r\n"}
    response = client.post("/api/v1/calendar-sources", json=upload, headers=world["coordinator"])
    assert response.status_code == 422 and "content" in problem_fields(response)
    signed_in = client.post("/login", data={"email": "a\x00@example.org", "password": "x"})
    assert signed_in.status_code == 400 and "email" in problem_fields(signed_in)
    queried = client.get("/api/v1/callbacks?assignee=m%00e", headers=world["coordinator"])
    assert queried.status_code == 400 and "assignee" in problem_fields(queried)
    assert snapshot(runtime) == before


TIMES: list[tuple[str, str, Callable[[W, str], W], str]] = [
    ("POST", "/appointments", lambda w, t: appointment(w, start=t), "start"),
    ("POST", "/appointments", lambda w, t: appointment(w, end=t), "end"),
    ("POST", "/appointments", lambda w, t: appointment(w, participant_ids=w["people"][:1],
                                                       arrivals={str(w["people"][0]): t}), "arrivals"),
    ("POST", "/appointments/{appointment}/reschedule", lambda w, t: {"start": t, "end": iso(w, 7)}, "start"),
    ("POST", "/mediators/{m1}/reassign-future", lambda w, t: {"from": t[:10]}, "from"),
]


@both_databases
def test_a_year_a_time_cannot_have_is_422_naming_the_field(client: Any, world: W, booked: int,
                                                          runtime: Any) -> None:
    before = snapshot(runtime)
    for when in ("9999-12-31T23:30:00-05:00", "9999-12-31T10:00:00+00:00", "0001-01-01T00:30:00+01:00",
                 "3000-01-01T10:00:00+01:00"):
        for method, path, build, field in TIMES:
            response = client.open("/api/v1" + path.format(appointment=booked, m1=world["m1"]), method=method,
                                   json=build(world, when), headers=world["coordinator"])
            assert response.status_code == 422, (when, path, field, response.get_json())
            assert any(f.split(".")[0] == field for f in problem_fields(response)), response.get_json()
    assert snapshot(runtime) == before


def test_query_times_are_rfc_3339_text(client: Any, world: W) -> None:
    for path, name in (("/appointments", "to"), ("/appointments", "from"), ("/callbacks", "due_before")):
        for value in ("0.5", "1700000000", "9999-12-31T23:30:00-05:00", "2030-03-04", "2030-03-04T10:00",
                      "2030-03-04T10:00:00"):
            response = client.get(f"/api/v1{path}?{urlencode({name: value})}", headers=world["coordinator"])
            assert response.status_code == 422 and name in problem_fields(response), (path, name, value)
        good = client.get(f"/api/v1{path}?{urlencode({name: '2030-03-04T10:00:00.5+01:00'})}",
                          headers=world["coordinator"])
        assert good.status_code == 200
    query = {"mediator_ids": str(world["m1"]), "duration_minutes": "60", "from": "0.5", "to": "1.5"}
    response = client.get("/api/v1/availability?" + urlencode(query), headers=world["coordinator"])
    assert response.status_code == 422 and {"from", "to"} <= problem_fields(response)


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


def test_a_landline_cannot_be_allowed_texts(client: Any, world: W, runtime: Any) -> None:
    office = world["coordinator"]
    before = snapshot(runtime)
    landline = {"case_id": world["case"], "name": "P", "role": "victim", "phone": "030 123 4567", "sms_allowed": True}
    response = client.post("/api/v1/participants", json=landline, headers=office)
    assert response.status_code == 422 and problem_fields(response) == {"sms_allowed"}
    assert snapshot(runtime) == before
    pid = client.post("/api/v1/participants", json={**landline, "sms_allowed": False}, headers=office).get_json()["id"]
    switched_on = client.patch(f"/api/v1/participants/{pid}", json={"sms_allowed": True}, headers=office)
    assert switched_on.status_code == 422 and problem_fields(switched_on) == {"sms_allowed"}
    mobile = client.patch(f"/api/v1/participants/{pid}", json={"phone": "06 12345678", "sms_allowed": True},
                          headers=office)
    assert mobile.status_code == 200 and mobile.get_json()["sms_allowed"] is True
    to_landline = client.patch(f"/api/v1/participants/{pid}", json={"phone": "030 123 4567"}, headers=office)
    assert to_landline.status_code == 422 and problem_fields(to_landline) == {"phone"}
    with runtime.db.session() as s:
        assert s.get(Participant, pid).phone == "+31612345678"


def test_overlapping_working_hours_are_refused(client: Any, world: W, runtime: Any) -> None:
    before = snapshot(runtime)
    hours = [{"weekday": 0, "start": "09:00", "end": "12:00"}, {"weekday": 0, "start": "11:30", "end": "17:00"}]
    body = {"name": "A", "email": "a@example.org", "working_hours": hours}
    response = client.post("/api/v1/mediators", json=body, headers=world["coordinator"])
    assert response.status_code == 422 and problem_fields(response) == {"working_hours"}
    patched = client.patch(f"/api/v1/mediators/{world['m1']}", json={"working_hours": hours},
                           headers=world["coordinator"])
    assert patched.status_code == 422 and problem_fields(patched) == {"working_hours"}
    assert snapshot(runtime) == before
    touching = [{"weekday": 0, "start": "09:00", "end": "12:00"}, {"weekday": 0, "start": "12:00", "end": "17:00"},
                {"weekday": 1, "start": "11:30", "end": "17:00"}]
    created = client.post("/api/v1/mediators", json={**body, "working_hours": touching}, headers=world["coordinator"])
    assert created.status_code == 201


def test_a_405_says_which_methods_are_allowed(client: Any, world: W) -> None:
    response = client.delete("/api/v1/cases", headers=world["coordinator"])
    assert response.status_code == 405 and response.mimetype == "application/problem+json"
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}
    one = client.put(f"/api/v1/cases/{world['case']}", json={}, headers=world["coordinator"])
    assert one.status_code == 405 and "PATCH" in one.headers["Allow"]


def test_length_limits_hold_for_what_is_stored(client: Any, world: W, runtime: Any) -> None:
    """The limit is checked on what was sent (as the document says); the stored value, trimmed, is never longer."""
    office = world["coordinator"]
    over = client.post("/api/v1/locations", json={"name": "  " + "x" * 199, "address": "a", "city": "c"},
                       headers=office)
    assert over.status_code == 422 and problem_fields(over) == {"name"}
    at_limit = client.post("/api/v1/locations", json={"name": " " + "x" * 198 + " ", "address": "a", "city": "c"},
                           headers=office)
    assert at_limit.status_code == 201
    with runtime.db.session() as s:
        assert s.scalar(select(Location.name).where(Location.id == at_limit.get_json()["id"])) == "x" * 198
    blank = client.post("/api/v1/locations", json={"name": "   ", "address": "a", "city": "c"}, headers=office)
    assert blank.status_code == 422 and problem_fields(blank) == {"name"}
