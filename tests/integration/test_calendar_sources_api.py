"""/api/v1/calendar-sources and `flask sync-calendars`: secrets write-only, sight per role, uploads, sync now."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import func, select, update

from calendars.models import CalendarSource
from core.config import Settings
from scheduler.models import BusyBlock
from tests import factories
from tests.conftest import with_settings
from tests.support.feed_server import FeedServer, Reply

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ics"
GOOGLE = (FIXTURES / "google.ics").read_text()  # an open weekly series: busy in any window
HTML = (FIXTURES / "not_ical.html").read_text()
API = "/api/v1/calendar-sources"


def one_event(start: datetime, uid: str = "u1@example.org") -> str:
    stamp = f"{start:%Y%m%dT%H%M%SZ}"
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:{stamp}\r\nDTSTART:{stamp}\r\nDURATION:PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The feed server listens on 127.0.0.1; uploads are capped at 1 MB here."""
    return with_settings(settings, calendar_allow_private_addresses=True, calendar_fetch_timeout=2, calendar_max_mb=1)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feed = FeedServer()
    feed.routes["/cal/s3cr3t-token.ics"] = Reply(body=GOOGLE.encode(), etag='"g1"')
    feed.start()
    yield feed
    feed.stop()


@pytest.fixture
def office(runtime: Any) -> dict[str, Any]:
    with runtime.db.write_session() as s:
        own, other = factories.mediator(s), factories.mediator(s)
        room = factories.location(s).rooms[0]
        _, coordinator = factories.staff(s, "coordinator")
        _, mediator = factories.staff(s, "mediator", own)
        return {"coordinator": coordinator, "mediator": mediator, "own": own.id, "other": other.id, "room": room.id}


def blocks(runtime: Any, source_id: int) -> list[tuple[int, datetime, datetime]]:
    with runtime.db.session() as s:
        rows = s.scalars(select(BusyBlock).where(BusyBlock.source_id == source_id).order_by(BusyBlock.id))
        return [(b.id, b.starts_at, b.ends_at) for b in rows]


def sources(runtime: Any) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(CalendarSource)) or 0


def test_urls_and_passwords_are_write_only(client: Any, office: dict[str, Any], server: FeedServer,
                                           runtime: Any) -> None:
    url = server.url("/cal/s3cr3t-token.ics")
    created = client.post(API, json={"owner": {"mediator_id": office["own"]}, "kind": "ics_url", "url": url,
                                     "label": "Outlook"}, headers=office["coordinator"])
    assert created.status_code == 201, created.get_json()
    data = created.get_json()
    assert created.headers["Location"].endswith(f"{API}/{data['id']}")
    assert data["owner"] == {"mediator_id": office["own"], "room_id": None}
    assert (data["kind"], data["label"], data["status"], data["url_hint"]) == \
        ("ics_url", "Outlook", "never_synced", "http://127.0.0.1/…")
    assert data["stale"] is True and data["busy_count"] == 0 and data["has_password"] is False
    dav = client.post(API, json={"owner": {"room_id": office["room"]}, "kind": "caldav", "url": url,
                                 "username": "kamer2", "password": "hunter2-geheim"}, headers=office["coordinator"])
    assert dav.status_code == 201 and dav.get_json()["username"] == "kamer2" and dav.get_json()["has_password"]
    texts = [created.get_data(as_text=True), dav.get_data(as_text=True),
             client.get(API, headers=office["coordinator"]).get_data(as_text=True),
             client.get(f"{API}/{data['id']}", headers=office["coordinator"]).get_data(as_text=True)]
    for text in texts:
        assert "s3cr3t" not in text and "hunter2" not in text and '"url"' not in text and '"password"' not in text
    with runtime.db.session() as s:
        row = s.get(CalendarSource, dav.get_json()["id"])
        assert "s3cr3t" not in row.url_sealed and "hunter2" not in row.password_sealed
    cleared = client.patch(f"{API}/{dav.get_json()['id']}", json={"password": None}, headers=office["coordinator"])
    assert cleared.get_json()["has_password"] is False


