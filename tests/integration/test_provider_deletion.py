"""TWILIO_DELETE_SENT_MESSAGES: texts that reached their final status are deleted at Twilio too.

Real PostgreSQL, a private redis-server with a real RQ worker, the Twilio stand-in for the real
`twilio` client (DELETE /Messages/<sid> removes its stored copy, a second DELETE is a 404).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import redis
from rq import Queue
from sqlalchemy import update

from core.db import utcnow
from core.periodic import run_task
from core.runtime import Runtime
from notifications.models import OutboxMessage
from notifications.periodic import DELETE_AT_PROVIDER
from tests.integration.delivery_support import (NUMBER, QUEUE, conn, delivery,  # noqa: F401 - fixtures
                                                private_redis, run_until_settled, work)
from tests.integration.test_dispatch import id_base, make_row, rows
from tests.support.fixtures import smtp_server, twilio_standin  # noqa: F401 - the fixtures
from tests.support.twilio_standin import TwilioStandin


def _three_sent_texts_and_an_email(runtime: Runtime, conn: redis.Redis) -> int:
    """Texts: one delivered, one just sent (no final word yet), one sent two days ago and never reported."""
    base, now = id_base(), utcnow()
    with runtime.db.write_session() as s:
        for i in range(3):
            make_row(s, base + i, now, to_address=NUMBER)
        make_row(s, base + 3, now, channel="email", kind="mediator_notice", recipient_kind="mediator",
                 to_address="bemiddelaar@example.org", subject="Nieuwe afspraak", body="Zie de agenda.")
    run_until_settled(runtime, conn)
    with runtime.db.write_session() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == base).values(provider_status="delivered"))
        s.execute(update(OutboxMessage).where(OutboxMessage.id == base + 2)
                  .values(sent_at=now - timedelta(days=2)))
    return base


def _tick(runtime: Runtime, conn: redis.Redis, on: bool = True) -> int | None:
    settings = replace(runtime.settings, twilio_delete_sent=on)
    return run_task(DELETE_AT_PROVIDER, runtime.db, utcnow(), settings, Queue(QUEUE, connection=conn))


def _deleted_sids(standin: TwilioStandin) -> list[str]:
    return [r.path.rsplit("/", 1)[1].removesuffix(".json") for r in standin.requests
            if r.method == "DELETE" and r.status == 204]


def test_texts_past_delivery_are_deleted_at_twilio_and_marked(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin) -> None:
    base = _three_sent_texts_and_an_email(delivery, conn)
    assert _tick(delivery, conn) == 2
    work(conn)
    done = rows(delivery.db)
    assert sorted(_deleted_sids(twilio_standin)) == sorted([done[base].provider_id, done[base + 2].provider_id])
    assert done[base].provider_deleted_at and done[base + 2].provider_deleted_at
    assert done[base + 1].provider_deleted_at is None and done[base + 3].provider_deleted_at is None
    assert (done[base].status, done[base].body) == ("sent", "We bellen u terug.")  # our own copy: retention's
    assert _tick(delivery, conn) == 0  # each only once


def test_off_by_default_nothing_is_deleted(delivery: Runtime, conn: redis.Redis,
                                           twilio_standin: TwilioStandin) -> None:
    _three_sent_texts_and_an_email(delivery, conn)
    assert delivery.settings.twilio_delete_sent is False
    assert _tick(delivery, conn, on=False) == 0
    work(conn)
    assert not [r for r in twilio_standin.requests if r.method == "DELETE"]


def test_a_twilio_away_leaves_them_for_a_later_tick_and_a_copy_gone_before_counts(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin) -> None:
    base = _three_sent_texts_and_an_email(delivery, conn)
    twilio_standin.stop()
    assert _tick(delivery, conn) == 2
    assert _tick(delivery, conn) == 0  # its job still waits in the queue: no second one
    work(conn)
    assert all(r.provider_deleted_at is None for r in rows(delivery.db).values())
    twilio_standin.start()
    first_sid = rows(delivery.db)[base].provider_id
    twilio_standin._stored.pop(first_sid)  # deleted at Twilio by hand meanwhile: the next DELETE is a 404
    assert _tick(delivery, conn) == 2
    work(conn)
    done = rows(delivery.db)
    assert done[base].provider_deleted_at and done[base + 2].provider_deleted_at
