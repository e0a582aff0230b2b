"""Calendar feeds end to end: API issues a URL, a calendar app GETs it, the iCalendar reads back right.

Appointments are booked through scheduler.booking relative to the real clock,
because the feed view asks the clock for its window (4 weeks back, a year ahead).
"""
from __future__ import annotations

import hashlib
import logging
import threading
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select
from werkzeug.serving import make_server

from calendars.feed_views import mask_feed_tokens
from calendars.feeds import feed_for_token, issue_feed_token
from calendars.models import FeedToken
from core.db import utcnow
from scheduler import booking
from scheduler.models import Appointment
from scheduler.rules import BookingRequest
from tests import factories as f
from tests.conftest import both_databases
from tests.integration.booking_helpers import POLICY
from scheduler.changes import AppointmentChange

TZ = ZoneInfo("Europe/Amsterdam")
UTC = timezone.utc
NAMES = ("Sanne de Wit", "Karim Bakker")


@dataclass
class Desk:
    mediator_id: int
    other_mediator_id: int
    room_id: int
    appointment_ids: dict[str, int]
    office: dict[str, str]       # coordinator's bearer header
    own: dict[str, str]          # the mediator's own bearer header


def _at(days: int, hour: int) -> datetime:
    """`hour` o'clock Amsterdam time, `days` days from today (never in the past)."""
    day = (utcnow().astimezone(TZ) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ).astimezone(UTC)


def _across_a_clock_change(days: int) -> int:
    """Days from today, half a year or more, to a day on the other side of a clock change from `days`.

    A fixed "185 days on" is winter to summer from December, but summer to summer from early April.
    """
    offset = _at(days, 12).astimezone(TZ).utcoffset()
    return next(d for d in range(150, 400) if _at(d, 12).astimezone(TZ).utcoffset() != offset)


@pytest.fixture
def desk(runtime: Any) -> Desk:
    """A mediator with a case of two named participants and appointments in and out of a room."""
    now = utcnow()
    with runtime.db.write_session() as s:
        mediator, other = f.mediator(s), f.mediator(s)
        room = f.location(s, rooms=1).rooms[0]
        case = f.case(s, [mediator], reference="HB-2026-0042")
        for participant, name in zip(case.participants, NAMES):
            participant.name = name
        _, office = f.staff(s, "coordinator")
        _, own = f.staff(s, "mediator", mediator)
        _, _ = f.staff(s, "mediator", other)
        people = tuple(p.id for p in case.participants)

        def book(start: datetime, kind: str, mode: str, **kw: Any) -> int:
            # Days counted from today may be weekends: the office's calendar is not what these tests are about.
            in_person = mode == "in_person"
            req = BookingRequest(case_id=case.id, kind=kind, mode=mode, start=start, end=start + timedelta(hours=1),
                                 mediator_ids=(mediator.id,), room_id=room.id if in_person else None,
                                 participant_ids=people, outside_hours="other",
                                 arrivals={people[1]: start + timedelta(minutes=15)} if in_person else {})
            return booking.book(s, req, None, kw.pop("now", now), policy=POLICY, **kw).id

        ids = {"intake": book(_at(3, 10), "intake", "in_person"),
               "phone": book(_at(4, 14), "preparation", "phone"),
               "meeting": book(_at(5, 10), "meeting", "in_person"),
               "summer": book(_at(_across_a_clock_change(3), 11), "follow_up", "video"),
               "expired_hold": book(_at(6, 9), "intake", "video", now=now - timedelta(hours=1),
                                    hold_for=timedelta(minutes=15))}
        other_case = f.case(s, [other])
        booking.book(s, BookingRequest(case_id=other_case.id, kind="intake", mode="phone", start=_at(7, 9),
                                       end=_at(7, 10), mediator_ids=(other.id,), outside_hours="other"),
                     None, now, policy=POLICY)
        return Desk(mediator.id, other.id, room.id, ids, office, own)


