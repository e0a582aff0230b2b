"""calendars.sync against a real feed server on loopback and real PostgreSQL (invariant 2 in docs/architecture.md).

What each test observes is the database: the source row and its busy blocks.
"Nothing written" is shown by the blocks keeping their row ids — a sync that
replaced them, even with equal times, would have deleted and re-inserted them.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import pytest
from rq import Queue
from sqlalchemy import select, text

from calendars.ics_import import parse_busy
from calendars.models import CalendarSource
from calendars.sources import create_source, delete_source
from calendars.sync import SECRET_UNREADABLE, sync_due, sync_source, sync_window
from core.config import Settings
from core.db import Database
from scheduler.models import BusyBlock
from tests import factories
from tests.conftest import with_settings
from tests.support.feed_server import FeedServer, Reply

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ics"
GOOGLE = (FIXTURES / "google.ics").read_bytes()
NEXTCLOUD = (FIXTURES / "nextcloud.ics").read_bytes()
HTML = (FIXTURES / "not_ical.html").read_bytes()
NOW = datetime(2026, 3, 9, 10, 0, tzinfo=timezone.utc)
AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feed = FeedServer()
    feed.start()
    yield feed
    feed.stop()


@pytest.fixture
def cal(settings: Settings) -> Settings:
    """The feed server is on 127.0.0.1: private addresses allowed. Our own UIDs end in "@pendel"."""
    return with_settings(settings, calendar_allow_private_addresses=True, calendar_fetch_timeout=1,
                         public_base_url="https://pendel")


def add_source(db: Database, cal: Settings, **values: Any) -> int:
    with db.write_session() as s:
        owner = {"mediator_id": factories.mediator(s).id}
        return create_source(s, None, {"owner": owner, "kind": "ics_url", **values}, NOW, cal).id


def source(db: Database, source_id: int) -> CalendarSource:
    with db.session() as s:
        row = s.get(CalendarSource, source_id)
        assert row is not None
        return row


def blocks(db: Database, source_id: int) -> list[tuple[int, datetime, datetime, str]]:
    with db.session() as s:
        rows = s.scalars(select(BusyBlock).where(BusyBlock.source_id == source_id).order_by(BusyBlock.id))
        return [(b.id, b.starts_at, b.ends_at, b.uid) for b in rows]


def expected(data: bytes, cal: Settings, now: datetime = NOW) -> set[tuple[datetime, datetime, str]]:
    result = parse_busy(data, *sync_window(now, cal), default_tz=AMS, all_day_busy=True, ignore_uid_suffix="@pendel")
    return {(i.start, i.end, i.uid) for i in result.intervals}


def times(rows: list[tuple[int, datetime, datetime, str]]) -> set[tuple[datetime, datetime, str]]:
    return {(start, end, uid) for _, start, end, uid in rows}


def test_first_sync_imports_and_an_etag_304_writes_nothing(database: Database, cal: Settings,
                                                            server: FeedServer) -> None:
    server.routes["/feed.ics"] = Reply(body=GOOGLE, etag='"g1"')
    sid = add_source(database, cal, url=server.url("/feed.ics"))
    first = sync_source(database, sid, NOW, cal)
    assert (first.status, first.changed) == ("ok", True)
    before = blocks(database, sid)
    assert times(before) == expected(GOOGLE, cal) and first.busy_count == len(before) > 5
    row = source(database, sid)
    assert (row.status, row.etag, row.last_synced_at, row.busy_count) == ("ok", '"g1"', NOW, len(before))

    later = NOW + timedelta(minutes=20)
    second = sync_source(database, sid, later, cal)
    assert (second.status, second.changed) == ("ok", False)
    assert server.requests[-1][1]["if-none-match"] == '"g1"'
    assert blocks(database, sid) == before
    row = source(database, sid)
    assert (row.last_synced_at, row.last_attempt_at, row.etag) == (later, later, '"g1"')


def test_an_unchanged_200_is_not_parsed_and_writes_nothing(database: Database, cal: Settings,
                                                           server: FeedServer) -> None:
    server.routes["/feed.ics"] = Reply(body=GOOGLE)  # no validators: every fetch is a full 200
    sid = add_source(database, cal, url=server.url("/feed.ics"))
    sync_source(database, sid, NOW, cal)
    before, digest = blocks(database, sid), source(database, sid).content_hash
    outcome = sync_source(database, sid, NOW + timedelta(hours=2), cal)
    assert (outcome.status, outcome.changed, outcome.busy_count) == ("ok", False, len(before))
    assert "if-none-match" not in server.requests[-1][1] and len(server.requests) == 2
    assert blocks(database, sid) == before
    row = source(database, sid)
    assert (row.content_hash, row.last_synced_at) == (digest, NOW + timedelta(hours=2))


def test_a_changed_feed_replaces_the_blocks_and_our_own_events_are_left_out(database: Database, cal: Settings,
                                                                            server: FeedServer) -> None:
    server.routes["/feed.ics"] = Reply(body=GOOGLE, etag='"g1"')
    sid = add_source(database, cal, url=server.url("/feed.ics"))
    sync_source(database, sid, NOW, cal)
    old_ids = {row[0] for row in blocks(database, sid)}
    server.routes["/feed.ics"] = Reply(body=NEXTCLOUD, etag='"n1"')
    outcome = sync_source(database, sid, NOW + timedelta(minutes=20), cal)
    assert (outcome.status, outcome.changed) == ("ok", True)
    now_rows = blocks(database, sid)
    assert times(now_rows) == expected(NEXTCLOUD, cal)
    assert not old_ids & {row[0] for row in now_rows}
    assert "appt-7f3e9c2a41@pendel" not in {row[3] for row in now_rows}  # Pendel's own, coming back
    assert source(database, sid).etag == '"n1"'


@pytest.mark.parametrize(("reply", "says"), [
    (Reply(500, b"Internal Server Error", "text/plain"), "calendar server answered HTTP 500"),
    (Reply(body=HTML, content_type="text/html"), "not iCalendar (content type text/html)"),
    (Reply(body=GOOGLE.replace(b"END:VCALENDAR", b"X-PAD:" + b"x" * 1048576 + b"\r\n")), "larger than 1 MB"),
    (Reply(body=GOOGLE[: len(GOOGLE) // 2]), "truncated iCalendar: no END:VCALENDAR at the end"),
    (Reply(body=GOOGLE, delay=3), "calendar server did not answer within 1 s"),
])
def test_a_failing_feed_keeps_the_last_good_blocks(database: Database, cal: Settings, server: FeedServer,
                                                   reply: Reply, says: str) -> None:
    cal = with_settings(cal, calendar_max_mb=1)
    server.routes["/feed.ics?token=geheim"] = Reply(body=GOOGLE, etag='"g1"')
    sid = add_source(database, cal, url=server.url("/feed.ics?token=geheim"))
    sync_source(database, sid, NOW, cal)
    good = blocks(database, sid)
    server.routes["/feed.ics?token=geheim"] = reply
    later = NOW + timedelta(minutes=30)
    outcome = sync_source(database, sid, later, cal)
    assert (outcome.status, outcome.changed, outcome.busy_count) == ("error", False, len(good))
    assert outcome.error is not None and says in outcome.error
    row = source(database, sid)
    assert (row.status, row.last_synced_at, row.last_attempt_at, row.etag) == ("error", NOW, later, '"g1"')
    assert says in (row.last_error or "") and "geheim" not in row.last_error and "127.0.0.1" not in row.last_error
    assert blocks(database, sid) == good

    server.routes["/feed.ics?token=geheim"] = Reply(body=NEXTCLOUD)  # the feed recovers
    assert sync_source(database, sid, later + timedelta(minutes=15), cal).status == "ok"
    assert (source(database, sid).status, source(database, sid).last_error) == ("ok", None)
    assert times(blocks(database, sid)) == expected(NEXTCLOUD, cal)


def test_a_loopback_feed_is_refused_without_the_setting(database: Database, cal: Settings,
                                                        server: FeedServer) -> None:
    server.routes["/feed.ics"] = Reply(body=GOOGLE)
    sid = add_source(database, cal, url=server.url("/feed.ics"))
    outcome = sync_source(database, sid, NOW, with_settings(cal, calendar_allow_private_addresses=False))
    assert outcome.error == "address not allowed: the calendar server is on a private or local network"
    assert server.requests == []
    assert (source(database, sid).status, blocks(database, sid)) == ("error", [])


def test_the_first_sync_of_a_day_refetches_and_reparses_for_the_moved_window(database: Database, cal: Settings,
                                                                             server: FeedServer) -> None:
    server.routes["/feed.ics"] = Reply(body=GOOGLE, etag='"g1"')
    sid = add_source(database, cal, url=server.url("/feed.ics"))
    sync_source(database, sid, NOW, cal)
    first = blocks(database, sid)
    thursday = NOW + timedelta(days=3)  # Thursday: the weekly Thursday series gains an occurrence at the far end
    outcome = sync_source(database, sid, thursday, cal)
    assert (outcome.status, outcome.changed) == ("ok", True)
    assert "if-none-match" not in server.requests[-1][1]
    assert times(blocks(database, sid)) == expected(GOOGLE, cal, thursday) != times(first)
    sync_source(database, sid, thursday + timedelta(minutes=15), cal)
    assert server.requests[-1][1]["if-none-match"] == '"g1"'  # the rest of the day: conditional again


def test_an_unreadable_secret_is_an_error_and_keeps_the_blocks(database: Database, cal: Settings,
                                                               server: FeedServer) -> None:
    server.routes["/feed.ics"] = Reply(body=GOOGLE)
    sid = add_source(database, cal, url=server.url("/feed.ics"))
    sync_source(database, sid, NOW, cal)
    good = blocks(database, sid)
    outcome = sync_source(database, sid, NOW + timedelta(hours=1), with_settings(cal, secret_key="rotated"))
    assert (outcome.status, outcome.error) == ("error", SECRET_UNREADABLE)
    assert blocks(database, sid) == good


def test_an_upload_is_reparsed_only_when_its_day_changes_and_an_inactive_source_is_skipped(
        database: Database, cal: Settings) -> None:
    sid = add_source(database, cal, kind="upload", content=GOOGLE.decode())
    first = blocks(database, sid)
    assert times(first) == expected(GOOGLE, cal) and source(database, sid).status == "ok"
    assert sync_source(database, sid, NOW + timedelta(hours=1), cal).changed is False
    assert blocks(database, sid) == first
    assert sync_source(database, sid, NOW + timedelta(days=3), cal).changed is True
    with database.write_session() as s:
        s.execute(text("UPDATE calendar_sources SET active = false"))
    assert sync_source(database, sid, NOW + timedelta(days=4), cal).status == "skipped"


def test_a_caldav_source_on_a_private_address_is_refused_before_the_adapter_runs(database: Database,
                                                                                 cal: Settings) -> None:
    sid = add_source(database, cal, kind="caldav", url="http://127.0.0.1:1/dav/kamer/", username="k",
                     password="geheim")
    outcome = sync_source(database, sid, NOW, with_settings(cal, calendar_allow_private_addresses=False))
    assert outcome.error == "address not allowed: the calendar server is on a private or local network"


def test_a_source_deleted_during_the_fetch_gets_no_blocks(database: Database, cal: Settings,
                                                          server: FeedServer) -> None:
    server.routes["/feed.ics"] = Reply(body=GOOGLE, delay=0.5)
    sid = add_source(database, cal, url=server.url("/feed.ics"))
    outcomes: list[Any] = []
    worker = threading.Thread(target=lambda: outcomes.append(sync_source(database, sid, NOW, cal)))
    worker.start()
    while not server.requests:
        threading.Event().wait(0.01)
    with database.write_session() as s:
        delete_source(s, None, sid)
    worker.join(5)
    assert outcomes[0].status == "superseded"
    assert blocks(database, sid) == []


def test_sync_due_claims_each_source_once_per_interval(database: Database, cal: Settings,
                                                       server: FeedServer) -> None:
    server.routes["/a.ics"] = Reply(body=GOOGLE, etag='"a"')
    server.routes["/b.ics"] = Reply(body=NEXTCLOUD)
    a = add_source(database, cal, url=server.url("/a.ics"))
    b = add_source(database, cal, url=server.url("/b.ics"))
    add_source(database, cal, url=server.url("/c.ics"), active=False)
    assert sorted((o.source_id, o.status) for o in sync_due(database, NOW, cal)) == [(a, "ok"), (b, "ok")]
    assert sync_due(database, NOW + timedelta(minutes=14), cal) == []
    assert {o.source_id for o in sync_due(database, NOW + timedelta(minutes=15), cal)} == {a, b}
    assert len(server.requests) == 4


def test_the_periodic_tick_enqueues_jobs_that_a_worker_runs(database: Database, cal: Settings,
                                                            server: FeedServer) -> None:
    import fakeredis

    from core.jobcontext import job_runtime_as
    from core.queue import ThreadWorker
    from core.runtime import build_runtime
    from calendars.periodic import CALENDAR_LOCK, ENQUEUE_SYNCS
    from core.periodic import run_task

    server.routes["/feed.ics"] = Reply(body=GOOGLE)
    sid = add_source(database, cal, url=server.url("/feed.ics"))
    conn = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    queue = Queue("default", connection=conn)
    with database.write_session() as other:  # another process is in the middle of this tick
        assert other.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": CALENDAR_LOCK}).scalar()
        assert run_task(ENQUEUE_SYNCS, database, NOW, cal, queue) is None
    assert run_task(ENQUEUE_SYNCS, database, NOW, cal, queue) == 1
    assert run_task(ENQUEUE_SYNCS, database, NOW + timedelta(minutes=1), cal, queue) == 0  # claimed: not due again yet
    assert [job.func_name for job in queue.get_jobs()] == ["calendars.jobs.sync_source_job"]
    runtime = build_runtime(cal, redis=conn)
    try:
        with job_runtime_as(runtime):
            ThreadWorker([queue], connection=conn).work(burst=True, with_scheduler=False)
    finally:
        runtime.db.dispose()
    row = source(database, sid)
    assert row.status == "ok" and row.busy_count == len(blocks(database, sid)) > 0
