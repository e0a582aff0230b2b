"""The calendars page: add an address, a CalDAV calendar or a file; sync now; remove; the feed link; who may."""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job
from sqlalchemy import func, select, update

from calendars.models import CalendarSource
from scheduler.models import BusyBlock
from tests import factories
from tests.integration.test_calendar_sources_api import server, settings  # noqa: F401 - the same fixtures
from tests.support.feed_server import FeedServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ics"
GOOGLE = (FIXTURES / "google.ics").read_bytes()  # an open weekly series: busy in any window
HTML = (FIXTURES / "not_ical.html").read_bytes()
PASSWORD = "correct horse battery"
FEED_URL = re.compile(r'id="feed-url"[^>]*value="([^"]+)"')


@pytest.fixture
def office(runtime: Any) -> dict[str, Any]:
    with runtime.db.write_session() as s:
        own, other = factories.mediator(s, name="Eigen Mediator"), factories.mediator(s, name="Andere Mediator")
        room = factories.location(s).rooms[0]
        coordinator, _ = factories.staff(s, "coordinator")
        mediator, _ = factories.staff(s, "mediator", own)
        return {"coordinator": coordinator.email, "mediator": mediator.email, "own": own.id, "other": other.id,
                "room": room.id}


def _login(client: Any, email: str) -> None:
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302


def _sources(runtime: Any) -> list[CalendarSource]:
    with runtime.db.session() as s:
        return list(s.scalars(select(CalendarSource).order_by(CalendarSource.id)))


def _blocks(runtime: Any, source_id: int) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(BusyBlock).where(BusyBlock.source_id == source_id)) or 0


