"""Schemathesis against the JSON API, in process: the suite's bounded run and bench/api_fuzz.py's larger one.

The document is read from the app's own /api/v1/openapi.json and every
request goes through the werkzeug test client (no server, no port), signed
with a coordinator's bearer token, against a database that holds the demo
data (mediators, rooms, cases, participants, appointments, callbacks).
Schemathesis' engine runs its phases (the document's examples, the coverage
sweep of boundary and invalid values, and random fuzzing), positive and
negative, and this module counts:

- server errors: a 5xx answer, or an exception out of the app;
- conformance failures: a status code, content type, header or body the
  document does not describe, and a 405 without `Allow`;
- undocumented refusals: a request the document calls valid that the
  server's models refuse for a reason JSON Schema could have stated (a
  length, a pattern, a range, an enum). A 422 from a rule the document can
  only describe in words (an unknown id, overlapping hours, a phone number
  phonenumbers rejects) is the API working as documented.
"""
from __future__ import annotations

import time
import typing
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable
from urllib.parse import parse_qsl, urlsplit

import pydantic_core
import schemathesis
from flask import Flask
from pydantic import BaseModel, ValidationError
from schemathesis.engine import events, from_schema
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from core.api import Operation, query_data, registry
from core.auth import create_user, issue_token

SERVER_ERROR = "not_a_server_error"
CONFORMANCE = ("status_code_conformance", "content_type_conformance", "response_headers_conformance",
               "response_schema_conformance", "unsupported_method", "allow_header_conformance")
# pydantic's own error types are constraints JSON Schema can state; the rest (PydanticCustomError,
# ValueError from a validator) are rules the document gives in words.
_SCHEMA_EXPRESSIBLE = frozenset(typing.get_args(pydantic_core.core_schema.ErrorType)) - {"value_error",
                                                                                        "assertion_error"}


@dataclass
class FuzzReport:
    operations: set[str] = field(default_factory=set)
    examples: int = 0
    by_phase: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    conformance_failures: list[str] = field(default_factory=list)
    undocumented_refusals: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> list[str]:
        return self.server_errors + self.conformance_failures + self.undocumented_refusals

    def summary(self) -> str:
        phases = ", ".join(f"{name} {count}" for name, count in sorted(self.by_phase.items()))
        codes = ", ".join(f"{code}: {count}" for code, count in sorted(self.statuses.items()))
        return (f"operations: {len(self.operations)}\nexamples: {self.examples} ({phases})\n"
                f"answers: {codes}\nserver errors: {len(self.server_errors)}\n"
                f"conformance failures: {len(self.conformance_failures)}\n"
                f"undocumented refusals: {len(self.undocumented_refusals)}\ntime: {self.seconds:.1f} s")


def seed(session: Session, settings: Any, workdays: Any) -> dict[str, str]:
    """Demo data plus a coordinator with a token; returns the Authorization header."""
    from core.db import utcnow
    from scheduler.demo import load_demo
    from telephony.demo import load_demo_callbacks

    load_demo(session)
    load_demo_callbacks(session, utcnow(), settings, workdays)
    user = create_user(session, "fuzz@example.org", "Fuzz Coordinator", "coordinator", "correct horse battery")
    token = issue_token(session, user, "schemathesis")
    session.flush()
    return {"Authorization": f"Bearer {token}"}


def config(headers: dict[str, str], *, examples: int, seed_value: int, coverage: bool,
           methods: list[str] | None) -> schemathesis.Config:
    """`methods`: the undeclared methods the coverage sweep tries on each path (None: schemathesis' list)."""
    sweep: dict[str, Any] = {"enabled": coverage}
    if methods is not None:
        sweep["unexpected-methods"] = methods
    return schemathesis.Config.from_dict({
        "seed": seed_value, "headers": headers, "continue-on-failure": True,
        "generation": {"max-examples": examples, "mode": "all", "database": "none", "no-shrink": True},
        "phases": {"stateful": {"enabled": False}, "coverage": sweep},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in (SERVER_ERROR, *CONFORMANCE)}},
    })


def _models(app: Flask) -> dict[str, Operation]:
    """operationId → the registered operation, whose models validate the request."""
    served = {rule.endpoint for rule in app.url_map.iter_rules()}
    return {op.endpoint.replace(".", "_"): op for op in registry.operations if op.endpoint in served}


def _expressible_errors(model: type[BaseModel], validate: Any) -> list[str]:
    try:
        validate(model)
    except ValidationError as exc:
        return [f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors()
                if e["type"] in _SCHEMA_EXPRESSIBLE]
    return []


def undocumented_refusal(op: Operation, uri: str, body: bytes | None) -> list[str]:
    """What the server's models refuse in a request the document calls valid, as "field: error type"."""
    found: list[str] = []
    if op.query is not None:
        args = MultiDict(parse_qsl(urlsplit(uri).query, keep_blank_values=True))
        found += _expressible_errors(op.query, lambda m: m.model_validate(query_data(m, args)))
    if op.body is not None and body and body.strip():
        found += _expressible_errors(op.body, lambda m: m.model_validate_json(body, strict=True))
    return found


def _record(report: FuzzReport, ops: dict[str, Operation], event: events.ScenarioFinished) -> None:
    recorder = event.recorder
    report.operations.add(recorder.label)
    report.examples += len(recorder.cases)
    report.by_phase[event.phase.value] += len(recorder.cases)
    for case_id, node in recorder.cases.items():
        interaction = recorder.interactions.get(case_id)
        if interaction is None or interaction.response is None:
            continue
        report.statuses[interaction.response.status_code] += 1
        for check in recorder.checks.get(case_id, []):
            if check.status.value != "failure":
                continue
            where = report.server_errors if check.name == SERVER_ERROR else report.conformance_failures
            title = check.failure_info.failure.title if check.failure_info else ""
            where.append(f"{recorder.label}: {check.name}: {title}\n  {interaction.request.method} "
                         f"{interaction.request.uri} {(interaction.request.body or b'')[:300]!r}")
        meta = node.value.meta
        op = ops.get(str(node.value.operation.definition.raw.get("operationId")))
        if meta is None or op is None or not meta.generation.mode.is_positive \
                or interaction.response.status_code != 422:
            continue
        for refusal in undocumented_refusal(op, interaction.request.uri, interaction.request.body):
            report.undocumented_refusals.append(f"{recorder.label}: {refusal}\n  {interaction.request.uri} "
                                                f"{(interaction.request.body or b'')[:300]!r}")


def run(app: Flask, headers: dict[str, str], *, examples: int, seed_value: int = 1, coverage: bool = True,
        methods: list[str] | None = None, progress: Any = None) -> FuzzReport:
    """One engine run over every operation of the app's document; `progress(report)` after each operation.

    An exception out of the app is reported by the engine and counted as a server error.
    """
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", app, config=config(headers, examples=examples, seed_value=seed_value,
                                                   coverage=coverage, methods=methods))
    report, ops, started = FuzzReport(), _models(app), time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            _record(report, ops, event)
            if progress is not None:
                progress(report)
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            error = event.value if isinstance(event, events.NonFatalError) else event.exception
            report.server_errors.append(f"{getattr(event, 'label', 'engine')}: {error!r}")
    report.seconds = time.monotonic() - started
    return report


def failures_text(lines: Iterable[str], limit: int = 20) -> str:
    items = list(lines)
    return "\n".join(items[:limit]) + (f"\n… and {len(items) - limit} more" if len(items) > limit else "")

