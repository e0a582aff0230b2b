"""Twilio's message status callbacks, and inbound messages that arrive at the same moment.

Callbacks come late, twice and out of order; a row only ever moves forward,
a cancelled row keeps its status, and a participant's SMS that finally fails
is reported to their mediator once.
"""
from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select

from core.db import utcnow
from notifications.models import OutboxMessage
from tests.conftest import both_databases
from tests.integration.sms_helpers import build_world, messages, sid, snapshot, status, text_in


@pytest.fixture
def world(runtime: Any) -> dict[str, Any]:
    return build_world(runtime)


def _sent_sms(runtime: Any, world: dict[str, Any], provider_id: str) -> int:
    with runtime.db.write_session() as s:
        row = s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "sms")).one()
        row.status, row.provider_id, row.provider_status, row.sent_at = "sent", provider_id, "queued", utcnow()
        return row.id


@both_databases
def test_status_callbacks_move_forward_only(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    row_id = _sent_sms(runtime, world, "SMout1")
    for value in ("delivered", "sent", "sending", "delivered", "undelivered", "failed"):
        assert status(client, "SMout1", value).status_code == 200
    with runtime.db.session() as s:
        row = s.get(OutboxMessage, row_id)
        assert (row.status, row.provider_status, row.last_error) == ("delivered", "delivered", None)
    assert messages(runtime, "mediator_notice") == []


def test_status_callbacks_in_order(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    row_id = _sent_sms(runtime, world, "SMout2")
    status(client, "SMout2", "sent")
    with runtime.db.session() as s:
        assert (s.get(OutboxMessage, row_id).status, s.get(OutboxMessage, row_id).provider_status) == ("sent", "sent")
    status(client, "SMout2", "delivered")
    with runtime.db.session() as s:
        row = s.get(OutboxMessage, row_id)
        assert (row.status, row.provider_status) == ("delivered", "delivered") and row.finished_at is not None


def test_an_undelivered_sms_to_a_participant_tells_their_mediator_once(client: Any, runtime: Any,
                                                                       world: dict[str, Any]) -> None:
    row_id = _sent_sms(runtime, world, "SMout3")
    for _ in range(2):
        assert status(client, "SMout3", "undelivered", error="30003").status_code == 200
    status(client, "SMout3", "delivered")
    with runtime.db.session() as s:
        row = s.get(OutboxMessage, row_id)
        assert (row.status, row.provider_status) == ("undelivered", "undelivered")
        assert row.last_error == "undelivered at the provider (error 30003)"
    notices = messages(runtime, "mediator_notice")
    assert [(n.mediator_id, n.subject.split(":")[0]) for n in notices] == [(world["m1"], "Sms niet afgeleverd")]
    assert "30003" in notices[0].body and world["phone"] not in notices[0].body


def test_a_cancelled_row_keeps_its_status_and_an_unknown_sid_changes_nothing(client: Any, runtime: Any,
                                                                             world: dict[str, Any]) -> None:
    row_id = _sent_sms(runtime, world, "SMout4")
    with runtime.db.write_session() as s:
        s.get(OutboxMessage, row_id).status = "cancelled"
    before = snapshot(runtime)
    assert status(client, "SMnobody", "failed").status_code == 200
    assert status(client, "SMout4", "bogus").status_code == 200
    assert snapshot(runtime) == before
    status(client, "SMout4", "failed", error="30005")
    with runtime.db.session() as s:
        row = s.get(OutboxMessage, row_id)
        assert (row.status, row.provider_status) == ("cancelled", "failed")
    assert messages(runtime, "mediator_notice") == []


def _at_once(calls: list[Any]) -> list[int]:
    """Run the requests in parallel threads, released together; their status codes."""
    barrier = threading.Barrier(len(calls))
    codes: list[int] = []

    def run(call: Any) -> None:
        barrier.wait()
        codes.append(call().status_code)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return codes


def test_parallel_retries_of_one_inbound_sms_act_once(app: Any, runtime: Any, world: dict[str, Any]) -> None:
    message_sid = sid()
    codes = _at_once([lambda: text_in(app.test_client(), world["phone"], "Stoppen", message_sid)
                      for _ in range(4)])
    assert codes == [200] * 4
    assert snapshot(runtime)["inbound"] == 1
    assert len(messages(runtime, "auto_reply")) == 1 and len(messages(runtime, "mediator_notice")) == 2


def test_parallel_unknown_texts_get_one_answer(app: Any, runtime: Any, world: dict[str, Any]) -> None:
    codes = _at_once([lambda: text_in(app.test_client(), "+31687654321", "hallo") for _ in range(3)])
    assert codes == [200] * 3
    assert snapshot(runtime)["inbound"] == 3
    assert len(messages(runtime, "auto_reply")) == 1


def test_parallel_failure_callbacks_notify_once(app: Any, runtime: Any, world: dict[str, Any]) -> None:
    row_id = _sent_sms(runtime, world, "SMout5")
    codes = _at_once([lambda: status(app.test_client(), "SMout5", "undelivered", "30003") for _ in range(3)]
                     + [lambda: status(app.test_client(), "SMout5", "sent")])
    assert codes == [200] * 4
    with runtime.db.session() as s:
        assert s.get(OutboxMessage, row_id).status == "undelivered"
    assert len(messages(runtime, "mediator_notice")) == 1


def test_a_status_that_outruns_the_send_jobs_commit_waits_for_it(client: Any, runtime: Any,
                                                                 world: dict[str, Any]) -> None:
    """The job holds the row lock through the provider call; Twilio's "failed" may arrive before it commits."""
    from tests.integration.sms_helpers import post

    with runtime.db.session() as s:
        row_id = s.scalars(select(OutboxMessage.id).where(OutboxMessage.channel == "sms")).one()
    answers: list[int] = []
    job = runtime.db.sessions()
    row = job.get(OutboxMessage, row_id, with_for_update=True)  # the send job, mid provider call
    webhook = threading.Thread(target=lambda: answers.append(post(
        client, f"/telephony/sms/status?message={row_id}",
        {"MessageSid": "SMearly1", "MessageStatus": "failed", "ErrorCode": "30006"}).status_code))
    webhook.start()
    webhook.join(timeout=1.0)
    assert webhook.is_alive(), "the callback must wait for the job's lock"
    row.status, row.provider_id, row.provider_status, row.sent_at = "sent", "SMearly1", "queued", utcnow()
    job.commit()
    job.close()
    webhook.join(timeout=30)
    assert answers == [200]
    with runtime.db.session() as s:
        row = s.get(OutboxMessage, row_id)
        assert (row.status, row.provider_status) == ("undelivered", "failed")
        assert row.last_error == "failed at the provider (error 30006)"
