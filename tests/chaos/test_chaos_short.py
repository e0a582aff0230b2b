"""The chaos run in the suite: 25 s of faults under traffic, then the same checks as `make chaos`.

tests/chaos/run.py in small (`short_config`; replay with `python -m
tests.chaos.run --short --seed 11`): three gunicorn workers, two worker.py,
two client threads, a fault every 0.8 to 1.6 s, so the run's
first tour meets every kind of fault once (each kill, a Redis restart, a
database cut, Twilio and SMTP each timing out, failing for a while and
failing for good). Then `/readyz` must answer 200 again (how soon is
printed: the suite asserts no wall-clock duration, `make chaos` holds it to
30 s), four seconds of traffic must meet no error, the outbox must settle
and every check must hold: no double booking, no message lost or sent after
its cancellation or withdrawal, a dead message only from a permanent
provider failure and shown to staff, no callback request lost, no personal
data in the system's logs. The outbox settles with its retry and lease
timers moved to now (tests/chaos/settle.py: what minutes of waiting would
do); `make chaos` waits for real. The 500-bookings and 20-kills targets are
`make chaos`'s, not this run's.
"""
from __future__ import annotations

import io
import random

from tests.chaos.report import summary
from tests.chaos.run import run_chaos, short_config
from tests.chaos.schedule import tour

SEED = 11


def test_a_short_chaos_run_keeps_every_invariant(pg_url: str) -> None:  # pg_url: skips without PostgreSQL
    progress = io.StringIO()
    outcome = run_chaos(short_config(SEED), out=progress)
    report = progress.getvalue() + summary(outcome)
    print(report)  # shown by pytest on failure, and with -s
    assert outcome.ok, report
    # The first tour met every kind (a work horse may have had no job at its turns, hence at least 11 of 12).
    assert len({f.kind for f in outcome.faults} & set(tour(random.Random(0)))) >= 11, report
    assert outcome.bookings and outcome.ledger.cancelled and outcome.ledger.withdrawn, report
    assert outcome.callbacks.walks and outcome.callbacks.web, report
