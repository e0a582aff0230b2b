"""JSON API plumbing shared by every blueprint: parsing, serialising, the route registry.

Requests are validated by pydantic models in strict mode (JSON "5" is not an
int, 1 is not a bool), unknown fields are refused, and times must carry an
offset. The same models are registered with each route, and
core.openapi builds the OpenAPI 3.1 description from them, so the
document cannot drift from what the API actually accepts.

Times leave the API as RFC 3339 in UTC with "Z" (`2026-03-02T09:00:00Z`); clients may send any offset.
Ids, text and times that come in use the types of core.inputs, which state
their limits in the document too; a body nested deeper than MAX_JSON_DEPTH is
refused before it is parsed.
"""
from __future__ import annotations

import json
import re
import typing
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Annotated, Any, Callable, Iterable, TypeVar

from flask import Blueprint, Response, current_app, request
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, ValidationError

from core.auth import api_auth
from core.inputs import pattern_message, to_utc
from core.problems import Problem

M = TypeVar("M", bound=BaseModel)
REF_TEMPLATE = "#/components/schemas/{model}"


# A time the API answers with: an aware datetime normalised to UTC; pydantic serialises it with a "Z".
# (Times that come in are core.inputs.Time.)
UtcDatetime = Annotated[AwareDatetime, AfterValidator(to_utc)]
MAX_JSON_DEPTH = 32


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
    return to_utc(value).isoformat().replace("+00:00", "Z")


def _message(error: Any) -> str:
    if error["type"] == "string_pattern_mismatch":  # the words for the pattern, not the regex
        return pattern_message(error["ctx"]["pattern"])
    return str(error["msg"]).removeprefix("Value error, ")


def validation_problem(exc: ValidationError, where: str) -> ValidationProblem:
    """Turn pydantic's errors into field-level messages ("working_hours.0.end"); inputs are not echoed."""
    errors = [{"field": ".".join(str(part) for part in e["loc"]) or where, "message": _message(e)}
              for e in exc.errors(include_url=False)]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return ValidationProblem(detail, errors=errors)


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays/objects deeper than `limit`, found without parsing it.

    A parser recurses per level: 100,000 levels end in a RecursionError, so
    the depth is counted on the brackets outside strings first.
    """
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', raw)):
        depth += 1 if bracket.group() in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False


def _not_json(why: str) -> Problem:
    return Problem(f"the body {why}", errors=[{"field": "body", "message": why}])


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
    if too_deep(raw):
        raise _not_json(f"nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise _not_json(f"is not valid JSON{where}") from None
    if not isinstance(data, dict):
        raise _not_json("must be a JSON object")
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):  # e.g. a lone surrogate (\ud800)
            raise _not_json("is not valid JSON (UTF-8 text)") from None
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
