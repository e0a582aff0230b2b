"""A caller who calls again gets the latest window, and never a waiting text with the old one.

The second call updates the open request for that number (telephony.callbacks)
and publishes CallbackRequested again: the confirmation still waiting is
cancelled in that transaction and a new window gets a text of its own, even a
window the caller had before; the same wishes again (a replay) change nothing.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, update

from notifications.models import OutboxMessage
from telephony.callbacks import Choices, Window, submit
from tests.conftest import both_databases

NUMBER = "+31612345678"
MORNING = Window(datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc), datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc))
AFTERNOON = Window(datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc), datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc))


def _call(runtime: Any, window: Window, *, wants: bool = True, language: str = "nl", sid: str = "CA1") -> int:
    with runtime.db.write_session() as s:
        return submit(s, Choices(number=NUMBER, number_typed_in=False, caller_number=NUMBER, language=language,
                                 moment="morning", may_identify=False, wants_confirmation=wants, call_sid=sid),
                      window)


def _texts(runtime: Any) -> list[tuple[str, str]]:
    with runtime.db.session() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "callback_confirmation")
                         .order_by(OutboxMessage.id))
        return [(r.status, r.body) for r in rows]


def _mark_sent(runtime: Any) -> None:
    with runtime.db.write_session() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.status == "pending").values(status="sent"))


@both_databases
def test_a_new_window_cancels_the_waiting_text_and_writes_one_with_the_new_window(runtime):
    first = _call(runtime, MORNING, sid="CA1")
    assert _call(runtime, AFTERNOON, sid="CA2") == first  # the same open request, updated
    texts = _texts(runtime)
    assert [status for status, _ in texts] == ["cancelled", "pending"]
    assert "tussen 9:00 en 12:00" in texts[0][1] and "tussen 12:00 en 16:00" in texts[1][1]


def test_a_caller_whose_first_text_went_gets_one_with_the_new_window(runtime):
    _call(runtime, MORNING, sid="CA1")
    _mark_sent(runtime)
    _call(runtime, AFTERNOON, sid="CA2")
    assert [(status, "12:00 en 16:00" in body) for status, body in _texts(runtime)] == [
        ("sent", False), ("pending", True)]


def test_back_to_an_earlier_window_is_a_new_text_again(runtime):
    _call(runtime, MORNING, sid="CA1")
    _mark_sent(runtime)
    _call(runtime, AFTERNOON, sid="CA2")
    _call(runtime, MORNING, sid="CA3")
    assert [(status, "9:00 en 12:00" in body) for status, body in _texts(runtime)] == [
        ("sent", True), ("cancelled", False), ("pending", True)]


def test_the_same_wishes_again_change_nothing_and_other_wishes_do(runtime):
    _call(runtime, MORNING, sid="CA1")
    _call(runtime, MORNING, sid="CA1")
    assert [status for status, _ in _texts(runtime)] == ["pending"]
    _call(runtime, MORNING, language="en", sid="CA2")
    assert [(status, body.startswith("Thank")) for status, body in _texts(runtime)] == [
        ("cancelled", False), ("pending", True)]


def test_a_second_call_without_a_text_withdraws_the_waiting_one(runtime):
    _call(runtime, MORNING, sid="CA1")
    _call(runtime, AFTERNOON, wants=False, sid="CA2")
    assert [status for status, _ in _texts(runtime)] == ["cancelled"]
