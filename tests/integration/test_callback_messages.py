"""Callback texts go only to the number that called, at once, and only when asked for."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from core.db import utcnow
from core.events import publish
from notifications.models import OutboxMessage
from notifications.sms import is_gsm7, segments
from scheduler.events import CallbackRequested, CallbackUnreachable

WINDOW = (datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc), datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc))


def _rows(db):  # type: ignore[no-untyped-def]
    with db.session() as s:
        return s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_confirmation_text_goes_to_the_calling_number_once(runtime):
    db = runtime.db
    for _ in range(2):  # a replayed webhook publishes again: the idempotency key keeps it to one text
        with db.write_session() as s:
            publish(s, CallbackRequested(7, "+31612345678", "nl", True, *WINDOW))
    rows = _rows(db)
    assert [(r.kind, r.channel, r.recipient_kind, r.to_address, r.status) for r in rows] == [
        ("callback_confirmation", "sms", "caller", "+31612345678", "pending")]
    assert rows[0].body == "Bedankt voor uw verzoek. Wij bellen u terug op di 1 dec tussen 9:00 en 12:00 uur."
    assert rows[0].not_before <= utcnow() and not rows[0].is_reminder  # at once, never held for quiet hours


def test_no_text_without_consent_or_without_a_calling_number(runtime):
    db = runtime.db
    with db.write_session() as s:
        publish(s, CallbackRequested(8, "+31612345678", "nl", False, *WINDOW))
        publish(s, CallbackRequested(9, None, "en", True, *WINDOW))  # withheld: nobody to text
        publish(s, CallbackUnreachable(10, "+31612345678", "nl", texts_allowed=False))
    assert _rows(db) == []


def test_unreachable_text_in_english(runtime):
    db = runtime.db
    with db.write_session() as s:
        publish(s, CallbackUnreachable(11, "+447700900123", "en", texts_allowed=True))
    [row] = _rows(db)
    assert row.kind == "callback_unreachable" and row.to_address == "+447700900123"
    assert row.body.startswith("We tried to call you back")
    assert is_gsm7(row.body) and segments(row.body) == 1
