"""Writing a participant's messages and changing that participant's details, one after the other.

A participant's messages are written from their details (number, email,
language, consent). Two kinds of transaction meet there:

- *writers*: a booking, confirmation, reschedule, cancellation or
  reassignment, whose notifications subscriber reads the attending
  participants' details and writes outbox rows for them;
- a *details change* (casework.update_participant), whose subscriber cancels
  the participant's unsent messages and plans them again from the new details.

Interleaved, each misses the other's uncommitted work: a writer that read the
old number commits its rows after the change rewrote all it could see, and
they go nowhere (the send job skips them as address_changed). So on
PostgreSQL they are serialised per participant by a transaction-scoped
advisory lock, key (NAMESPACE, participant id): writers take it shared (they
need not exclude one another: writers about one appointment already queue on
its row lock, writers about different appointments write different rows), a
details change takes it exclusive. Whoever comes second sees the first one's
committed work: a writer reads the details after its lock (afresh, not from
the session's identity map), a details change lists appointments and rows
after its lock. SQLite needs none of it: every write transaction there is
BEGIN IMMEDIATE, so writers never interleave.

Why this cannot deadlock. Writers lock their appointment rows FOR UPDATE
(scheduler.booking, scheduler.reassign) before their subscriber takes the
shared locks of the attendees, in ascending id order, before it touches any
outbox row of theirs; rows they insert take FOR KEY SHARE on the participant
and the appointment. Writers never wait for one another on these locks
(shared), so a cycle would have to pass through a details change T of
participant P, and T never waits while holding what a writer may wait for:

1. T first locks P's row FOR NO KEY UPDATE, holding nothing of this scheme
   yet. The others that lock a participant row (withdrawal, an inbound STOP
   or START) do that first too, also FOR NO KEY UPDATE, so T merely queues
   behind them, and a writer's FOR KEY SHARE on P waits for none of them.
2. T then waits for the exclusive lock holding only P's row, and NO KEY
   UPDATE does not conflict with the FOR KEY SHARE that writers' inserts take.
3. Holding the exclusive lock, T never waits for an appointment row: it
   takes FOR KEY SHARE NOWAIT on every appointment of P that has not ended
   (which is what its inserts need). If one is locked — perhaps by a writer
   that now waits for P's lock — T rolls back to a savepoint, which releases
   its advisory lock, and tries again a moment later. (A cancelled appointment
   that has ended is locked only by calls that return or refuse without
   writing messages, so T may wait for those.)
4. T's own UPDATE of P's unsent rows waits at most for a send job, the
   dispatcher or a status webhook holding one of those rows. They may write a
   mediator notice meanwhile, whose insert takes FOR KEY SHARE on the
   mediator's row; bookers lock mediators and rooms FOR NO KEY UPDATE
   (scheduler.locking), which that does not wait for. So they wait for nothing
   T or a writer holds: writers touch P's rows only under the shared lock.
"""
from __future__ import annotations

import random
import time
from datetime import datetime
from typing import Iterable

from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core.problems import Conflict
from scheduler.models import Appointment, Attendance, Participant

NAMESPACE = 0x50454E50  # "PENP": the two-key advisory locks are a space apart from the one-key ones
LOCK_NOT_AVAILABLE = "55P03"
PATIENCE_SECONDS = 10.0
_rng = random.SystemRandom()


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_for_writing(session: Session, participant_ids: Iterable[int]) -> None:
    """A writer's shared locks on these participants' messages, in ascending id order (PostgreSQL)."""
    if not _on_postgresql(session):
        return
    for participant_id in sorted(set(participant_ids)):
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:ns, :id)"),
                        {"ns": NAMESPACE, "id": participant_id})


def lock_attendees(session: Session, appointment_id: int) -> None:
    """A writer's shared locks on the messages of everyone attending this appointment."""
    lock_for_writing(session, session.scalars(
        select(Attendance.participant_id).where(Attendance.appointment_id == appointment_id)))


def lock_for_details_change(session: Session, participant_id: int, now: datetime) -> None:
    """A details change's exclusive lock (step 2 above) and its appointments (step 3).

    The caller has locked the participant's row FOR NO KEY UPDATE (step 1).
    Raises Conflict when the participant's appointments stay locked by others
    for longer than PATIENCE_SECONDS (a very long reassignment, say).
    """
    if not _on_postgresql(session):
        return
    deadline = time.monotonic() + PATIENCE_SECONDS
    while True:
        try:
            with session.begin_nested():
                session.execute(text("SELECT pg_advisory_xact_lock(:ns, :id)"), {"ns": NAMESPACE, "id": participant_id})
                session.execute(select(Appointment.id).join(Attendance)
                                .where(Attendance.participant_id == participant_id, Appointment.end > now)
                                .order_by(Appointment.id)
                                .with_for_update(read=True, key_share=True, nowait=True, of=Appointment))
            return
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
        if time.monotonic() >= deadline:
            raise Conflict("the participant's appointments are being changed right now; try again in a moment")
        time.sleep(_rng.uniform(0.01, 0.1))


def locked_for_details_change(session: Session, participant_id: int, now: datetime) -> Participant:
    """The participant as committed now, locked against writers of their messages: the row FOR NO KEY
    UPDATE first (step 1; it does not block rows that refer to it), then `lock_for_details_change`; read
    afresh, not from the identity map. A details change (casework) and an erasure (scheduler.erasure) use it."""
    participant = session.scalars(select(Participant).where(Participant.id == participant_id)
                                  .with_for_update(key_share=True)
                                  .execution_options(populate_existing=True)).one()
    lock_for_details_change(session, participant_id, now)
    return participant
