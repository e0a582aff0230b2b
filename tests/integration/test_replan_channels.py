"""A participant who moves to another channel, or gets one for the first time, keeps their messages.

After a details change, what has not gone yet is planned again from today's
details (notifications.replan): a notice still waiting goes on every channel
now allowed, except one it already went on; reminders are planned afresh.
What already went is never sent again.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from core.db import utcnow
from scheduler import booking
from scheduler.models import Appointment, Participant
from tests.conftest import both_databases
from tests.integration.booking_helpers import build_world, future_start, request
from tests.integration.sms_helpers import send_once as _send
from tests.integration.test_replan_participant_messages import NEW_PHONE, _change, _open, _rows
from tests.integration.booking_helpers import POLICY

BOTH = {("appointment_reminder", "sms"), ("appointment_reminder", "email")}


def _book_with(runtime: Any, **details: Any) -> tuple[int, Any]:
    db = runtime.db
    w = build_world(db)
    pid = w.participant_ids[0]
    with db.write_session() as s:
        participant = s.get(Participant, pid)
        for name, value in details.items():
            setattr(participant, name, value)
    start = future_start()
    with db.write_session() as s:
        booking.book(s, request(w, start=start), None, utcnow(), policy=POLICY)
    return pid, start


def _open_kinds(runtime: Any) -> list[tuple[str, str]]:
    return sorted((r.kind, r.channel) for r in _open(runtime))


@both_databases
def test_a_switch_from_texts_to_email_moves_the_waiting_confirmation_and_the_reminders(runtime):
    pid, start = _book_with(runtime, email_allowed=False)
    assert {c for _, c in _open_kinds(runtime)} == {"sms"}
    _change(runtime, pid, sms_allowed=False, email_allowed=True)
    after = _open(runtime)
    assert sorted((r.kind, r.channel) for r in after) == [("appointment_confirmed", "email")] + [
        ("appointment_reminder", "email")] * 2
    assert {r.not_before for r in after if r.is_reminder} == {start - timedelta(days=2), start - timedelta(hours=2)}
    confirmation = next(r for r in after if r.kind == "appointment_confirmed")
    assert confirmation.attachment_ics and "METHOD:REQUEST" in confirmation.attachment_ics
    assert _send(runtime, confirmation.id) == "sent"


def test_a_first_phone_number_gets_the_reminders_but_not_a_confirmation_that_went(runtime):
    pid, _ = _book_with(runtime, phone=None, sms_allowed=False)
    (confirmation,) = [r for r in _open(runtime) if r.kind == "appointment_confirmed"]
    assert _send(runtime, confirmation.id) == "sent"
    _change(runtime, pid, phone=NEW_PHONE, sms_allowed=True)
    assert _open_kinds(runtime) == sorted(list(BOTH) * 2)  # 2 days and 2 hours before, on both channels
    assert {r.to_address for r in _open(runtime) if r.channel == "sms"} == {NEW_PHONE}
    assert len([r for r in _rows(runtime) if r.kind == "appointment_confirmed"]) == 1


def test_a_first_phone_number_gets_a_confirmation_still_waiting_too(runtime):
    pid, _ = _book_with(runtime, phone=None, sms_allowed=False)
    _change(runtime, pid, phone=NEW_PHONE, sms_allowed=True)
    assert ("appointment_confirmed", "sms") in _open_kinds(runtime)
    assert ("appointment_confirmed", "email") in _open_kinds(runtime)


@both_databases
def test_texts_switched_off_and_on_again_come_back(runtime):
    pid, _ = _book_with(runtime)
    _change(runtime, pid, sms_allowed=False)
    assert {c for _, c in _open_kinds(runtime)} == {"email"}
    _change(runtime, pid, sms_allowed=True)
    assert _open_kinds(runtime) == sorted([("appointment_confirmed", "sms"), ("appointment_confirmed", "email")]
                                          + list(BOTH) * 2)
    assert len({r.idempotency_key for r in _rows(runtime)}) == len(_rows(runtime))


def test_a_reminder_that_went_is_not_planned_again(runtime):
    pid, start = _book_with(runtime)
    two_days = [r for r in _open(runtime) if r.not_before == start - timedelta(days=2)]
    assert [_send(runtime, r.id, r.not_before) for r in two_days] == ["sent", "sent"]
    _change(runtime, pid, email="new@example.net")
    reminders = [r for r in _open(runtime) if r.is_reminder]
    assert {r.not_before for r in reminders} == {start - timedelta(hours=2)}
    assert {r.to_address for r in reminders if r.channel == "email"} == {"new@example.net"}



def test_a_reminder_copy_still_waiting_follows_the_change_when_the_other_went(runtime):
    """The text reminder went (to the number being corrected now); its email copy waits on a retry:
    the email goes on to the new address, and no second text is added."""
    pid, start = _book_with(runtime)
    two_days = {r.channel: r for r in _open(runtime) if r.not_before == start - timedelta(days=2)}
    assert _send(runtime, two_days["sms"].id, two_days["sms"].not_before) == "sent"
    _change(runtime, pid, phone=NEW_PHONE, email="new@example.net")
    first = [r for r in _open(runtime) if r.is_reminder and r.deadline == start and
             r.not_before == start - timedelta(days=2)]
    assert [(r.channel, r.to_address) for r in first] == [("email", "new@example.net")]
    later = sorted((r.channel, r.to_address) for r in _open(runtime)
                   if r.is_reminder and r.not_before == start - timedelta(hours=2))
    assert later == [("email", "new@example.net"), ("sms", NEW_PHONE)]

def test_a_cancellation_notice_still_waiting_follows_the_switch(runtime):
    """Told of the appointment by text, they hear it is off on the channel they switched to."""
    pid, _ = _book_with(runtime, email_allowed=False)
    (confirmation,) = [r for r in _open(runtime) if r.kind == "appointment_confirmed"]
    assert _send(runtime, confirmation.id) == "sent"
    with runtime.db.write_session() as s:
        booking.cancel(s, s.scalar(select(Appointment.id)), None, utcnow())
    _change(runtime, pid, sms_allowed=False, email_allowed=True)
    (notice,) = _open(runtime)
    assert (notice.kind, notice.channel) == ("appointment_cancelled", "email")
    assert "METHOD:CANCEL" in (notice.attachment_ics or "")
