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

import os
import signal
import time
from collections import Counter
from typing import Iterator

import pytest

from tests.support import invariants
from tests.support.office import seed_office
from tests.support.private_redis import is_running
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


def test_a_killed_worker_is_restarted_and_its_group_cleared(system: System) -> None:
    """What a chaos run relies on: SIGKILL a worker.py, the harness clears its group and starts a new one."""
    old_worker, old_periodic = system.worker_pids()[0], system.periodic_pids()[0]
    assert old_worker and old_periodic
    restarts = system.worker_restarts
    os.kill(old_worker, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not (system.worker_restarts > restarts and system.periodic_pids()[0]):
        assert time.monotonic() < deadline, "the killed worker.py was not restarted\n" + system.tail()
        time.sleep(0.1)
    assert system.worker_pids()[0] not in (None, old_worker)
    assert not is_running(old_periodic), "the killed worker's periodic child outlived it"
    system.wait_ready(timeout=30)
