"""The availability search shell against a real database: it reads the right rows."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from core.problems import InvalidInput
from core.workdays import WorkingDayCalendar
from scheduler import booking
from scheduler.models import BusyBlock
from scheduler.search import find_available_slots
from tests import factories as f
from tests.conftest import both_databases
from tests.integration.booking_helpers import NOW, TUESDAY_10, build_world, request
from tests.integration.booking_helpers import POLICY

TZ = ZoneInfo("Europe/Amsterdam")


def _search(db, w, now=NOW, **kw):  # type: ignore[no-untyped-def]
    params = dict(mediator_ids=[w.mediator_ids[0]], room_id=None, location_id=w.location_id,
                  duration=timedelta(hours=1), start=TUESDAY_10, end=TUESDAY_10 + timedelta(hours=3), now=now,
                  workdays=WorkingDayCalendar(), tz=TZ, grid=timedelta(minutes=30), min_notice=timedelta(hours=1),
                  limit=20)
    params.update(kw)
    with db.session() as s:
        return find_available_slots(s, None, **params)


@both_databases
def test_search_skips_booked_time_buffers_and_imported_busy_time(database):
    w = build_world(database, buffers=(30, 0))
    with database.write_session() as s:
        booking.book(s, request(w), None, NOW, policy=POLICY)  # 10:00-11:00 local, room 1, buffer to 11:30
        s.add(BusyBlock(source_id=1, room_id=w.room_ids[1], starts_at=TUESDAY_10, ends_at=TUESDAY_10 + timedelta(hours=3),
                        uid="x"))
    slots = _search(database, w)
    # Window 10:00-13:00 local; mediator 1 is free from 11:30, one hour fits until 13:00.
    assert [(s.start - TUESDAY_10, s.room_id) for s in slots] == [
        (timedelta(minutes=90), w.room_ids[0]), (timedelta(minutes=120), w.room_ids[0])]


@both_databases
def test_an_expired_hold_no_longer_hides_the_slot(database):
    w = build_world(database, buffers=(0, 0))
    with database.write_session() as s:
        booking.book(s, request(w), None, NOW, policy=POLICY, hold_for=timedelta(minutes=15))
    held = _search(database, w, now=NOW + timedelta(minutes=5), room_id=w.room_ids[0], location_id=None)
    assert TUESDAY_10 not in [s.start for s in held]
    expired = _search(database, w, now=NOW + timedelta(minutes=20), room_id=w.room_ids[0], location_id=None)
    assert expired[0].start == TUESDAY_10


def test_joint_search_for_two_mediators_needs_both_free(database):
    w = build_world(database, buffers=(0, 0))
    with database.write_session() as s:
        booking.book(s, request(w, mediator_ids=(w.mediator_ids[1],), mode="phone", room_id=None), None, NOW, policy=POLICY)
    slots = _search(database, w, mediator_ids=w.mediator_ids, location_id=None)
    assert [s.start - TUESDAY_10 for s in slots] == [timedelta(hours=1), timedelta(minutes=90), timedelta(hours=2)]
    assert all(s.room_id is None for s in slots)


def test_room_at_another_location_is_refused_naming_room_id(database):
    w = build_world(database)
    with database.write_session() as s:
        elsewhere = f.location(s, rooms=1).rooms[0].id
    with pytest.raises(InvalidInput) as err:
        _search(database, w, room_id=elsewhere, location_id=w.location_id)
    assert err.value.errors[0]["field"] == "room_id"
    with pytest.raises(InvalidInput) as err:
        _search(database, w, location_id=99999)
    assert err.value.errors[0]["field"] == "location_id"
    with pytest.raises(InvalidInput):
        _search(database, w, mediator_ids=[w.mediator_ids[0]] * 2)
