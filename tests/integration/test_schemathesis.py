"""Schemathesis over the whole JSON API (issue 11): no input gets a 5xx, every answer is as documented.

A bounded run on PostgreSQL with a coordinator's token: schemathesis reads
/api/v1/openapi.json and sends, for every operation, the document's examples,
its sweep of boundary and invalid values, and a few random requests, valid
and invalid. The larger run with more examples is `python bench/api_fuzz.py`.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.conftest import with_settings
from tests.support import api_fuzz

EXAMPLES = 2  # random examples per operation and mode; the coverage sweep comes on top


@pytest.fixture
def fuzz_app(settings: Any) -> Iterator[Any]:
    """The app with a short calendar fetch timeout: "sync now" on a generated address fails fast."""
    from app import create_app

    app = create_app(with_settings(settings, calendar_fetch_timeout=1))
    yield app
    app.extensions["pendel"].db.dispose()


def test_no_server_error_and_every_answer_as_documented(fuzz_app: Any) -> None:
    runtime = fuzz_app.extensions["pendel"]
    with runtime.db.write_session() as session:
        headers = api_fuzz.seed(session, runtime.settings, runtime.workdays)
    report = api_fuzz.run(fuzz_app, headers, examples=EXAMPLES, methods=["TRACE"])
    print(report.summary())
    paths = fuzz_app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    documented = {f"{method.upper()} {path}" for path, item in paths.items() for method in item}
    assert documented - report.operations == {"GET /api/v1/openapi.json"}  # schemathesis leaves its source out
    assert report.examples > 20 * len(report.operations)
    assert not report.server_errors, api_fuzz.failures_text(report.server_errors)
    assert not report.conformance_failures, api_fuzz.failures_text(report.conformance_failures)
    assert not report.undocumented_refusals, api_fuzz.failures_text(report.undocumented_refusals)