@pytest.mark.parametrize(("body", "field"), [
    ({"owner": {}, "kind": "ics_url", "url": "https://cal.example.org/a.ics"}, "owner"),
    ({"owner": {"mediator_id": 1, "room_id": 1}, "kind": "ics_url", "url": "https://cal.example.org/a.ics"}, "owner"),
    ({"owner": {"mediator_id": 99}, "kind": "ics_url", "url": "https://cal.example.org/a.ics"}, "owner.mediator_id"),
    ({"owner": {"mediator_id": 1}, "kind": "ics_url"}, "url"),
    ({"owner": {"mediator_id": 1}, "kind": "ics_url", "url": "ftp://cal.example.org/a.ics"}, "url"),
    ({"owner": {"mediator_id": 1}, "kind": "ics_url", "url": "https://a.example/x", "password": "p"}, "password"),
    ({"owner": {"mediator_id": 1}, "kind": "upload", "url": "https://cal.example.org/a.ics"}, "url"),
    ({"owner": {"mediator_id": 1}, "kind": "upload"}, "content"),
    ({"owner": {"mediator_id": 1}, "kind": "upload", "content": HTML}, "content"),
    ({"owner": {"mediator_id": 1}, "kind": "upload", "content": "BEGIN:VCALENDAR\r\n" + "X" * 1048576}, "content"),
    ({"owner": {"mediator_id": 1}, "kind": "upload", "content": one_event(datetime.now(timezone.utc)), "x": 1}, "x"),
])
def test_invalid_sources_are_422_naming_the_field_and_store_nothing(client: Any, office: dict[str, Any],
                                                                     runtime: Any, body: dict, field: str) -> None:
    response = client.post(API, json=body, headers=office["coordinator"])
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"][0]["field"] == field
    assert sources(runtime) == 0
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(BusyBlock)) == 0


PRIVATE_SPELLINGS = ["http://2130706433:{port}/cal/s3cr3t-token.ics", "http://0x7f000001:{port}/cal/s3cr3t-token.ics",
                     "http://127.1:{port}/cal/s3cr3t-token.ics", "webcal://0177.0.0.1:{port}/cal/s3cr3t-token.ics",
                     "http://[::ffff:7f00:1]:{port}/cal/s3cr3t-token.ics", "https://agenda.localhost/team.ics"]


def test_a_private_address_in_any_spelling_is_refused_when_added_or_changed(settings: Settings, office: dict[str, Any],
                                                                            server: FeedServer, runtime: Any) -> None:
    """Without CALENDAR_ALLOW_PRIVATE_ADDRESSES the feed server on 127.0.0.1 is out of reach, however written."""
    from app import create_app

    strict = create_app(with_settings(settings, calendar_allow_private_addresses=False))
    client, headers = strict.test_client(), office["coordinator"]
    try:
        for spelling in PRIVATE_SPELLINGS:
            url = spelling.format(port=server.port)
            for kind in ("ics_url", "caldav"):
                if kind == "caldav" and url.startswith("webcal"):
                    continue
                added = client.post(API, json={"owner": {"mediator_id": office["own"]}, "kind": kind, "url": url},
                                    headers=headers)
                assert added.status_code == 422, (url, added.get_json())
                assert added.get_json()["errors"] == [{"field": "url", "message": "address not allowed: the calendar "
                                                       "server is on a private or local network"}]
        assert sources(runtime) == 0
        created = client.post(API, json={"owner": {"mediator_id": office["own"]}, "kind": "ics_url",
                                         "url": "https://calendar.example.org/team.ics"}, headers=headers)
        assert created.status_code == 201, created.get_json()
        sid = created.get_json()["id"]
        changed = client.patch(f"{API}/{sid}", json={"url": f"http://127.1:{server.port}/cal/s3cr3t-token.ics"},
                               headers=headers)
        assert changed.status_code == 422 and changed.get_json()["errors"][0]["field"] == "url"
        assert client.get(f"{API}/{sid}", headers=headers).get_json()["url_hint"] == "https://calendar.example.org/…"
        assert server.requests == []
    finally:
        strict.extensions["pendel"].db.dispose()
    # With the setting on (an on-premise calendar server), the same addresses are welcome.
    allowed = create_app(with_settings(settings, calendar_allow_private_addresses=True))
    try:
        url = PRIVATE_SPELLINGS[0].format(port=server.port)
        added = allowed.test_client().post(API, json={"owner": {"mediator_id": office["own"]}, "kind": "ics_url",
                                                      "url": url}, headers=headers)
        assert added.status_code == 201, added.get_json()
    finally:
        allowed.extensions["pendel"].db.dispose()


