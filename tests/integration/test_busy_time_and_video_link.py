"""Two booking-engine additions for the desk: booking over imported busy time, and a video joining link.

A coordinator may book over a mediator's imported busy time (their own
calendar) with a reason: stored on the appointment, audited, honoured when the
hold is confirmed, never carried over to a new time. Without a reason that
time stays taken (409); a mediator cannot override it; a room's busy time is
never overridden. A video appointment may carry its own https joining link.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import Database
from core.models import AuditEntry, User
from core.problems import Forbidden, InvalidInput
from scheduler import booking
from scheduler.booking import BookingConflict
from scheduler.changes import AppointmentChange
from scheduler.models import Appointment, BusyBlock, Mediator
from tests import factories as f
from tests.integration.booking_helpers import NOW, POLICY, TUESDAY_10, World, build_world, request
from tests.support import days

HOUR = timedelta(hours=1)


def _busy(db: Database, w: World, start: Any = TUESDAY_10, room: bool = False) -> None:
    with db.write_session() as s:
        owner = {"room_id": w.room_ids[0]} if room else {"mediator_id": w.mediator_ids[0]}
        s.add(BusyBlock(source_id=1, starts_at=start, ends_at=start + HOUR, uid="private", **owner))


def _actor(db: Database, w: World, role: str) -> int:
    with db.write_session() as s:
        mediator = s.get(Mediator, w.mediator_ids[0])
        user, _ = f.staff(s, role, mediator if role == "mediator" else None)
        return user.id


def _book(db: Database, w: World, actor_id: int | None, hold: bool = False, **kw: Any) -> Appointment:
    with db.write_session() as s:
        actor = s.get(User, actor_id) if actor_id else None
        row = booking.book(s, request(w, **{"mode": "phone", "room_id": None, **kw}), actor, NOW, policy=POLICY,
                           hold_for=timedelta(minutes=15) if hold else None)
        s.flush()
        s.expunge(row)
        return row


def _count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Appointment)) or 0


def _overrides(db: Database) -> list[tuple[str, str]]:
    with db.session() as s:
        return [(a, d) for a, d in s.execute(select(AuditEntry.action, AuditEntry.detail)
                                             .where(AuditEntry.action.like("appointment.override.%")))]


def test_a_mediators_busy_time_is_taken_without_a_reason(database: Database) -> None:
    w = build_world(database)
    _busy(database, w)
    coordinator = _actor(database, w, "coordinator")
    with pytest.raises(BookingConflict):
        _book(database, w, coordinator)
    assert _count(database) == 0


def test_a_coordinator_books_over_it_with_a_reason_stored_and_audited(database: Database) -> None:
    w = build_world(database)
    _busy(database, w)
    coordinator = _actor(database, w, "coordinator")
    row = _book(database, w, coordinator, busy_time="mediator_agreed")
    assert row.status == "confirmed" and row.busy_time_reason == "mediator_agreed"
    assert row.outside_hours_reason is None
    assert _overrides(database) == [("appointment.override.busy_time", "mediator_agreed")]


def test_a_reason_where_nothing_is_busy_records_no_override(database: Database) -> None:
    w = build_world(database)
    row = _book(database, w, _actor(database, w, "coordinator"), busy_time="urgent")
    assert row.busy_time_reason is None and _overrides(database) == []


def test_a_mediator_cannot_override_busy_time(database: Database) -> None:
    w = build_world(database)
    _busy(database, w)
    with pytest.raises(Forbidden):
        _book(database, w, _actor(database, w, "mediator"), busy_time="urgent")
    assert _count(database) == 0


def test_a_rooms_busy_time_is_never_overridden(database: Database) -> None:
    w = build_world(database)
    _busy(database, w, room=True)
    coordinator = _actor(database, w, "coordinator")
    with database.write_session() as s, pytest.raises(BookingConflict):
        actor = s.get(User, coordinator)
        booking.book(s, request(w, busy_time="urgent"), actor, NOW, policy=POLICY)
    assert _count(database) == 0


def test_a_held_override_is_honoured_when_confirmed(database: Database) -> None:
    w = build_world(database)
    _busy(database, w)
    coordinator = _actor(database, w, "coordinator")
    held = _book(database, w, coordinator, hold=True, busy_time="participant_request")
    with database.write_session() as s:
        actor = s.get(User, coordinator)
        assert booking.confirm(s, held.id, actor, NOW + timedelta(minutes=1)).status == "confirmed"


def test_the_override_does_not_carry_over_to_a_new_time(database: Database) -> None:
    w = build_world(database)
    _busy(database, w)
    _busy(database, w, start=TUESDAY_10 + 3 * HOUR)
    coordinator = _actor(database, w, "coordinator")
    row = _book(database, w, coordinator, busy_time="urgent")
    later = TUESDAY_10 + 3 * HOUR
    with database.write_session() as s:
        actor = s.get(User, coordinator)
        with pytest.raises(BookingConflict), s.begin_nested():
            booking.reschedule(s, row.id, AppointmentChange(start=later, end=later + HOUR), actor, NOW, policy=POLICY)
        moved = booking.reschedule(s, row.id, AppointmentChange(start=later, end=later + HOUR, busy_time="other"),
                                   actor, NOW, policy=POLICY)
        assert moved.busy_time_reason == "other"
        free = TUESDAY_10 + 5 * HOUR
        moved = booking.reschedule(s, row.id, AppointmentChange(start=free, end=free + HOUR), actor, NOW,
                                   policy=POLICY)
        assert moved.busy_time_reason is None


# --- the video link ----------------------------------------------------------------------------

def test_a_video_appointment_keeps_its_joining_link(database: Database) -> None:
    w = build_world(database)
    row = _book(database, w, None, mode="video", video_url="https://meet.example.org/room-42")
    assert row.video_url == "https://meet.example.org/room-42"


@pytest.mark.parametrize("url", ["http://meet.example.org/x", "https://", "https:// meet.example.org",
                                 "javascript:alert(1)", "https://[::1", "https://example.org/" + "x" * 500])
def test_a_joining_link_must_be_https(database: Database, url: str) -> None:
    w = build_world(database)
    with pytest.raises(InvalidInput) as refused:
        _book(database, w, None, mode="video", video_url=url)
    assert refused.value.errors[0]["field"] == "video_url"


def test_only_a_video_appointment_has_a_link(database: Database) -> None:
    w = build_world(database)
    with pytest.raises(InvalidInput) as refused:
        _book(database, w, None, mode="phone", video_url="https://meet.example.org/x")
    assert refused.value.errors[0]["field"] == "video_url"


def test_a_reschedule_keeps_changes_or_drops_the_link(database: Database) -> None:
    w = build_world(database)
    row = _book(database, w, None, mode="video", video_url="https://meet.example.org/a")
    later = TUESDAY_10 + 2 * HOUR
    with database.write_session() as s:
        kept = booking.reschedule(s, row.id, AppointmentChange(start=later, end=later + HOUR), None, NOW, policy=POLICY)
        assert kept.video_url == "https://meet.example.org/a"
        changed = booking.reschedule(s, row.id, AppointmentChange(start=later, end=later + HOUR,
                                                                  video_url="https://meet.example.org/b"),
                                     None, NOW, policy=POLICY)
        assert changed.video_url == "https://meet.example.org/b"
        phone = booking.reschedule(s, row.id, AppointmentChange(start=later, end=later + HOUR, mode="phone"),
                                   None, NOW, policy=POLICY)
        assert phone.video_url is None


# --- through the API ---------------------------------------------------------------------------

@pytest.fixture
def api_world(runtime: Any) -> dict[str, Any]:
    with runtime.db.write_session() as s:
        m1 = f.mediator(s)
        case = f.case(s, [m1])
        _, coordinator = f.staff(s, "coordinator")
        _, mediator = f.staff(s, "mediator", m1)
        return {"m1": m1.id, "case": case.id, "coordinator": coordinator, "mediator": mediator}


def _body(world: dict[str, Any], start: Any, **kw: Any) -> dict[str, Any]:
    body = {"case_id": world["case"], "kind": "intake", "mode": "video", "start": start.isoformat(),
            "end": (start + HOUR).isoformat(), "mediator_ids": [world["m1"]]}
    body.update(kw)
    return body


def test_the_api_takes_a_link_and_a_busy_time_reason(client: Any, runtime: Any, api_world: dict[str, Any]) -> None:
    start = days.working_day_at(10, days_ahead=14, calendar=runtime.workdays)
    with runtime.db.write_session() as s:
        s.add(BusyBlock(source_id=1, mediator_id=api_world["m1"], starts_at=start, ends_at=start + HOUR, uid="p"))
    link = "https://meet.example.org/intake?id=7"
    taken = client.post("/api/v1/appointments", json=_body(api_world, start, video_url=link),
                        headers=api_world["coordinator"])
    assert taken.status_code == 409
    refused = client.post("/api/v1/appointments", json=_body(api_world, start, busy_time="urgent"),
                          headers=api_world["mediator"])
    assert refused.status_code == 403
    bad = client.post("/api/v1/appointments", json=_body(api_world, start, video_url="http://meet.example.org/x",
                                                         busy_time="urgent"), headers=api_world["coordinator"])
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "video_url"
    booked = client.post("/api/v1/appointments", json=_body(api_world, start, video_url=link, busy_time="urgent"),
                         headers=api_world["coordinator"])
    assert booked.status_code == 201, booked.get_json()
    data = booked.get_json()
    assert data["video_url"] == link and data["busy_time_reason"] == "urgent"
    path = f"/api/v1/appointments/{data['id']}/reschedule"
    later = start + 2 * HOUR
    moved = client.post(path, json={"start": later.isoformat(), "end": (later + HOUR).isoformat(),
                                    "video_url": None}, headers=api_world["coordinator"])
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["video_url"] is None and moved.get_json()["busy_time_reason"] is None
