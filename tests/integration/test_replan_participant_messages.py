"""Messages not sent yet follow the participant and the appointment's version (invariant 3).

A participant who says "don't text my old phone, my ex has it" and takes back
the fuller-text opt-in must not get the reminder at the old number with the
old text; a reassignment to another mediator must not leave a confirmation
still waiting to be refused as stale. What already went is never sent again.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.db import utcnow
from core.workdays import WorkingDayCalendar
from notifications.models import OutboxMessage
from scheduler import booking
from scheduler.casework import update_participant
from scheduler.models import Participant
from scheduler.reassign import reassign_future
from tests import factories as f
from tests.conftest import both_databases
from tests.integration.booking_helpers import build_world, future_start, request
from tests.integration.sms_helpers import send_once
from tests.integration.booking_helpers import POLICY

NEW_PHONE = "+31687654321"
OPEN = ("pending", "queued")


def _rows(runtime: Any) -> list[OutboxMessage]:
    with runtime.db.session() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.recipient_kind == "participant")
                              .order_by(OutboxMessage.id)))


def _open(runtime: Any) -> list[OutboxMessage]:
    return [r for r in _rows(runtime) if r.status in OPEN]


def _book(runtime: Any, full_text: bool = False) -> tuple[Any, int, datetime]:
    db = runtime.db
    w = build_world(db)
    pid = w.participant_ids[0]
    with db.write_session() as s:
        s.get(Participant, pid).full_text_opt_in = full_text
    start = future_start()
    with db.write_session() as s:
        booking.book(s, request(w, start=start), None, utcnow(), policy=POLICY)
    return w, pid, start


def _change(runtime: Any, pid: int, **changes: Any) -> None:
    with runtime.db.write_session() as s:
        admin, _ = f.staff(s, "admin")
        update_participant(s, admin, pid, changes)


@both_databases
def test_a_new_number_and_a_withdrawn_opt_in_reach_the_reminders_not_yet_sent(runtime):
    _, pid, start = _book(runtime, full_text=True)
    before = _open(runtime)
    assert any("herstelbemiddeling" in r.body for r in before)
    _change(runtime, pid, phone=NEW_PHONE, full_text_opt_in=False)

    assert {r.status for r in _rows(runtime) if r.id in {b.id for b in before}} == {"cancelled"}
    after = _open(runtime)
    # The same messages at the same times, from today's details.
    assert sorted((r.kind, r.channel, r.not_before, r.deadline) for r in after) == sorted(
        (r.kind, r.channel, r.not_before, r.deadline) for r in before)
    assert {r.to_address for r in after if r.channel == "sms"} == {NEW_PHONE}
    assert not [r for r in after if "herstelbemiddeling" in (r.body or "") + (r.subject or "")]
    assert not {r.idempotency_key for r in after} & {r.idempotency_key for r in before}

    two_days = next(r for r in after if r.channel == "sms" and r.not_before == start - timedelta(days=2))
    assert send_once(runtime, two_days.id, two_days.not_before) == "sent"


def test_what_already_went_is_not_written_again(runtime):
    _, pid, _ = _book(runtime)
    confirmations = [r for r in _open(runtime) if r.kind == "appointment_confirmed"]
    assert [send_once(runtime, r.id) for r in confirmations] == ["sent", "sent"]
    _change(runtime, pid, language="en")
    assert [r.kind for r in _rows(runtime) if r.kind == "appointment_confirmed"] == ["appointment_confirmed"] * 2
    after = _open(runtime)
    assert {r.kind for r in after} == {"appointment_reminder"} and {r.language for r in after} == {"en"}
    assert all(r.body.startswith("Reminder") for r in after if r.channel == "sms")


def test_a_channel_switched_off_is_cancelled_and_a_second_change_rewrites_the_rewrite(runtime):
    _, pid, _ = _book(runtime)
    _change(runtime, pid, sms_allowed=False)
    assert {r.channel for r in _open(runtime)} == {"email"}
    _change(runtime, pid, email="new@example.net")
    _change(runtime, pid, email="newer@example.net")
    after = _open(runtime)
    assert len(after) == 3 and {r.to_address for r in after} == {"newer@example.net"}  # confirmation, 2 reminders
    assert len({r.idempotency_key for r in _rows(runtime)}) == len(_rows(runtime))


def test_a_save_that_changes_nothing_a_message_says_leaves_the_outbox_alone(runtime):
    _, pid, _ = _book(runtime)
    before = [(r.id, r.status) for r in _rows(runtime)]
    with runtime.db.session() as s:
        phone = s.get(Participant, pid).phone
    _change(runtime, pid, phone=phone, address="Elders 2, Utrecht", role="victim")
    assert [(r.id, r.status) for r in _rows(runtime)] == before


@both_databases
def test_reassignment_carries_a_confirmation_not_yet_sent_to_the_new_version(runtime):
    w, _, _ = _book(runtime)
    sick, colleague = w.mediator_ids
    with runtime.db.write_session() as s:
        result = reassign_future(s, sick, None, utcnow(), policy=POLICY)
    assert [to for _, to in result.moved] == [colleague]
    after = _open(runtime)
    assert sorted((r.kind, r.channel) for r in after) == sorted(
        [("appointment_confirmed", "email"), ("appointment_confirmed", "sms")]
        + [("appointment_reminder", "email"), ("appointment_reminder", "sms")] * 2)
    assert {r.appointment_version for r in after} == {2}
    assert [send_once(runtime, r.id) for r in after if r.kind == "appointment_confirmed"] == ["sent", "sent"]


def test_reassignment_does_not_confirm_again_what_was_confirmed(runtime):
    w, _, _ = _book(runtime)
    for r in _open(runtime):
        if r.kind == "appointment_confirmed":
            assert send_once(runtime, r.id) == "sent"
    with runtime.db.write_session() as s:
        reassign_future(s, w.mediator_ids[0], None, utcnow(), policy=POLICY)
    assert {(r.kind, r.appointment_version) for r in _open(runtime)} == {("appointment_reminder", 2)}
    assert len([r for r in _rows(runtime) if r.kind == "appointment_confirmed"]) == 2
