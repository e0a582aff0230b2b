"""A number change at the same moment as a booking, reschedule or reassignment (PostgreSQL, two connections).

Whichever transaction commits first, the participant's texts end up at the
new number: the writer waits for the change and reads the new number, or the
change waits for the writer and rewrites what it wrote
(scheduler.participant_locks). Without that, the rows of the one that read
the old number are left at it, and the send job skips them as address_changed.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.db import utcnow
from core.models import User
from core.workdays import WorkingDayCalendar
from notifications.models import OutboxMessage
from scheduler import booking
from scheduler.casework import update_participant
from scheduler.models import Appointment
from scheduler.reassign import reassign_future
from tests import factories as f
from tests.integration.booking_helpers import World, build_world, future_start, request
from tests.integration.booking_helpers import POLICY
from tests.support.days import working_days_later
from scheduler.changes import AppointmentChange

NEW_PHONE = "+31687654321"
Operation = Callable[[Session], Any]


def _world(runtime: Any) -> tuple[World, int, int]:
    db = runtime.db
    w = build_world(db)
    with db.write_session() as s:
        booking.book(s, request(w, start=future_start()), None, utcnow(), policy=POLICY)
        admin, _ = f.staff(s, "admin")
        return w, w.participant_ids[0], admin.id


def _waiting(runtime: Any) -> int:
    with runtime.db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND datname = current_database()")).scalar() or 0


def _race(runtime: Any, first: Operation, second: Operation) -> None:
    """`first` runs and stays open; `second` starts in another thread; then `first` commits."""
    db = runtime.db
    outcome: list[Any] = []

    def run_second() -> None:
        try:
            with db.write_session() as s:
                second(s)
            outcome.append("ok")
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome.append(exc)

    with db.write_session() as s:
        first(s)
        s.flush()
        thread = threading.Thread(target=run_second)
        thread.start()
        deadline = time.monotonic() + 10
        while not outcome and not _waiting(runtime) and time.monotonic() < deadline:
            time.sleep(0.05)
    thread.join(30)
    assert outcome == ["ok"], outcome


def _open_participant_rows(runtime: Any, pid: int) -> list[OutboxMessage]:
    with runtime.db.session() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.participant_id == pid,
                                                          OutboxMessage.status.in_(("pending", "queued")))))


def _assert_texts_go_to_the_new_number(runtime: Any, pid: int, appointments: int = 1) -> None:
    rows = _open_participant_rows(runtime, pid)
    with runtime.db.session() as s:
        versions = {a: v for a, v in s.execute(select(Appointment.id, Appointment.version))}
    texts = [r for r in rows if r.channel == "sms"]
    # Two reminders (2 days, 2 hours before) per appointment at least; every one at the new number, and
    # about the appointment as it is now (a stale version would be skipped at send time).
    assert len([r for r in texts if r.kind == "appointment_reminder"]) == 2 * appointments
    assert {r.to_address for r in texts} == {NEW_PHONE}
    assert all(r.appointment_version == versions[r.appointment_id] for r in rows)


def _change(admin_id: int, pid: int) -> Operation:
    return lambda s: update_participant(s, s.get(User, admin_id), pid, {"phone": NEW_PHONE})


def _reassign(w: World) -> Operation:
    return lambda s: reassign_future(s, w.mediator_ids[0], None, utcnow(), policy=POLICY)


def _book_another(w: World) -> Operation:
    return lambda s: booking.book(s, request(w, start=working_days_later(future_start(), 1)), None, utcnow(),
                                  policy=POLICY)


def _reschedule(w: World) -> Operation:
    def run(s: Session) -> None:
        appointment_id = s.scalar(select(func.min(Appointment.id)))
        start = working_days_later(future_start(), 2)
        booking.reschedule(s, appointment_id, AppointmentChange(start, start + timedelta(hours=1)), None, utcnow(), policy=POLICY)
    return run


@pytest.mark.parametrize("change_first", [True, False], ids=["change_first", "change_second"])
@pytest.mark.parametrize("operation", [_reassign, _book_another, _reschedule])
def test_a_number_change_racing_a_writer_of_the_participants_messages(runtime: Any, operation: Any,
                                                                      change_first: bool) -> None:
    w, pid, admin_id = _world(runtime)
    change, other = _change(admin_id, pid), operation(w)
    _race(runtime, *((change, other) if change_first else (other, change)))
    _assert_texts_go_to_the_new_number(runtime, pid, appointments=2 if operation is _book_another else 1)


def test_a_number_change_and_a_withdrawal_of_the_same_participant_do_not_deadlock(runtime: Any) -> None:
    from scheduler.withdrawal import withdraw

    w, pid, admin_id = _world(runtime)
    _race(runtime, lambda s: withdraw(s, pid, None, utcnow()), _change(admin_id, pid))
    assert _open_participant_rows(runtime, pid) == []


def test_a_writer_that_locked_the_appointment_before_the_change_and_writes_after_it(runtime: Any) -> None:
    # The change must not wait for the appointment while holding the participant's lock that the writer will
    # want: it backs off (scheduler.participant_locks, step 3) instead of deadlocking.
    w, pid, admin_id = _world(runtime)
    db, outcome = runtime.db, []

    def run_change() -> None:
        try:
            with db.write_session() as s:
                _change(admin_id, pid)(s)
            outcome.append("ok")
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome.append(exc)

    with db.write_session() as s:
        appointment_id = s.scalar(select(func.min(Appointment.id)))
        s.get(Appointment, appointment_id, with_for_update=True)
        thread = threading.Thread(target=run_change)
        thread.start()
        time.sleep(0.5)
        start = working_days_later(future_start(), 2)
        booking.reschedule(s, appointment_id, AppointmentChange(start, start + timedelta(hours=1)), None, utcnow(), policy=POLICY)
    thread.join(30)
    assert outcome == ["ok"], outcome
    _assert_texts_go_to_the_new_number(runtime, pid)
