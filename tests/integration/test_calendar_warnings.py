"""Failing and stale calendar sources are flagged to staff on the overview."""
from __future__ import annotations

from datetime import timedelta

from calendars.models import CalendarSource
from core.auth import create_user
from core.db import utcnow
from tests import factories as f


def _sign_in(client, email: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"email": email, "password": "a long enough password"})
    assert response.status_code == 302


def test_overview_flags_failing_and_stale_sources_in_sight(client, database):
    with database.write_session() as s:
        mine = f.mediator(s)
        other = f.mediator(s)
        user = create_user(s, "m@example.org", "M", "mediator", "a long enough password")
        mine.user_id = user.id
        create_user(s, "c@example.org", "C", "coordinator", "a long enough password")
        now = utcnow()
        s.add_all([
            CalendarSource(mediator_id=mine.id, kind="ics_url", label="Outlook werk", status="error",
                           last_error="calendar server answered HTTP 500", last_synced_at=now - timedelta(hours=1)),
            CalendarSource(mediator_id=mine.id, kind="ics_url", label="Privé", status="ok",
                           last_synced_at=now - timedelta(days=3)),
            CalendarSource(mediator_id=mine.id, kind="ics_url", label="Gezond", status="ok", last_synced_at=now),
            CalendarSource(mediator_id=other.id, kind="ics_url", label="Van een ander", status="error",
                           last_error="timed out"),
        ])
    _sign_in(client, "m@example.org")
    page = client.get("/").get_data(as_text=True)
    assert "Outlook werk" in page and "HTTP 500" in page
    assert "Privé" in page and "verouderd" in page
    assert "Gezond" not in page
    assert "Van een ander" not in page  # another mediator's calendar is not in this mediator's sight
    client.post("/logout")
    _sign_in(client, "c@example.org")
    page = client.get("/").get_data(as_text=True)
    assert "Van een ander" in page and "nooit gelukt" in page
