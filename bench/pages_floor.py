"""The page benchmark's floor: a bare Flask app that runs ONE query fetching the rows a page shows
and renders them in a comparable template (a table per page), on the same database and gunicorn.

It has no sign-in, no session, no CSRF, no Babel: what is left of a page when
everything Pendel adds is taken away. `bench/pages.py` divides each page's
p95 by its floor's.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Flask, render_template_string, request
from sqlalchemy import text

from core.db import make_engine

TABLE = """<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="/static/core/pendel.css"></head><body><main><h1>{{ title }}</h1>
<table><thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for row in rows %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</tbody></table></main></body></html>"""

CASES = text("""SELECT c.id, c.reference, c.kind, c.status, c.created_at, r.name FROM cases c
LEFT JOIN case_regions cr ON cr.case_id = c.id LEFT JOIN regions r ON r.id = cr.region_id
ORDER BY c.created_at DESC, c.id DESC LIMIT 50""")
CASE = text("""SELECT a.id, a.kind, a.mode, a.start, a."end", a.status, p.name, p.role FROM appointments a
JOIN attendances t ON t.appointment_id = a.id JOIN participants p ON p.id = t.participant_id
WHERE a.case_id = :id ORDER BY a.start""")
WEEK = text("""SELECT r.starts_at, r.ends_at, a.kind, a.mode, c.reference FROM reservations r
JOIN appointments a ON a.id = r.appointment_id JOIN cases c ON c.id = a.case_id
WHERE r.mediator_id = :id AND r.live AND r.starts_at < :end AND r.ends_at > :start
UNION ALL SELECT b.starts_at, b.ends_at, 'busy', '', '' FROM busy_blocks b
WHERE b.mediator_id = :id AND b.starts_at < :end AND b.ends_at > :start ORDER BY 1""")
BUSY = text("""SELECT r.mediator_id, r.starts_at, r.ends_at FROM reservations r
WHERE r.mediator_id = ANY(:ids) AND r.live AND r.starts_at < :end AND r.ends_at > :start
UNION ALL SELECT b.mediator_id, b.starts_at, b.ends_at FROM busy_blocks b
WHERE b.mediator_id = ANY(:ids) AND b.starts_at < :end AND b.ends_at > :start ORDER BY 2""")
REGION = text("SELECT mediator_id FROM mediator_regions WHERE region_id = :id")


def create_app() -> Flask:
    app = Flask(__name__, static_folder=os.path.join(os.path.dirname(__file__), "..", "core", "static"),
                static_url_path="/static/core")
    engine = make_engine(os.environ["DATABASE_URL"])

    def page(title: str, columns: list[str], sql: Any, **params: Any) -> str:
        with engine.connect() as conn:
            rows = conn.execute(sql, params).all()
        return render_template_string(TABLE, title=title, columns=columns, rows=rows)

    def window() -> tuple[datetime, datetime]:
        start = datetime.fromisoformat(request.args["start"]).astimezone(timezone.utc)
        return start, start + timedelta(days=int(request.args.get("days", "7")))

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    @app.get("/floor/cases")
    def cases() -> str:
        return page("Dossiers", ["id", "kenmerk", "soort", "status", "aangemeld", "regio"], CASES)

    @app.get("/floor/cases/<int:case_id>")
    def case(case_id: int) -> str:
        return page("Dossier", ["id", "soort", "vorm", "begin", "eind", "status", "naam", "rol"], CASE, id=case_id)

    @app.get("/floor/mediators/<int:mediator_id>/week")
    def week(mediator_id: int) -> str:
        start, end = window()
        return page("Week", ["begin", "eind", "soort", "vorm", "dossier"], WEEK, id=mediator_id, start=start, end=end)

    @app.get("/floor/slots")
    def slots() -> str:
        start, end = window()
        if "region" in request.args:  # the any-mediator search's own rows: every mediator of the region
            with engine.connect() as conn:
                ids = list(conn.execute(REGION, {"id": int(request.args["region"])}).scalars())
        else:
            ids = [int(request.args["mediator"])]
        with engine.connect() as conn:  # all the rows the search needs; the page shows a handful, like a picker
            rows = conn.execute(BUSY, {"ids": ids, "start": start, "end": end}).all()
        return render_template_string(TABLE, title=f"Vrije tijden ({len(rows)} bezette tijden)",
                                      columns=["bemiddelaar", "begin", "eind"], rows=rows[:20])

    return app