def test_a_mediator_manages_only_their_own_sources(client: Any, office: dict[str, Any], runtime: Any) -> None:
    mine = {"kind": "upload", "content": GOOGLE}
    own = client.post(API, json={"owner": {"mediator_id": office["own"]}, **mine}, headers=office["mediator"])
    assert own.status_code == 201
    for owner in ({"mediator_id": office["other"]}, {"room_id": office["room"]}):
        assert client.post(API, json={"owner": owner, **mine}, headers=office["mediator"]).status_code == 403
    theirs = client.post(API, json={"owner": {"mediator_id": office["other"]}, **mine},
                         headers=office["coordinator"]).get_json()["id"]
    listed = client.get(API, headers=office["mediator"]).get_json()["calendar_sources"]
    assert [s["id"] for s in listed] == [own.get_json()["id"]]
    assert len(client.get(API, headers=office["coordinator"]).get_json()["calendar_sources"]) == 2
    for method, path, kw in (("get", "", {}), ("patch", "", {"json": {"label": "x"}}), ("delete", "", {}),
                             ("post", "/sync", {}), ("put", "/upload", {"json": {"content": GOOGLE}})):
        response = getattr(client, method)(f"{API}/{theirs}{path}", headers=office["mediator"], **kw)
        assert response.status_code == 404, (method, path)
    assert client.get(API).status_code == 401
    assert len(blocks(runtime, theirs)) > 0


