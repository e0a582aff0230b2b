"""Replacing a source's busy blocks: atomic, per source, and seen by the search and by booking."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from scheduler import booking
from scheduler.busy import Block, remove_source_blocks, replace_busy_blocks
from scheduler.models import BusyBlock
from tests.conftest import both_databases
from tests.integration.booking_helpers import NOW, TUESDAY_10, build_world, request
from tests.integration.booking_helpers import POLICY


def _count(db, source_id):  # type: ignore[no-untyped-def]
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(BusyBlock).where(BusyBlock.source_id == source_id))


@both_databases
def test_replace_swaps_only_this_sources_blocks(database):
    w = build_world(database)
    m = w.mediator_ids[0]
    with database.write_session() as s:
        replace_busy_blocks(s, 1, mediator_id=m, blocks=[Block(TUESDAY_10, TUESDAY_10 + timedelta(hours=1), "a")])
        replace_busy_blocks(s, 2, mediator_id=m, blocks=[Block(TUESDAY_10, TUESDAY_10 + timedelta(hours=1), "b")])
    with database.write_session() as s:
        written = replace_busy_blocks(s, 1, mediator_id=m, blocks=[
            Block(TUESDAY_10 + timedelta(days=1), TUESDAY_10 + timedelta(days=1, hours=1), "c"),
            Block(TUESDAY_10, TUESDAY_10, "zero-length is dropped")])
    assert written == 1 and _count(database, 1) == 1 and _count(database, 2) == 1
    with database.write_session() as s:
        remove_source_blocks(s, 2)
    assert _count(database, 2) == 0
    with database.write_session() as s:  # the mediator is free at TUESDAY_10 again, busy a day later
        booking.book(s, request(w), None, NOW, policy=POLICY)
    with pytest.raises(booking.BookingConflict), database.write_session() as s:
        booking.book(s, request(w, start=TUESDAY_10 + timedelta(days=1), room_id=w.room_ids[1]), None, NOW, policy=POLICY)


def test_a_failed_replacement_leaves_the_last_good_copy(database):
    w = build_world(database)
    with database.write_session() as s:
        replace_busy_blocks(s, 1, room_id=w.room_ids[0], blocks=[Block(TUESDAY_10, TUESDAY_10 + timedelta(hours=1))])
    with pytest.raises(RuntimeError), database.write_session() as s:
        replace_busy_blocks(s, 1, room_id=w.room_ids[0], blocks=[])
        raise RuntimeError("the sync failed after the delete")
    assert _count(database, 1) == 1
    with pytest.raises(ValueError):
        with database.write_session() as s:
            replace_busy_blocks(s, 1, blocks=[])