def issue(client: Any, headers: dict[str, str], path: str, **body: Any) -> str:
    """POST .../feed-token; returns the path of the feed URL."""
    response = client.post(f"/api/v1/{path}/feed-token", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    url = response.get_json()["url"]
    assert url.startswith("https://pendel.test/calendars/feeds/") and url.endswith(".ics")
    return urlparse(url).path


def fetch(client: Any, path: str) -> tuple[Any, Calendar]:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, max-age=300"
    return response, Calendar.from_ical(response.data)


def by_id(cal: Calendar) -> dict[int, Any]:
    events: dict[int, Any] = {}
    for vevent in cal.walk("VEVENT"):
        appointment_id = int(str(vevent["UID"]).removeprefix("appointment-").removesuffix("@pendel.test"))
        assert appointment_id not in events, "an appointment appears twice"
        events[appointment_id] = vevent
    return events


def stored(runtime: Any, appointment_id: int) -> Appointment:
    with runtime.db.session() as s:
        return s.get(Appointment, appointment_id)


@both_databases
def test_mediator_feed_round_trips_times_uids_and_stays_discreet(client: Any, runtime: Any, desk: Desk) -> None:
    path = issue(client, desk.own, f"mediators/{desk.mediator_id}")
    response, cal = fetch(client, path)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    events = by_id(cal)
    assert set(events) == set(desk.appointment_ids.values())  # not the other mediator's appointment
    for appointment_id, vevent in events.items():
        row = stored(runtime, appointment_id)
        assert vevent["DTSTART"].dt.astimezone(UTC) == row.start
        assert vevent["DTEND"].dt.astimezone(UTC) == row.end
        assert int(vevent["SEQUENCE"]) == row.version
        assert str(vevent["CLASS"]) == "PRIVATE"
    intake, phone = events[desk.appointment_ids["intake"]], events[desk.appointment_ids["phone"]]
    assert str(intake["SUMMARY"]) == "HB-2026-0042 · intake"
    assert str(intake["LOCATION"]).endswith(", Straat 1, Utrecht")
    assert str(phone["SUMMARY"]) == "HB-2026-0042 · voorbereiding (telefonisch)" and "LOCATION" not in phone
    assert str(intake["STATUS"]) == "CONFIRMED"
    assert str(events[desk.appointment_ids["expired_hold"]]["STATUS"]) == "CANCELLED"
    offsets = {events[desk.appointment_ids[k]]["DTSTART"].dt.utcoffset() for k in ("intake", "summer")}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}
    for name in NAMES:
        assert name.encode() not in response.data


def test_uid_stable_sequence_grows_on_reschedule_and_cancel(client: Any, runtime: Any, desk: Desk) -> None:
    path = issue(client, desk.own, f"mediators/{desk.mediator_id}")
    first, cal1 = fetch(client, path)
    second, cal2 = fetch(client, path)
    assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]
    assert {k: str(v["UID"]) for k, v in by_id(cal1).items()} == {k: str(v["UID"]) for k, v in by_id(cal2).items()}
    intake_id, meeting_id = desk.appointment_ids["intake"], desk.appointment_ids["meeting"]
    new_start = _at(10, 13)
    with runtime.db.write_session() as s:
        booking.reschedule(s, intake_id, AppointmentChange(new_start, new_start + timedelta(minutes=90),
                                                          outside_hours="other"), None, utcnow(), policy=POLICY)
        booking.cancel(s, meeting_id, None, utcnow())
    third, cal3 = fetch(client, path)
    assert third.headers["ETag"] != first.headers["ETag"]
    before, after = by_id(cal1), by_id(cal3)
    assert set(after) == set(before)  # the cancelled one stays in, so calendar apps drop it
    assert int(after[intake_id]["SEQUENCE"]) == stored(runtime, intake_id).version == 2
    assert int(after[intake_id]["SEQUENCE"]) > int(before[intake_id]["SEQUENCE"])
    assert after[intake_id]["DTSTART"].dt.astimezone(UTC) == new_start
    assert after[intake_id]["DTEND"].dt.astimezone(UTC) == new_start + timedelta(minutes=90)
    assert str(after[meeting_id]["STATUS"]) == "CANCELLED"
    assert int(after[meeting_id]["SEQUENCE"]) == stored(runtime, meeting_id).version > int(before[meeting_id]["SEQUENCE"])


def test_names_only_with_the_mediators_opt_in_and_never_in_a_room_feed(client: Any, desk: Desk) -> None:
    with_names = issue(client, desk.own, f"mediators/{desk.mediator_id}", include_names=True)
    response, cal = fetch(client, with_names)
    description = str(by_id(cal)[desk.appointment_ids["intake"]]["DESCRIPTION"])
    assert all(name in description for name in NAMES)

    room = issue(client, desk.office, f"rooms/{desk.room_id}")
    response, cal = fetch(client, room)
    events = by_id(cal)
    assert set(events) == {desk.appointment_ids["intake"], desk.appointment_ids["meeting"]}
    assert {str(v["SUMMARY"]) for v in events.values()} == {"HB-2026-0042 · intake", "HB-2026-0042 · gesprek"}
    assert not any(name.encode() in response.data for name in NAMES)
    assert b"DESCRIPTION" not in response.data
    refused = client.post(f"/api/v1/rooms/{desk.room_id}/feed-token", json={"include_names": True},
                          headers=desk.office)
    assert refused.status_code == 422


