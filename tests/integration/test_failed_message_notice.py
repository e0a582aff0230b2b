"""A participant's message that finally fails is dead, visible, and its mediator is told."""
from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select, update

from app import create_app
from core.db import utcnow
from notifications.jobs import send_message
from notifications.models import OutboxMessage
from scheduler import booking
from tests.integration.booking_helpers import build_world, future_start, request
from tests.support.fixtures import smtp_server, twilio_standin  # noqa: F401
from tests.integration.booking_helpers import POLICY


@pytest.fixture
def wired(settings, twilio_standin, smtp_server):  # noqa: F811 - fixtures by name
    app = create_app(replace(settings, **twilio_standin.settings_changes(), **smtp_server.settings_changes()))
    yield app.extensions["pendel"]
    app.extensions["pendel"].db.dispose()


def test_a_dead_participant_sms_tells_the_mediator_by_email(wired, twilio_standin, smtp_server):  # noqa: F811
    db = wired.db
    w = build_world(db)
    with db.write_session() as s:
        booking.book(s, request(w, start=future_start()), None, utcnow(), policy=POLICY)
    with db.session() as s:
        sms = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "appointment_confirmed",
                                                   OutboxMessage.channel == "sms"))
    # No permission for the number's region: ours to fix, nothing said about the number itself (for
    # verdicts on the number, 21610 and 21211, see test_provider_verdicts.py).
    twilio_standin.fail_number(sms.to_address[-4:], status=400, code=21408)
    with db.write_session() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == sms.id).values(status="queued", attempts=1))
    assert send_message(sms.id, 1) == "dead"
    with db.session() as s:
        assert s.get(OutboxMessage, sms.id).status == "dead"
        notices = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient_kind == "mediator",
                                                        OutboxMessage.subject.like("Sms niet afgeleverd%"))).all()
    assert sorted((n.mediator_id, n.channel, n.status) for n in notices) == [  # both mediators of the case
        (m, "email", "pending") for m in w.mediator_ids]
    assert "21408" in notices[0].body and sms.to_address not in notices[0].body
    # A second run of the same (stale) job changes nothing and queues no second notice.
    assert send_message(sms.id, 1) == "stale"
