"""The whole system under mixed traffic for a few seconds: no unexpected answer, every invariant holds.

Pendel as production runs it (tests/support/system.py: gunicorn, two
worker.py processes with their periodic children, a private Redis, the
Twilio and SMTP stand-ins, a database of its own), a small office
(tests/support/office.py), and ~15 s of every kind of traffic at once
(tests/support/traffic.py): phone-line walks, web callback requests,
searches, bookings racing for the same slots, reschedules, cancellations,
withdrawals, feeds, staff and participant pages. Then the outbox is let to
settle and tests/support/invariants.py checks the database and what the
stand-ins received (tests/integration/test_invariants_check.py shows each
check fails on a planted fault). Timings are not asserted: bench/load.py
prints them.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterator

import pytest

from tests.support import invariants
from tests.support.office import seed_office
from tests.support.system import System
from tests.support.traffic import Traffic
from tests.support.traffic_mix import run_mix

SECONDS, CONCURRENCY, SEED = 15.0, 4, 7
KINDS = {"ivr walk", "web callback", "availability", "booking", "reschedule", "cancellation", "withdrawal", "feed",
         "staff page", "participant page"}


@pytest.fixture(scope="module")
def system(pg_url: str) -> Iterator[System]:  # pg_url: skips (or fails under CI) without PostgreSQL
    with System(web_workers=3, worker_processes=2) as running:
        running.wait_ready(timeout=60)
        yield running


def test_mixed_traffic_keeps_every_invariant(system: System) -> None:
    office = seed_office(system.engine, mediators=6, booking_cases=24, withdrawal_cases=40, callers=40)
    ledger = invariants.Ledger()
    report = run_mix(Traffic(system, office, ledger), SECONDS, CONCURRENCY, SEED)

    assert not report.errors, "\n".join(report.error_notes()) + "\n" + report.table()
    assert KINDS <= {r.kind for r in report.results}, report.table()
    kinds = Counter(r.kind for r in report.results if r.outcome == "ok")
    assert kinds["booking"] and kinds["cancellation"] and kinds["withdrawal"], report.table()
    assert invariants.settle(system.engine, timeout=60), "the outbox did not settle\n" + system.tail()
    with system.engine.connect() as conn:
        found = invariants.check(conn, providers=invariants.provider_records(system.twilio, system.smtp),
                                 ledger=ledger)
        sent = conn.exec_driver_sql("SELECT count(*) FROM outbox_messages WHERE status = 'sent'").scalar()
    assert not found, invariants.report(found)
    assert sent and system.twilio.messages and system.smtp.messages
    assert ledger.cancelled and ledger.withdrawn
    assert system.worker_restarts == 0
