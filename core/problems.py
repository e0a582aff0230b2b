"""Errors as RFC 9457 problem details, with field-level messages.

Services raise these (they know nothing of HTTP beyond a status number); the
API turns them into `application/problem+json`.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException


class Problem(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, errors: list[dict[str, str]] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra


class InvalidInput(Problem):
    status = 422
    title = "Invalid input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", errors=[{"field": field, "message": message}])


class NotFound(Problem):
    status = 404
    title = "Not found"


class Forbidden(Problem):
    status = 403
    title = "Forbidden"


class Conflict(Problem):
    status = 409
    title = "Conflict"


def problem_response(status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None,
                     **extra: Any) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def wants_problem_json() -> bool:
    return request.path.startswith("/api/")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return problem_response(exc.status, exc.title, exc.detail, exc.errors, **exc.extra)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        """Routing and HTTP errors as problems; their headers stay (a 405's `Allow`, a 429's `Retry-After`)."""
        if not wants_problem_json():
            return exc
        response = problem_response(exc.code or 500, exc.name, exc.description or exc.name,
                                    getattr(exc, "errors", None))
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