def test_if_none_match_gives_304_without_a_body(client: Any, desk: Desk) -> None:
    path = issue(client, desk.own, f"mediators/{desk.mediator_id}")
    response, _ = fetch(client, path)
    etag = response.headers["ETag"]
    assert etag == f'"{hashlib.sha256(response.data).hexdigest()}"'
    for header in (etag, f"W/{etag}", f'"other", {etag}'):
        cached = client.get(path, headers={"If-None-Match": header})
        assert cached.status_code == 304 and cached.data == b""
        assert cached.headers["ETag"] == etag
    assert client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200


@both_databases
def test_rotate_and_revoke_make_old_urls_404_like_unknown_ones(client: Any, runtime: Any, desk: Desk) -> None:
    old = issue(client, desk.own, f"mediators/{desk.mediator_id}")
    new = issue(client, desk.office, f"mediators/{desk.mediator_id}")
    unknown = client.get("/calendars/feeds/" + "A" * 43 + ".ics")
    gone = client.get(old)
    assert gone.status_code == unknown.status_code == 404
    assert gone.data == unknown.data and gone.mimetype == "text/plain"
    assert client.get(new).status_code == 200
    assert client.delete(f"/api/v1/mediators/{desk.mediator_id}/feed-token", headers=desk.own).status_code == 204
    assert client.get(new).status_code == 404
    assert client.delete(f"/api/v1/mediators/{desk.mediator_id}/feed-token", headers=desk.own).status_code == 204
    room = issue(client, desk.office, f"rooms/{desk.room_id}")
    assert client.delete(f"/api/v1/rooms/{desk.room_id}/feed-token", headers=desk.office).status_code == 204
    assert client.get(room).status_code == 404
    token = new.removeprefix("/calendars/feeds/").removesuffix(".ics")
    assert len(token) >= 43  # 256 bits in URL-safe base64
    with runtime.db.session() as s:
        hashes = s.scalars(select(FeedToken.token_hash)).all()
    assert hashlib.sha256(token.encode()).hexdigest() in hashes and token not in hashes


def test_a_mediator_manages_only_their_own_feed(client: Any, desk: Desk) -> None:
    other = f"/api/v1/mediators/{desk.other_mediator_id}/feed-token"
    assert client.post(other, json={}, headers=desk.own).status_code == 403
    assert client.delete(other, headers=desk.own).status_code == 403
    assert client.post(f"/api/v1/rooms/{desk.room_id}/feed-token", json={}, headers=desk.own).status_code == 403
    assert client.post(other, json={}).status_code == 401
    assert client.post("/api/v1/mediators/999999/feed-token", json={}, headers=desk.office).status_code == 404
    assert client.post(other, json={"include_names": "yes"}, headers=desk.office).status_code == 422
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/mediators/{mediator_id}/feed-token"]) == {"post", "delete"}
    assert set(paths["/api/v1/rooms/{room_id}/feed-token"]) == {"post", "delete"}


def test_window_is_four_weeks_back_to_a_year_ahead(runtime: Any, desk: Desk) -> None:
    with runtime.db.write_session() as s:
        token = issue_feed_token(s, mediator_id=desk.mediator_id)
    intake = stored(runtime, desk.appointment_ids["intake"])

    def ids(now: datetime) -> set[int]:
        with runtime.db.session() as s:
            found = feed_for_token(s, token, now, TZ, "pendel.test")
        assert found is not None
        return set(by_id(Calendar.from_ical(found[0])))

    assert intake.id in ids(intake.end + timedelta(weeks=3))
    assert intake.id not in ids(intake.end + timedelta(weeks=5))
    assert intake.id not in ids(intake.start - timedelta(days=400))
    with runtime.db.session() as s:
        assert feed_for_token(s, "not-a-token", utcnow(), TZ, "pendel.test") is None


def test_the_access_log_never_shows_the_token(app: Any, client: Any, desk: Desk,
                                               caplog: pytest.LogCaptureFixture) -> None:
    path = issue(client, desk.own, f"mediators/{desk.mediator_id}")
    token = path.removeprefix("/calendars/feeds/").removesuffix(".ics")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}{path}", timeout=10) as response:
                assert response.status == 200
                assert Calendar.from_ical(response.read()).walk("VEVENT")
    finally:
        server.shutdown()
        thread.join(timeout=10)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any('"GET /calendars/feeds/***.ics HTTP/1.1" 200' in line for line in lines), lines
    assert token not in caplog.text
    assert mask_feed_tokens("GET /calendars/feeds/abc_-1.ics?x=1 HTTP/1.1") == "GET /calendars/feeds/***.ics HTTP/1.1"
