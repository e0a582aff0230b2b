"""Nothing is lost, nothing is sent that should not be (invariant 3), under real failures.

Real PostgreSQL, a PRIVATE redis-server started here (so flushing and
restarting it disturbs nobody), the Twilio stand-in (the real `twilio` client)
and a real SMTP server (aiosmtpd). Time is not waited out: where a backoff or
a lease has to pass, the dispatcher is simply asked "what is due at <later>?".
Every due message must end sent or dead; duplicates only where the provider
had accepted before the kill.

This module: provider failures, transient and permanent. Killed workers and
lost Redis state: test_delivery_crash_recovery.py; cancellations:
test_delivery_cancellation.py; their shared fixtures: delivery_support.py.
"""
from __future__ import annotations

from datetime import timedelta

import redis

from core.db import utcnow
from core.runtime import Runtime
from tests.integration.delivery_support import (NUMBER, conn, delivery, dispatch,  # noqa: F401 - fixtures
                                                private_redis, run_until_settled, work)
from tests.integration.test_dispatch import id_base, make_row, rows
from tests.support.fixtures import smtp_server, twilio_standin  # noqa: F401 - the fixtures
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_standin import TwilioStandin


# --- (a) transient failures, then success ---------------------------------------------

def test_transient_failures_are_retried_with_backoff_until_sent(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin, smtp_server: SmtpServer) -> None:
    base, now = id_base(), utcnow()
    twilio_standin.fail_next(1, status=503)
    twilio_standin.fail_next(1, status=429)
    smtp_server.fail_next(2, "451 4.3.0 try later")
    with delivery.db.write_session() as s:
        make_row(s, base, now, to_address=NUMBER)
        make_row(s, base + 1, now, channel="email", kind="mediator_notice", recipient_kind="mediator",
                 to_address="bemiddelaar@example.org", subject="Nieuwe afspraak", body="Zie de agenda.")
    assert dispatch(delivery, conn, now) == 2
    work(conn)
    first = rows(delivery.db)
    for r in first.values():
        assert (r.status, r.attempts) == ("pending", 1)
        assert now + timedelta(seconds=1) <= r.next_attempt_at <= utcnow() + timedelta(seconds=30)
        assert NUMBER not in (r.last_error or "") and "bemiddelaar" not in (r.last_error or "")
    assert first[base].last_error.startswith("transient: Twilio HTTP 503")
    assert first[base + 1].last_error.startswith("transient: SMTP 451 4.3.0 at DATA")
    assert dispatch(delivery, conn, now) == 0  # not before its backoff

    run_until_settled(delivery, conn)
    final = rows(delivery.db)
    assert [(r.status, r.attempts, r.last_error) for r in final.values()] == [("sent", 3, None)] * 2
    assert [r.status for r in twilio_standin.requests] == [503, 429, 201]
    assert final[base].provider_id == twilio_standin.messages[0].sid
    form = twilio_standin.messages[0].form
    assert form["To"] == NUMBER and form["StatusCallback"] == f"https://pendel.test/telephony/sms/status?message={base}"
    assert [m.rcpt_tos for m in smtp_server.messages] == [("bemiddelaar@example.org",)]
    assert final[base + 1].provider_id == smtp_server.messages[0].message["Message-ID"]
    # Before Twilio's first status callback, the row shows what Twilio said on accepting it.
    assert (final[base].provider_status, final[base + 1].provider_status) == ("queued", None)


def test_a_429_with_retry_after_waits_at_least_that_long(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin) -> None:
    base, now = id_base(), utcnow()
    twilio_standin.fail_next(1, status=429, retry_after="600")  # far beyond the first backoff's 30 s
    with delivery.db.write_session() as s:
        make_row(s, base, now, to_address=NUMBER)
    dispatch(delivery, conn, now)
    work(conn)
    row = rows(delivery.db)[base]
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "transient: Twilio HTTP 429, error 20429"
    assert row.next_attempt_at >= now + timedelta(seconds=600)
    assert dispatch(delivery, conn, now + timedelta(seconds=599)) == 0  # the backoff alone would be due
    assert dispatch(delivery, conn, row.next_attempt_at) == 1
    work(conn)
    assert [(r.status, r.attempts) for r in rows(delivery.db).values()] == [("sent", 2)]


# --- (b) permanent failures, and transient ones that never end ----------------------------

def test_permanent_failure_is_dead_at_once_and_never_tried_again(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin, smtp_server: SmtpServer) -> None:
    base, now = id_base(), utcnow()
    twilio_standin.fail_number(NUMBER[-4:], status=400, code=21610)  # unsubscribed
    smtp_server.reject_recipient("weg@example.org")
    with delivery.db.write_session() as s:
        make_row(s, base, now, to_address=NUMBER)
        make_row(s, base + 1, now, channel="email", recipient_kind="mediator", kind="mediator_notice",
                 to_address="weg@example.org", subject="Afspraak")
    dispatch(delivery, conn, now)
    work(conn)
    final = rows(delivery.db)
    assert [(r.status, r.attempts) for r in final.values()] == [("dead", 1)] * 2
    assert final[base].last_error == "permanent: Twilio HTTP 400, error 21610"
    assert final[base + 1].last_error == "permanent: SMTP 550 5.1.1 at RCPT"
    assert dispatch(delivery, conn, now + timedelta(days=2)) == 0
    work(conn)
    assert len(twilio_standin.requests) == 1 and len(smtp_server.rejections) == 1
    assert [(r.status, r.attempts) for r in rows(delivery.db).values()] == [("dead", 1)] * 2


def test_a_transient_failure_that_never_ends_is_dead_after_the_attempt_limit(
        delivery: Runtime, conn: redis.Redis, twilio_standin: TwilioStandin) -> None:
    base = id_base()
    twilio_standin.fail_always(status=503)
    with delivery.db.write_session() as s:
        make_row(s, base, utcnow(), to_address=NUMBER)
    run_until_settled(delivery, conn)
    row = rows(delivery.db)[base]
    assert (row.status, row.attempts) == ("dead", 4)
    assert row.last_error.startswith("transient: Twilio HTTP 503") and row.last_error.endswith("(after 4 attempts)")
    assert len(twilio_standin.requests) == 4