def _upload(client: Any, path: str, content: bytes, name: str = "agenda.ics", label: str = "") -> Any:
    return client.post(path, data={"upload-label": label, "upload-all_day_busy": "y",
                                   "upload-file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def test_the_office_sees_every_mediator_and_room(client: Any, office: dict[str, Any]) -> None:
    _login(client, office["coordinator"])
    page = client.get("/calendars")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Eigen Mediator" in html and "Andere Mediator" in html and "Room " in html
    assert f'href="/calendars/mediators/{office["other"]}"' in html and f'href="/calendars/rooms/{office["room"]}"' in html
    assert 'href="/calendars" aria-current="page"' in html  # the menu entry
    assert client.get(f"/calendars/rooms/{office['room']}").status_code == 200


def test_an_ics_address_is_stored_sealed_queued_and_read(client: Any, office: dict[str, Any], runtime: Any,
                                                         server: FeedServer) -> None:
    _login(client, office["coordinator"])
    url = server.url("/cal/s3cr3t-token.ics")
    added = client.post(f"/calendars/mediators/{office['own']}/ics",
                        data={"ics-label": "Outlook", "ics-url": url, "ics-all_day_busy": "y"})
    assert added.status_code == 302 and added.headers["Location"] == f"/calendars/mediators/{office['own']}"
    [source] = _sources(runtime)
    assert (source.kind, source.label, source.mediator_id, source.url_hint) == \
        ("ics_url", "Outlook", office["own"], "http://127.0.0.1/…")
    assert "s3cr3t" not in (source.url_sealed or "")
    # The sync job is on the queue; a worker runs it.
    queue = Queue("default", connection=runtime.redis)
    assert [job.args for job in queue.jobs] == [(source.id,)]
    SimpleWorker([queue], connection=runtime.redis).work(burst=True)
    assert _blocks(runtime, source.id) > 0
    html = client.get(f"/calendars/mediators/{office['own']}").get_data(as_text=True)
    assert "Outlook" in html and "bijgewerkt" in html and "s3cr3t" not in html and str(server.port) not in html


def test_a_caldav_calendar_keeps_its_password_sealed(client: Any, office: dict[str, Any], runtime: Any,
                                                     server: FeedServer) -> None:
    _login(client, office["coordinator"])
    added = client.post(f"/calendars/rooms/{office['room']}/caldav",
                        data={"caldav-url": server.url("/dav/kamer/"), "caldav-username": "kamer2",
                              "caldav-password": "hunter2-geheim", "caldav-all_day_busy": "y"})
    assert added.status_code == 302
    [source] = _sources(runtime)
    assert (source.kind, source.room_id, source.username) == ("caldav", office["room"], "kamer2")
    assert source.password_sealed and "hunter2" not in source.password_sealed
    html = client.get(f"/calendars/rooms/{office['room']}").get_data(as_text=True)
    assert "kamer2" in html and "hunter2" not in html


def test_an_uploaded_file_becomes_busy_time(client: Any, office: dict[str, Any], runtime: Any) -> None:
    _login(client, office["coordinator"])
    added = _upload(client, f"/calendars/mediators/{office['own']}/upload", GOOGLE, "google.ics")
    assert added.status_code == 302
    [source] = _sources(runtime)
    assert (source.kind, source.label, source.status) == ("upload", "google.ics", "ok")
    count = _blocks(runtime, source.id)
    assert count > 0 and source.busy_count == count
    with runtime.db.session() as s:
        owners = set(s.scalars(select(BusyBlock.mediator_id).where(BusyBlock.source_id == source.id)))
    assert owners == {office["own"]}
    html = client.get(f"/calendars/mediators/{office['own']}").get_data(as_text=True)
    assert f"{count} bezette perioden" in html and "bijgewerkt" in html


@pytest.mark.parametrize(("content", "says"), [
    (HTML, "Dit is geen bruikbaar agendabestand"),
    (b"   ", "Het bestand is leeg."),
    (b"x" * (1048576 + 10), "De agenda is groter dan 1 MB."),
])
def test_a_bad_file_is_refused_next_to_the_field_and_nothing_is_stored(client: Any, office: dict[str, Any],
                                                                       runtime: Any, content: bytes, says: str) -> None:
    _login(client, office["coordinator"])
    refused = _upload(client, f"/calendars/mediators/{office['own']}/upload", content)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert re.search(r'<p class="field-error" id="upload-file-error">[^<]*' + re.escape(says), html), html
    assert _sources(runtime) == []


def test_a_file_over_the_request_limit_is_refused_before_it_is_read(client: Any, office: dict[str, Any],
                                                                    runtime: Any) -> None:
    _login(client, office["coordinator"])
    refused = _upload(client, f"/calendars/mediators/{office['own']}/upload", b"x" * (2 * 1048576))
    assert refused.status_code == 303
    assert "groter dan 1 MB" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert _sources(runtime) == []


def test_an_invalid_address_or_missing_token_stores_nothing(client: Any, office: dict[str, Any],
                                                            runtime: Any) -> None:
    _login(client, office["coordinator"])
    path = f"/calendars/mediators/{office['own']}/ics"
    bad = client.post(path, data={"ics-url": "ftp://example.org/agenda.ics"})
    assert bad.status_code == 400
    assert 'id="ics-url-error"' in bad.get_data(as_text=True)
    assert "Alleen adressen die beginnen met" in bad.get_data(as_text=True)
    empty = client.post(path, data={"ics-url": ""})
    assert empty.status_code == 400 and 'id="ics-url-error"' in empty.get_data(as_text=True)
    assert client.raw_post(path, data={"ics-url": "https://example.org/a.ics"}).status_code == 400
    assert _sources(runtime) == []


def test_a_failing_calendar_says_why_in_words(client: Any, office: dict[str, Any], runtime: Any) -> None:
    _login(client, office["coordinator"])
    _upload(client, f"/calendars/mediators/{office['own']}/upload", GOOGLE)
    with runtime.db.write_session() as s:
        s.execute(update(CalendarSource).values(status="error", last_synced_at=None,
                                                last_error="calendar server answered HTTP 404: calendar not found "
                                                           "(the link may have changed)"))
    html = client.get("/calendars").get_data(as_text=True)
    assert "De agenda staat niet (meer) op dit adres" in html and "verouderd" in html


def test_sync_now_queues_the_job(client: Any, office: dict[str, Any], runtime: Any, server: FeedServer,
                                 real_redis: Any) -> None:
    _login(client, office["coordinator"])
    client.post(f"/calendars/mediators/{office['own']}/ics", data={"ics-url": server.url("/cal/s3cr3t-token.ics")})
    [source] = _sources(runtime)
    runtime.redis = real_redis
    queue = Queue("default", connection=real_redis)
    before = set(queue.get_job_ids())
    try:
        synced = client.post(f"/calendars/sources/{source.id}/sync")
        assert synced.status_code == 302
        new = [Job.fetch(j, connection=real_redis) for j in set(queue.get_job_ids()) - before]
        assert [(j.func_name, j.args) for j in new] == [("calendars.jobs.sync_source_job", (source.id,))]
        assert "Synchronisatie ingepland" in client.get(synced.headers["Location"]).get_data(as_text=True)
    finally:
        for job_id in set(queue.get_job_ids()) - before:
            Job.fetch(job_id, connection=real_redis).delete(remove_from_queue=True)


def test_remove_asks_first_and_takes_the_busy_time_along(client: Any, office: dict[str, Any], runtime: Any) -> None:
    _login(client, office["coordinator"])
    _upload(client, f"/calendars/mediators/{office['own']}/upload", GOOGLE, label="Thuis")
    [source] = _sources(runtime)
    ask = client.get(f"/calendars/sources/{source.id}/remove")
    assert ask.status_code == 200 and "Thuis" in ask.get_data(as_text=True)
    assert _sources(runtime) != []  # asking removes nothing
    gone = client.post(f"/calendars/sources/{source.id}/remove")
    assert gone.status_code == 302
    assert _sources(runtime) == [] and _blocks(runtime, source.id) == 0


def test_rotate_gives_a_new_link_and_stops_the_old_one_and_revoke_stops_it(client: Any, office: dict[str, Any]) -> None:
    _login(client, office["coordinator"])
    path = f"/calendars/mediators/{office['own']}/feed"
    first = client.post(path)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    old = FEED_URL.search(first.get_data(as_text=True)).group(1)
    assert old.startswith("https://pendel.test/calendars/feeds/") and 'data-copy="#feed-url"' in first.get_data(as_text=True)
    old_path = old.removeprefix("https://pendel.test")
    assert client.get(old_path).status_code == 200
    second = client.post(path)
    new_path = FEED_URL.search(second.get_data(as_text=True)).group(1).removeprefix("https://pendel.test")
    assert new_path != old_path
    assert client.get(old_path).status_code == 404 and client.get(new_path).status_code == 200
    page = client.get(f"/calendars/mediators/{office['own']}").get_data(as_text=True)
    assert new_path not in page and "actief sinds" in page.lower()  # shown once only
    assert client.post(f"{path}/revoke").status_code == 302
    assert client.get(new_path).status_code == 404


def test_a_mediator_manages_only_their_own(client: Any, office: dict[str, Any], runtime: Any) -> None:
    _login(client, office["coordinator"])
    _upload(client, f"/calendars/mediators/{office['other']}/upload", GOOGLE, label="Van een ander")
    [theirs] = _sources(runtime)
    client.post("/logout")
    _login(client, office["mediator"])
    own = client.get("/calendars")
    assert own.status_code == 200
    html = own.get_data(as_text=True)
    assert "Mijn agenda" in html and "Van een ander" not in html and "Andere Mediator" not in html
    other = office["other"]
    assert client.get(f"/calendars/mediators/{other}").status_code == 403
    assert client.get(f"/calendars/rooms/{office['room']}").status_code == 403
    assert _upload(client, f"/calendars/mediators/{other}/upload", GOOGLE).status_code == 403
    assert client.post(f"/calendars/mediators/{other}/ics", data={"ics-url": "https://example.org/a.ics"}).status_code == 403
    assert client.post(f"/calendars/rooms/{office['room']}/ics",
                       data={"ics-url": "https://example.org/a.ics"}).status_code == 403
    assert client.post(f"/calendars/sources/{theirs.id}/sync").status_code == 404
    assert client.get(f"/calendars/sources/{theirs.id}/remove").status_code == 404
    assert client.post(f"/calendars/sources/{theirs.id}/remove").status_code == 404
    assert client.post(f"/calendars/mediators/{other}/feed").status_code == 403
    assert client.post(f"/calendars/mediators/{other}/feed/revoke").status_code == 403
    assert [s.id for s in _sources(runtime)] == [theirs.id]
    # ...and their own works.
    assert _upload(client, f"/calendars/mediators/{office['own']}/upload", GOOGLE).status_code == 302
    assert client.post(f"/calendars/mediators/{office['own']}/feed").status_code == 200


def test_a_new_address_says_not_read_yet_until_its_first_sync(client: Any, office: dict[str, Any],
                                                              server: FeedServer) -> None:
    _login(client, office["coordinator"])
    client.post(f"/calendars/mediators/{office['own']}/ics", data={"ics-url": server.url("/cal/s3cr3t-token.ics")})
    html = client.get(f"/calendars/mediators/{office['own']}").get_data(as_text=True)
    assert "nog niet ingelezen" in html and "verouderd" not in html and "http://127.0.0.1/…" in html
