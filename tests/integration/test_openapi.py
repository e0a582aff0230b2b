"""The OpenAPI document: valid-looking 3.1, complete, and built from the models that validate requests."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from core.inputs import MAX_ID
from scheduler.schemas import MediatorCreate
from scheduler.schemas_appointments import AppointmentCreate

RESOURCES = ("/api/v1/mediators", "/api/v1/locations", "/api/v1/rooms", "/api/v1/cases", "/api/v1/participants",
             "/api/v1/appointments", "/api/v1/availability", "/api/v1/tasks", "/api/v1/callbacks", "/api/v1/me")
METHODS = {"get", "post", "patch", "put", "delete"}


@pytest.fixture
def document(client: Any) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")  # no token: the description is public
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return dict(response.get_json())


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_it_is_openapi_3_1_with_components(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] and document["info"]["version"]
    assert document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert document["security"] == [{"bearerAuth": []}]


def test_every_resource_has_paths_and_every_operation_is_complete(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for resource in RESOURCES:
        assert resource in paths, resource
    for resource in ("mediators", "locations", "rooms", "cases", "participants", "appointments"):
        item = paths[f"/api/v1/{resource}/{{{resource[:-1]}_id}}"]
        assert set(item) == ({"get"} if resource == "appointments" else {"get", "patch"}), resource
        assert set(paths[f"/api/v1/{resource}"]) == {"get", "post"}
    for action in ("confirm", "reschedule", "cancel"):
        assert set(paths[f"/api/v1/appointments/{{appointment_id}}/{action}"]) == {"post"}
    for action in ("withdraw", "undo-withdrawal"):
        assert set(paths[f"/api/v1/participants/{{participant_id}}/{action}"]) == {"post"}
    assert set(paths["/api/v1/mediators/{mediator_id}/reassign-future"]) == {"post"}
    operation_ids = []
    for path, item in paths.items():
        for method, operation in item.items():
            assert method in METHODS
            operation_ids.append(operation["operationId"])
            assert operation["summary"] and operation["responses"]
            for name in (p["name"] for p in operation["parameters"] if p["in"] == "path"):
                assert "{" + name + "}" in path
            if path != "/api/v1/openapi.json":
                assert "401" in operation["responses"], (path, method)
    assert len(operation_ids) == len(set(operation_ids))


def test_every_ref_resolves(document: dict[str, Any]) -> None:
    found = list(refs(document))
    assert found
    for ref in found:
        assert isinstance(resolve(document, ref), dict), ref


def test_appointment_request_schema_refuses_unknown_fields(document: dict[str, Any]) -> None:
    body = document["paths"]["/api/v1/appointments"]["post"]["requestBody"]
    assert body["required"] is True
    schema = resolve(document, body["content"]["application/json"]["schema"]["$ref"])
    assert schema["additionalProperties"] is False
    assert {"case_id", "kind", "mode", "start", "end", "mediator_ids"} <= set(schema["required"])
    assert schema["properties"]["start"]["format"] == "date-time"
    assert schema["properties"]["kind"]["enum"] == ["intake", "preparation", "meeting", "follow_up"]
    responses = document["paths"]["/api/v1/appointments"]["post"]["responses"]
    assert {"201", "409", "422"} <= set(responses)
    problem = resolve(document, responses["409"]["content"]["application/problem+json"]["schema"]["$ref"])
    assert {"title", "status", "detail", "errors", "conflicts"} <= set(problem["properties"])


def test_every_request_body_is_closed_to_unknown_fields(document: dict[str, Any]) -> None:
    bodies = [op["requestBody"] for item in document["paths"].values() for op in item.values() if "requestBody" in op]
    assert len(bodies) >= 12
    for body in bodies:
        schema = resolve(document, body["content"]["application/json"]["schema"]["$ref"])
        assert schema["additionalProperties"] is False, schema["title"]


def test_documented_schemas_are_the_validating_models(document: dict[str, Any]) -> None:
    """The component is exactly what the model that validates the request says, nothing hand-written."""
    schemas = document["components"]["schemas"]
    generated = AppointmentCreate.model_json_schema(ref_template="#/components/schemas/{model}")
    assert schemas["AppointmentCreate"]["properties"] == generated["properties"]
    hours = MediatorCreate.model_json_schema(ref_template="#/components/schemas/{model}")["$defs"]["WorkingHours"]
    assert schemas["WorkingHours"] == hours
    assert hours["properties"]["weekday"] == {"maximum": 6, "minimum": 0, "title": "Weekday", "type": "integer"}


def test_availability_query_parameters(document: dict[str, Any]) -> None:
    operation = document["paths"]["/api/v1/availability"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    documented = {"mediator_ids", "room_id", "location_id", "duration_minutes", "from", "to"}
    assert documented <= set(params)
    assert params["from"]["required"] and params["to"]["required"] and params["duration_minutes"]["required"]
    assert not params["room_id"]["required"]
    assert params["duration_minutes"]["schema"]["minimum"] == 1
    assert params["duration_minutes"]["schema"]["maximum"] == 480
    assert params["mediator_ids"]["schema"]["maxItems"] == 2
    slots = resolve(document, operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"])
    slot = resolve(document, slots["properties"]["slots"]["items"]["$ref"])
    assert set(slot["properties"]) == {"start", "end", "room_id"}


def test_the_document_itself_needs_no_token(document: dict[str, Any]) -> None:
    operation = document["paths"]["/api/v1/openapi.json"]["get"]
    assert operation["security"] == []
    assert "401" not in operation["responses"]


def _leaves(document: dict[str, Any], schema: Any, where: str, seen: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema under `schema`, $refs followed once, with where it sits."""
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        if schema["$ref"] not in seen:
            seen.add(schema["$ref"])
            yield from _leaves(document, resolve(document, schema["$ref"]), schema["$ref"], seen)
        return
    yield where, schema
    for name, sub in schema.get("properties", {}).items():
        yield from _leaves(document, sub, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties"):
        yield from _leaves(document, schema.get(key), f"{where}[]", seen)
    for sub in schema.get("anyOf", []):
        yield from _leaves(document, sub, where, seen)


def request_schemas(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """What a client sends: every parameter's schema and every request body, down to the leaves."""
    seen: set[str] = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation["parameters"]:
                yield from _leaves(document, parameter["schema"], f"{method} {path} {parameter['name']}", seen)
            if "requestBody" in operation:
                yield from _leaves(document, operation["requestBody"]["content"]["application/json"]["schema"],
                                   f"{method} {path} body", seen)


def test_the_document_states_every_limit_a_request_meets(document: dict[str, Any]) -> None:
    """Issue 11: a schema-driven client never meets a 422 for a length, pattern, range or enum it was not told of.

    Every integer has a range (ids end at 2^31-1), every string a pattern or
    a list of values (text: no NUL, one line where it is one line; times:
    RFC 3339 with a year from 1900 to 2999), every list a length and every
    object either closed or with its keys' pattern.
    """
    leaves = list(request_schemas(document))
    assert len(leaves) > 150
    for where, schema in leaves:
        kind = schema.get("type")
        if kind == "integer":
            assert "minimum" in schema and schema.get("maximum", MAX_ID + 1) <= MAX_ID, (where, schema)
        elif kind == "string":
            assert "pattern" in schema or "enum" in schema or "const" in schema, (where, schema)
        elif kind == "array":
            assert "maxItems" in schema, (where, schema)
        elif kind == "object":
            assert schema.get("additionalProperties") is False or "propertyNames" in schema, (where, schema)
    times = [s for _, s in leaves if s.get("format") == "date-time"]
    assert times and all(s["pattern"].startswith("^(19[0-9]{2}|2[0-9]{3})-") for s in times)


def test_path_ids_are_bounded_in_the_document(document: dict[str, Any]) -> None:
    ids = [p for item in document["paths"].values() for op in item.values() for p in op["parameters"]
           if p["in"] == "path"]
    assert len(ids) > 30
    assert all(p["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_ID} for p in ids)
