"""What must hold after a chaos run has settled, on top of tests/support/invariants.py.

`invariants.check` already finds overlapping live reservations (double
bookings), messages due and unsent, sent rows the providers never got, sends
after a cancellation or withdrawal was answered (by the outbox's clock and
by the stand-ins'), and two open callback requests for one number. Crashes
are part of the run, so a provider may hold a message the outbox does not
call sent (the one duplicate the design allows: a process died after the
provider took it and before the commit); those are counted, not refused.

What a chaos run adds:

- lost messages: after settling, a row still on its way (tests/chaos/settle.py);
- a message may be `dead` only if it died while its provider failed for
  good (a permanent window of its channel, from a provider timeout before it
  opened to its close), with a permanent error; the confirmations check
  accepts such a dead confirmation in place of a sent one, and every dead
  row must be listed to staff by `GET /api/v1/messages?status=dead`;
- lost callback requests: every walk and web form the caller heard succeed
  has its request in the database, and each request that asked for a
  confirmation text has one that went (or died in a permanent window);
- personal data in the system's own logs (gunicorn's, each worker.py's),
  by the suite's log guard patterns, since tracebacks are what crashes leave.

Each check returns `invariants.Violation`s: a name, a count, a few ids.
"""
from __future__ import annotations

import os
import re
from datetime import datetime
from typing import Any

import requests
from sqlalchemy import text
from sqlalchemy.engine import Connection

from tests.chaos.faults import Fault
from tests.chaos.settle import ON_ITS_WAY
from tests.chaos.traffic import CallbackLedger
from tests.support import invariants
from tests.support.invariants import Violation
from tests.support.log_guard import PATTERNS

SENT = invariants.SENT
# A send's outcome is stamped with the time its job began, before the provider call: a job that began this
# long before a permanent window opened may still have met it (the Twilio client gives up after 10 s, SMTP 30 s).
EARLY = {"sms": 15.0, "email": 35.0}
LATE = 1.0
NAMES = re.compile(r"\bDeelnemer [BW] \d+[ab]\b")  # the office's made-up participants (tests/support/office.py)


def _found(name: str, rows: list[Any]) -> list[Violation]:
    return [Violation(name, len(rows), tuple(r[0] for r in rows))] if rows else []


def excused(faults: list[Fault], channel: str, finished_at: datetime | None, last_error: str | None) -> bool:
    """A dead message the run's permanent provider failure explains."""
    if finished_at is None or not (last_error or "").startswith("permanent"):
        return False
    at = finished_at.timestamp()
    return any(f.started - EARLY[channel] <= at <= f.ended + LATE for f in faults if f.kind == f"{channel} permanent")


def lost_messages(conn: Connection, now: datetime) -> list[Violation]:
    return _found("messages still on their way after settling (lost or stuck)", list(conn.execute(
        text(f"SELECT id FROM outbox_messages WHERE {ON_ITS_WAY} ORDER BY id"), {"now": now})))


def confirmations(conn: Connection, now: datetime, faults: list[Fault]) -> list[Violation]:
    """invariants.missing_confirmations, where a confirmation that died in a permanent window counts as told."""
    missing = invariants.missing_confirmations(conn, now)
    left = []
    for triple in (missing[0].ids if missing else ()):
        appointment, participant, channel = str(triple).split("/")
        dead = conn.execute(text("""
            SELECT o.finished_at, o.last_error FROM outbox_messages o JOIN appointments a ON a.id = o.appointment_id
             WHERE o.appointment_id = :a AND o.participant_id = :p AND o.channel = :c AND o.status = 'dead'
               AND o.appointment_version = a.version
               AND o.kind IN ('appointment_confirmed', 'appointment_rescheduled')"""),
            {"a": int(appointment), "p": int(participant), "c": channel}).all()
        if not any(excused(faults, channel, d.finished_at, d.last_error) for d in dead):
            left.append((triple,))
    return _found(missing[0].name, left) if missing else []


def dead_messages(conn: Connection, faults: list[Fault]) -> list[Violation]:
    rows = conn.execute(text("SELECT id, channel, finished_at, last_error FROM outbox_messages WHERE status = 'dead'"))
    return _found("dead messages outside a permanent provider failure",
                  [(r.id,) for r in rows if not excused(faults, r.channel, r.finished_at, r.last_error)])


