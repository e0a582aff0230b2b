"""A participant's message skipped at send time because its address is no longer theirs tells the mediators.

Normally a details change writes waiting messages again to the new address
(notifications.replan); a change that bypassed it leaves rows the send job
skips as address_changed, and that must not pass silently.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.db import utcnow
from notifications.mediator_notices import notify_address_changed
from notifications.models import OutboxMessage
from scheduler.models import Participant
from tests.integration.sms_helpers import send_once
from tests.integration.test_replan_participant_messages import NEW_PHONE, _book, _open


def _notices(runtime: Any) -> list[OutboxMessage]:
    with runtime.db.session() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "mediator_notice",
                                                          OutboxMessage.idempotency_key.startswith("address:"))))


def test_a_message_skipped_as_address_changed_tells_the_mediators_once_per_appointment(runtime):
    w, pid, _ = _book(runtime)
    with runtime.db.write_session() as s:  # not through update_participant: nothing is written again
        s.get(Participant, pid).phone = NEW_PHONE
    texts = [r for r in _open(runtime) if r.channel == "sms"]
    assert [send_once(runtime, r.id, r.not_before) for r in texts[:2]] == ["skipped:address_changed"] * 2
    for row in texts[:2]:
        with runtime.db.write_session() as s:
            notify_address_changed(s, runtime.settings, row.id, utcnow())
    notices = _notices(runtime)
    assert sorted(n.mediator_id for n in notices) == sorted(w.mediator_ids)  # the case's mediators, once each
    notice = notices[0]
    assert notice.subject.startswith("Bericht niet verstuurd: gegevens van een deelnemer gewijzigd")
    assert "niet verstuurd" in notice.body and f"nr. {pid}" in notice.body
    assert NEW_PHONE not in notice.body and texts[0].to_address not in notice.body
    with runtime.db.session() as s:
        assert s.get(Participant, pid).name not in notice.body


def test_the_send_job_itself_tells_the_mediators(runtime):
    """Through the RQ entry point: the skip and the notice commit together."""
    from sqlalchemy import update

    from core.jobcontext import job_runtime_as
    from notifications.jobs import send_message

    w, pid, _ = _book(runtime)
    with runtime.db.write_session() as s:
        s.get(Participant, pid).phone = NEW_PHONE
    text = next(r for r in _open(runtime) if r.channel == "sms" and r.kind == "appointment_confirmed")
    with runtime.db.write_session() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == text.id).values(status="queued", attempts=1))
    with job_runtime_as(runtime):
        assert send_message(text.id, 1) == "skipped:address_changed"
    assert sorted(n.mediator_id for n in _notices(runtime)) == sorted(w.mediator_ids)
