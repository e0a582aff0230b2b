"""The larger schemathesis run over the JSON API (issue 11, "No server error from any input").

    python bench/api_fuzz.py [--examples 100] [--seed 1] [--no-coverage]     # or: make bench-api

Creates `pendel_bench_api_<pid>` on PostgreSQL (admin URL from
BENCH_DATABASE_URL, default the local server's `test` database, used only to
CREATE/DROP), migrates it, loads the demo data and a coordinator with a token,
and runs schemathesis' engine over every operation of /api/v1/openapi.json
through the app in process (tests/support/api_fuzz.py, the same driver as
tests/integration/test_schemathesis.py, with more examples): the document's
examples, the coverage sweep (boundary values, wrong types, undeclared
methods) and `--examples` random requests per operation and mode (valid and
invalid). Prints operations, examples, answers by status, and the failures:
server errors, conformance failures (status, content type, headers or body
not as documented) and requests the document calls valid that the server
refused for a reason the document should have stated. Exits 1 on any. The
database is dropped at the end, also on failure.
"""
from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from core.config import Settings  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from tests.support import api_fuzz  # noqa: E402

ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _progress(report: api_fuzz.FuzzReport) -> None:
    print(f"\r{len(report.operations)} operations, {report.examples} examples, "
          f"{len(report.failures)} failures", end="", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="random examples per operation and mode")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-coverage", action="store_true", help="skip the coverage sweep")
    args = parser.parse_args()
    name = f"pendel_bench_api_{os.getpid()}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn, ExitStack() as stack:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        stack.callback(conn.execute, text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        settings = Settings(environment="testing", database_url=url, secret_key="bench-api-fuzz",
                            twilio_auth_token="bench", public_base_url="https://pendel.test",
                            office_phone="030 123 4567", calendar_fetch_timeout=1)
        from app import create_app

        app = create_app(settings)
        runtime = app.extensions["pendel"]
        stack.callback(runtime.db.dispose)
        upgrade(runtime.db.engine)
        with runtime.db.write_session() as session:
            headers = api_fuzz.seed(session, settings, runtime.workdays)
        print(f"schemathesis over /api/v1/openapi.json: {args.examples} random examples per operation and mode, "
              f"seed {args.seed}, coverage sweep {'off' if args.no_coverage else 'on'}")
        report = api_fuzz.run(app, headers, examples=args.examples, seed_value=args.seed,
                              coverage=not args.no_coverage, progress=_progress)
        print(file=sys.stderr)
        print(report.summary())
        for title, items in (("server errors", report.server_errors),
                             ("conformance failures", report.conformance_failures),
                             ("undocumented refusals", report.undocumented_refusals)):
            if items:
                print(f"\n{title}:\n{api_fuzz.failures_text(items, 50)}")
        return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
