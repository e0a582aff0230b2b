"""The busy-block table's one door: a calendar sync replaces a source's blocks here.

The replacement is atomic (the caller's transaction) and takes the owner's
row lock, the same lock a booking takes, so a booking never checks against a
half-replaced calendar.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from scheduler.locking import lock_resources
from scheduler.models import BusyBlock


@dataclass(frozen=True)
class Block:
    start: datetime
    end: datetime
    uid: str = ""
    recurrence_id: str | None = None


def replace_busy_blocks(session: Session, source_id: int, *, mediator_id: int | None = None,
                        room_id: int | None = None, blocks: Iterable[Block]) -> int:
    """Swap every busy block of `source_id` for `blocks`; returns how many were written."""
    if (mediator_id is None) == (room_id is None):
        raise ValueError("a source belongs to exactly one mediator or one room")
    lock_resources(session, [mediator_id] if mediator_id else [], [room_id] if room_id else [])
    session.execute(delete(BusyBlock).where(BusyBlock.source_id == source_id))
    rows = [{"source_id": source_id, "mediator_id": mediator_id, "room_id": room_id, "starts_at": b.start,
             "ends_at": b.end, "uid": b.uid[:500], "recurrence_id": b.recurrence_id}
            for b in blocks if b.end > b.start]
    if rows:
        # A Core insert on the table: one executemany batch (the ORM form splits batches on None values).
        session.execute(insert(BusyBlock.__table__), rows)
    return len(rows)


def remove_source_blocks(session: Session, source_id: int) -> None:
    """A source that is deleted or deactivated stops counting at once."""
    session.execute(delete(BusyBlock).where(BusyBlock.source_id == source_id))
