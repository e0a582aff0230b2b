"""Failing and stale calendar sources are flagged to staff on the overview, in one language."""
from __future__ import annotations

from datetime import timedelta

from calendars.models import CalendarSource
from core.auth import create_user
from core.db import utcnow
from tests import factories as f


def _sign_in(client, email: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"email": email, "password": "a long enough password"})
    assert response.status_code == 302


def _section(page: str) -> str:
    start = page.index('aria-labelledby="calendar-warnings-title"')
    return page[start:page.index("</section>", start)]


def test_overview_flags_failing_and_stale_sources_in_sight(client, database):
    with database.write_session() as s:
        mine = f.mediator(s, name="Anouk de Vries")
        other = f.mediator(s, name="Bram Bakker")
        room = f.location(s).rooms[0]
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
            CalendarSource(room_id=room.id, kind="ics_url", label="", status="error", last_error="timed out"),
        ])
        room_name = room.name
    _sign_in(client, "m@example.org")
    page = _section(client.get("/", follow_redirects=True).get_data(as_text=True))
    assert "Outlook werk" in page and "(Anouk de Vries): kon niet worden gelezen (<code>calendar" in page
    assert "Privé" in page and "verouderd" in page and "laatst goed bijgewerkt" in page
    assert "2 problemen" in page
    assert "Gezond" not in page
    assert "Van een ander" not in page and room_name not in page  # not in this mediator's sight
    client.post("/logout")
    _sign_in(client, "c@example.org")
    page = _section(client.get("/", follow_redirects=True).get_data(as_text=True))
    assert "Van een ander" in page and "(Bram Bakker)" in page and "nog nooit gelukt" in page
    assert f"(ruimte {room_name})" in page and "agenda " in page  # an unnamed source by its number
    client.post("/language", data={"language": "en", "next": "/"})
    page = _section(client.get("/", follow_redirects=True).get_data(as_text=True))
    assert "could not be read" in page and "out of date" in page and "never synced" in page
    assert f"(room {room_name})" in page and "Calendars" in page and "4 problems" in page
    assert not any(word in page for word in ("verouderd", "gelezen", "Agenda", "ruimte", "nooit"))
