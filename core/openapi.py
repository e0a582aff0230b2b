"""The OpenAPI 3.1 document of the JSON API, built from the route registry and the models that validate.

`openapi_document` describes every registered operation the app serves: its
path (ids bounded as the URL converter bounds them), query parameters and
body from the same pydantic models that parse them, and the answers it can
give, problems included. Nothing is written by hand, so the document cannot
drift from what the API accepts.
"""
from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from core.api import REF_TEMPLATE, Operation, ProblemDetails
from core.inputs import MAX_ID

_PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
_REASONS = {400: "Malformed request (broken JSON, a NUL character in a form or query value)", 401: "No valid bearer token or session",
            403: "The signed-in role may not do this", 404: "Not found, or not visible to you",
            409: "Conflict (e.g. the mediator or room is not free)", 415: "Body is not application/json",
            422: "Invalid fields; `errors` names each one"}


def _component_schemas(ops: list[Operation]) -> tuple[dict[Any, dict[str, Any]], dict[str, Any]]:
    """All body/response models in one pass, so shared sub-models get one component each."""
    wanted: list[tuple[type[BaseModel], Any]] = [(ProblemDetails, "serialization")]
    for op in ops:
        if op.body is not None:
            wanted.append((op.body, "validation"))
        if op.response is not None:
            wanted.append((op.response, "serialization"))
    refs, top = models_json_schema(list(dict.fromkeys(wanted)), ref_template=REF_TEMPLATE)
    return refs, dict(top.get("$defs", {}))


def _parameters(op: Operation, rule: str, components: dict[str, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID} if converter == "int" else {"type": "string"}}
        for converter, name in _PATH_PARAM.findall(rule)]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=REF_TEMPLATE, by_alias=True)
        components.update(schema.get("$defs", {}))
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in required, "schema": prop,
                           **({"description": prop["description"]} if "description" in prop else {})})
    return params


def _responses(op: Operation, rule: str, refs: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": refs[(ProblemDetails, "serialization")]}}
    ok: dict[str, Any] = {"description": "Success"}
    if op.response is not None:
        ok["content"] = {"application/json": {"schema": refs[(op.response, "serialization")]}}
    codes = set(op.errors) | {400} | (set() if op.public else {401}) | ({403} if op.roles else set())
    codes |= ({415, 422} if op.body else set()) | ({422} if op.query else set())
    codes |= {404} if "<" in rule else set()
    out = {str(op.status): ok}
    out.update({str(c): {"description": _REASONS.get(c, "Error"), "content": problem} for c in sorted(codes)})
    return out


def _operation(op: Operation, rule: str, refs: dict[Any, dict[str, Any]], components: dict[str, Any]) -> dict[str, Any]:
    roles = f"\n\nRoles: {', '.join(op.roles)}." if op.roles else ""
    doc: dict[str, Any] = {"operationId": op.endpoint.replace(".", "_"), "summary": op.summary,
                           "description": op.description + roles, "tags": [op.tag],
                           "parameters": _parameters(op, rule, components),
                           "responses": _responses(op, rule, refs)}
    if op.body is not None:
        required = bool(op.body.model_json_schema().get("required"))
        doc["requestBody"] = {"required": required,
                              "content": {"application/json": {"schema": refs[(op.body, "validation")]}}}
    if op.public:
        doc["security"] = []
    return doc


def openapi_document(url_map: Any, operations: list[Operation], *, title: str, version: str) -> dict[str, Any]:
    """OpenAPI 3.1 for the registered operations whose endpoints this app serves."""
    rules = {rule.endpoint: rule.rule for rule in url_map.iter_rules()}
    ops = [op for op in operations if op.endpoint in rules]
    refs, components = _component_schemas(ops)
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        path = _PATH_PARAM.sub(r"{\2}", rules[op.endpoint])
        paths.setdefault(path, {})[op.method] = _operation(op, rules[op.endpoint], refs, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version,
                 "description": "Times are RFC 3339 with an offset; responses use UTC (\"Z\")."},
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
    }
