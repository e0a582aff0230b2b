"""JSON API plumbing shared by every blueprint: parsing, serialising, OpenAPI.

Requests are validated by pydantic models in strict mode (JSON "5" is not an
int, 1 is not a bool), unknown fields are refused, and times must carry an
offset. The same models are registered with each route, and
`openapi_document` builds the OpenAPI 3.1 description from them, so the
document cannot drift from what the API actually accepts.

Times leave the API as RFC 3339 in UTC with "Z" (`2026-03-02T09:00:00Z`); clients may send any offset.
"""
from __future__ import annotations

import json
import re
import typing
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import wraps
from typing import Annotated, Any, Callable, Iterable, TypeVar

from flask import Blueprint, Response, current_app, request
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, ValidationError
from pydantic.json_schema import models_json_schema

from core.auth import api_auth
from core.problems import Problem

M = TypeVar("M", bound=BaseModel)
REF_TEMPLATE = "#/components/schemas/{model}"


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


# An aware datetime normalised to UTC; pydantic serialises it with a "Z".
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


class RequestModel(BaseModel):
    """Base of request bodies: strict types, unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid")


class QueryModel(BaseModel):
    """Base of query strings: every value arrives as text, so types are lax; unknown names are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ResponseModel(BaseModel):
    """Base of response bodies. Not closed to extra members: clients must tolerate fields added later."""

    model_config = ConfigDict(populate_by_name=True)


class FieldError(ResponseModel):
    field: str
    message: str


class ConflictingResource(ResponseModel):
    type: str
    id: int
    name: str


class ProblemDetails(ResponseModel):
    """RFC 9457 problem details as core.problems writes them; `conflicts` comes with a booking's 409."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] = []
    conflicts: list[ConflictingResource] = []


class UnsupportedMediaType(Problem):
    status = 415
    title = "Unsupported media type"


class ValidationProblem(Problem):
    status = 422
    title = "Invalid input"


def rfc3339(value: datetime) -> str:
    """A UTC timestamp with "Z", for places that write JSON without a model."""
    return _to_utc(value).isoformat().replace("+00:00", "Z")


def validation_problem(exc: ValidationError, where: str) -> ValidationProblem:
    """Turn pydantic's errors into field-level messages ("working_hours.0.end"); inputs are not echoed."""
    errors = [{"field": ".".join(str(part) for part in e["loc"]) or where,
               "message": e["msg"].removeprefix("Value error, ")} for e in exc.errors(include_url=False)]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return ValidationProblem(detail, errors=errors)


def parse_body(model: type[M]) -> M:
    """The request body as `model`: 400 for broken JSON, 415 for non-JSON, 422 for invalid fields.

    An empty body counts as `{}`, so actions whose fields are all optional
    (cancel, confirm) may be posted bare.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        raw = b"{}"
    elif not request.is_json:
        raise UnsupportedMediaType("send the body as application/json",
                                   errors=[{"field": "body", "message": "Content-Type must be application/json"}])
    try:
        data = json.loads(raw)
    except ValueError as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise Problem(f"the body is not valid JSON{where}",
                      errors=[{"field": "body", "message": f"is not valid JSON{where}"}]) from None
    if not isinstance(data, dict):
        raise Problem("the body must be a JSON object", errors=[{"field": "body", "message": "must be a JSON object"}])
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise validation_problem(exc, "body") from None


_SPACE_FOR_PLUS = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+) (\d\d:?\d\d)$")


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return origin is list or (origin is not None and any(_is_list(a) for a in typing.get_args(annotation)))


def query_data(model: type[BaseModel], args: Any) -> dict[str, Any]:
    """Query args as a dict for `model`: list fields take repeats and commas (`ids=1,2&ids=3`).

    An unencoded "+" of an offset arrives as a space ("10:00:00 01:00"); it is put back.
    """
    by_name = {(f.alias or name): f for name, f in model.model_fields.items()}
    data: dict[str, Any] = {}
    for key in args:
        values = [_SPACE_FOR_PLUS.sub(r"\1+\2", v) for v in args.getlist(key)]
        field = by_name.get(key)
        if field is not None and _is_list(field.annotation):
            data[key] = [part.strip() for v in values for part in v.split(",") if part.strip()]
        else:
            data[key] = values[0] if len(values) == 1 else values
    return data


def parse_query(model: type[M]) -> M:
    try:
        return model.model_validate(query_data(model, request.args))
    except ValidationError as exc:
        raise validation_problem(exc, "query") from None


def respond(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return current_app.response_class(model.model_dump_json(by_alias=True), status=status,
                                      mimetype="application/json", headers=headers)


@dataclass(frozen=True)
class Operation:
    """One documented route; `endpoint` is looked up in the app's URL map for its real path."""

    method: str
    endpoint: str
    summary: str
    description: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    roles: tuple[str, ...]
    public: bool
    tag: str


class ApiRegistry:
    """Routes and their models, in the order they were declared."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []

    def route(self, bp: Blueprint, method: str, rule: str, *, summary: str, tag: str,
              body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
              response: type[BaseModel] | None = None, status: int = 200, errors: Iterable[int] = (),
              roles: tuple[str, ...] = (), public: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a view: auth (unless public), then body/query parsing, then the view.

        The view receives the parsed models as keyword arguments `body` and
        `query`, so what is documented is exactly what is validated.
        """
        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(view)
            def handler(**kwargs: Any) -> Any:
                if query is not None:
                    kwargs["query"] = parse_query(query)
                if body is not None:
                    kwargs["body"] = parse_body(body)
                return view(**kwargs)

            wrapped = handler if public else api_auth(*roles)(handler)
            bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapped, methods=[method])
            self.operations.append(Operation(
                method=method.lower(), endpoint=f"{bp.name}.{view.__name__}", summary=summary,
                description=(view.__doc__ or "").strip(), body=body, query=query, response=response,
                status=status, errors=tuple(errors), roles=roles, public=public, tag=tag))
            return view
        return decorate


registry = ApiRegistry()


_PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
_REASONS = {400: "Malformed request (e.g. broken JSON)", 401: "No valid bearer token or session",
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
         "schema": {"type": "integer"} if converter == "int" else {"type": "string"}}
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
    codes = set(op.errors) | (set() if op.public else {401}) | ({403} if op.roles else set())
    codes |= ({400, 415, 422} if op.body else set()) | ({422} if op.query else set())
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