def test_upload_replace_and_bad_upload_keeps_the_previous_file(client: Any, office: dict[str, Any],
                                                               runtime: Any) -> None:
    created = client.post(API, json={"owner": {"room_id": office["room"]}, "kind": "upload", "content": GOOGLE},
                          headers=office["coordinator"]).get_json()
    sid = created["id"]
    assert (created["status"], created["stale"], created["url_hint"]) == ("ok", False, None)
    assert created["busy_count"] == len(blocks(runtime, sid)) > 0
    start = (datetime.now(timezone.utc) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    replaced = client.put(f"{API}/{sid}/upload", json={"content": one_event(start)}, headers=office["coordinator"])
    assert replaced.status_code == 200 and replaced.get_json()["busy_count"] == 1
    good = blocks(runtime, sid)
    assert [(b[1], b[2]) for b in good] == [(start, start + timedelta(hours=1))]
    bad = client.put(f"{API}/{sid}/upload", json={"content": HTML}, headers=office["coordinator"])
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "content"
    assert blocks(runtime, sid) == good
    raw = client.put(f"{API}/{sid}/upload", data=one_event(start), content_type="text/calendar",
                     headers=office["coordinator"])
    assert raw.status_code == 415  # the file travels as JSON text (documented in OpenAPI)


def test_sync_now_stale_flag_and_a_failure_that_keeps_the_busy_time(client: Any, office: dict[str, Any],
                                                                    server: FeedServer, runtime: Any) -> None:
    body = {"owner": {"mediator_id": office["own"]}, "kind": "ics_url", "url": server.url("/cal/s3cr3t-token.ics")}
    sid = client.post(API, json=body, headers=office["mediator"]).get_json()["id"]
    assert [s["id"] for s in client.get(f"{API}?stale=true", headers=office["mediator"]).get_json()
            ["calendar_sources"]] == [sid]
    synced = client.post(f"{API}/{sid}/sync", headers=office["mediator"]).get_json()
    assert (synced["status"], synced["stale"], synced["last_error"]) == ("ok", False, None)
    assert synced["busy_count"] == len(blocks(runtime, sid)) > 0 and synced["last_synced_at"].endswith("Z")
    good = blocks(runtime, sid)
    server.routes["/cal/s3cr3t-token.ics"] = Reply(500, b"down", "text/plain")
    failed = client.post(f"{API}/{sid}/sync", headers=office["mediator"]).get_json()
    assert (failed["status"], failed["last_error"]) == ("error", "calendar server answered HTTP 500")
    assert (failed["busy_count"], failed["last_synced_at"], failed["stale"]) == \
        (synced["busy_count"], synced["last_synced_at"], False)
    assert blocks(runtime, sid) == good
    with runtime.db.write_session() as s:  # the last good sync was 25 hours ago
        s.execute(update(CalendarSource).values(last_synced_at=datetime.now(timezone.utc) - timedelta(hours=25)))
    assert client.get(f"{API}/{sid}", headers=office["mediator"]).get_json()["stale"] is True
    off = client.patch(f"{API}/{sid}", json={"active": False}, headers=office["mediator"]).get_json()
    assert (off["active"], off["busy_count"], off["stale"]) == (False, 0, False)
    assert blocks(runtime, sid) == []
    assert client.post(f"{API}/{sid}/sync", headers=office["mediator"]).status_code == 409


def test_patch_changes_only_what_is_sent_and_delete_takes_the_blocks(client: Any, office: dict[str, Any],
                                                                     server: FeedServer, runtime: Any) -> None:
    body = {"owner": {"mediator_id": office["own"]}, "kind": "ics_url", "url": server.url("/cal/s3cr3t-token.ics")}
    sid = client.post(API, json=body, headers=office["coordinator"]).get_json()["id"]
    before = client.post(f"{API}/{sid}/sync", headers=office["coordinator"]).get_json()
    renamed = client.patch(f"{API}/{sid}", json={"label": "Werk"}, headers=office["coordinator"]).get_json()
    assert renamed == {**before, "label": "Werk"}
    moved = client.patch(f"{API}/{sid}", json={"url": "webcal://calendar.example.org/private/abc.ics"},
                         headers=office["coordinator"]).get_json()
    assert moved["url_hint"] == "webcal://calendar.example.org/…" and moved["busy_count"] == before["busy_count"]
    with runtime.db.session() as s:
        row = s.get(CalendarSource, sid)
        assert (row.etag, row.content_hash, row.last_attempt_at) == (None, None, None)  # due for a full sync
    refused = client.patch(f"{API}/{sid}", json={"username": "x"}, headers=office["coordinator"])
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "username"
    assert client.delete(f"{API}/{sid}", headers=office["coordinator"]).status_code == 204
    assert client.get(f"{API}/{sid}", headers=office["coordinator"]).status_code == 404
    assert blocks(runtime, sid) == []


def test_cli_sync_prints_one_line_per_source_without_the_address(app: Any, client: Any, office: dict[str, Any],
                                                                  server: FeedServer) -> None:
    good = {"owner": {"mediator_id": office["own"]}, "kind": "ics_url", "url": server.url("/cal/s3cr3t-token.ics")}
    broken = {**good, "url": server.url("/cal/gone-token.ics")}
    ids = [client.post(API, json=b, headers=office["coordinator"]).get_json()["id"] for b in (good, broken)]
    result = app.test_cli_runner().invoke(args=["sync-calendars"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"source {ids[0]}: ok, ") and lines[0].endswith(" busy")
    assert lines[1] == f"source {ids[1]}: error, 0 busy (calendar server answered HTTP 404: calendar not found " \
                       "(the link may have changed))"
    assert "token" not in result.output and "127.0.0.1" not in result.output
    one = app.test_cli_runner().invoke(args=["sync-calendars", "--source", str(ids[0])])
    assert one.exit_code == 0 and one.output.startswith(f"source {ids[0]}: ok")
    missing = app.test_cli_runner().invoke(args=["sync-calendars", "--source", "999"])
    assert missing.exit_code != 0 and "no calendar source with id 999" in missing.output


def test_openapi_documents_the_resource(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths[API]) == {"get", "post"}
    assert set(paths[f"{API}/{{source_id}}"]) == {"get", "patch", "delete"}
    assert set(paths[f"{API}/{{source_id}}/sync"]) == {"post"}
    upload = paths[f"{API}/{{source_id}}/upload"]["put"]
    assert upload["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/CalendarUpload")