def dead_visible_to_staff(conn: Connection, base_url: str, api_token: str) -> list[Violation]:
    """Every dead row is listed by the messages API (paged by before_id), as staff would look for it."""
    dead = set(conn.execute(text("SELECT id FROM outbox_messages WHERE status = 'dead'")).scalars())
    listed: set[int] = set()
    before: int | None = None
    while True:
        query = {"status": "dead", "limit": 500, **({"before_id": before} if before else {})}
        answer = requests.get(base_url + "/api/v1/messages", params=query, timeout=30,
                              headers={"Authorization": f"Bearer {api_token}"})
        if answer.status_code != 200:
            return [Violation(f"the messages API answered {answer.status_code} for dead messages", 1)]
        page = [m["id"] for m in answer.json()["messages"]]
        listed.update(page)
        if len(page) < 500:
            break
        before = min(page)
    return _found("dead messages staff are not shown", [(i,) for i in sorted(dead - listed)])


def lost_callbacks(conn: Connection, ledger: CallbackLedger) -> list[Violation]:
    walks = conn.execute(text("""
        SELECT s FROM unnest(CAST(:sids AS text[])) AS s WHERE NOT EXISTS (
          SELECT 1 FROM ivr_calls c JOIN callback_requests r ON r.id = c.callback_id WHERE c.call_sid = s)"""),
        {"sids": sorted(ledger.walks)}).all()
    web = conn.execute(text("""
        SELECT n FROM unnest(CAST(:numbers AS text[])) AS n WHERE NOT EXISTS (
          SELECT 1 FROM callback_requests r WHERE r.number = n)"""), {"numbers": sorted(ledger.web)}).all()
    # Neither CallSids nor numbers are shown: counts only.
    return (_found("phone-line callback requests the caller heard taken, not in the queue", [("-",) for _ in walks])
            + _found("web callback requests answered as taken, not in the queue", [("-",) for _ in web]))


def callback_confirmations(conn: Connection, faults: list[Fault]) -> list[Violation]:
    rows = conn.execute(text("""
        SELECT r.id, o.status, o.finished_at, o.last_error FROM callback_requests r
          LEFT JOIN outbox_messages o ON o.idempotency_key = 'callback:' || r.id || ':callback_confirmation:sms'
         WHERE r.wants_confirmation"""))
    return _found("callback requests whose confirmation text did not go", [
        (r.id,) for r in rows if r.status not in SENT
        and not (r.status == "dead" and excused(faults, "sms", r.finished_at, r.last_error))])


def personal_data_in_logs(logdir: str) -> list[Violation]:
    found: dict[str, int] = {}
    patterns: dict[str, Any] = {**PATTERNS, "participant name": NAMES}
    for name in sorted(os.listdir(logdir)):
        if not name.endswith(".log"):
            continue
        with open(os.path.join(logdir, name), encoding="utf-8", errors="replace") as f:
            content = f.read()
        for kind, pattern in patterns.items():
            if pattern.search(content):
                found[f"{name}: {kind}"] = found.get(f"{name}: {kind}", 0) + len(pattern.findall(content))
    return [Violation(f"personal data in the system's logs ({where})", n) for where, n in sorted(found.items())]


def check_all(conn: Connection, now: datetime, *, system: Any, api_token: str, ledger: invariants.Ledger,
              callbacks: CallbackLedger, faults: list[Fault]) -> list[Violation]:
    """Every violation after the run (an empty list when all hold)."""
    providers = invariants.provider_records(system.twilio, system.smtp)
    missing = invariants.missing_confirmations(conn, now)
    out = [v for v in invariants.check(conn, now=now, providers=providers, ledger=ledger, allow_unrecorded=True)
           if v not in missing]
    out += confirmations(conn, now, faults) + lost_messages(conn, now) + dead_messages(conn, faults)
    out += dead_visible_to_staff(conn, system.base_url, api_token)
    out += lost_callbacks(conn, callbacks) + callback_confirmations(conn, faults)
    return out + personal_data_in_logs(system.logdir)
