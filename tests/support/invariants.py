"""The invariants of docs/architecture.md, checked over a whole system after a run has settled.

`check(conn, ...)` reads the database (and, when given, the stand-ins and the
traffic's `Ledger`) and returns the violations it finds: a name, a count and
a few ids, never a name, number, address or message text. It takes a
Connection, so a test can plant a fault inside a transaction (even drop a
constraint), check, and roll it all back.

1. No overlapping live reservations of one mediator, room or participant
   (a self-join; PostgreSQL's exclusion constraints should make it
   impossible), and no live reservation of a cancelled appointment.
3. Every confirmed future appointment has, for each participant still in
   mediation and each channel they allow, a confirmation (or "changed")
   message of its current version that went out. After settling, no message
   that is due is still pending or queued. Every row the outbox calls sent
   reached the provider (the stand-ins' records, by provider id); what
   reached a provider without a sent row is a duplicate, allowed only when
   the caller says crashes were part of the run.
   Nothing went (by the outbox's `sent_at` and by the stand-ins' own clock)
   about an appointment after its cancellation was answered, or to a
   participant after their withdrawal was answered: times from the
   `Ledger`, taken when the client had the answer, so the commit was
   before. (A send that was under way while the cancelling transaction
   waited for its row lock is earlier than that answer, and allowed.)
- The callback queue: at most one open request per number.
"""
from __future__ import annotations

import email
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

ABOUT_APPOINTMENT = ("appointment_confirmed", "appointment_rescheduled", "appointment_reminder")
SENT = ("sent", "delivered", "undelivered")
SHOWN_IDS = 5


@dataclass(frozen=True)
class Violation:
    name: str
    count: int
    ids: tuple[Any, ...] = ()

    def __str__(self) -> str:
        shown = ", ".join(str(i) for i in self.ids[:SHOWN_IDS])
        return f"{self.name}: {self.count}" + (f" (e.g. {shown})" if shown else "")


@dataclass
class Ledger:
    """What the traffic was told, and when (time.time() once the answer was read)."""

    cancelled: dict[int, float] = field(default_factory=dict)    # appointment id -> cancellation answered
    withdrawn: dict[int, float] = field(default_factory=dict)    # participant id -> withdrawal answered
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def cancel(self, appointment_id: int, at: float | None = None) -> None:
        with self._lock:
            self.cancelled.setdefault(appointment_id, time.time() if at is None else at)

    def withdraw(self, participant_id: int, at: float | None = None) -> None:
        with self._lock:
            self.withdrawn.setdefault(participant_id, time.time() if at is None else at)


def _rows(conn: Connection, sql: str, **params: Any) -> list[Any]:
    return list(conn.execute(text(sql), params))


def _found(name: str, rows: list[Any]) -> list[Violation]:
    return [Violation(name, len(rows), tuple(r[0] for r in rows))] if rows else []


def overlaps(conn: Connection) -> list[Violation]:
    out = []
    for column in ("mediator_id", "room_id", "participant_id"):
        out += _found(f"overlapping live reservations ({column.removesuffix('_id')})", _rows(conn, f"""
            SELECT a.appointment_id, b.appointment_id FROM reservations a JOIN reservations b
              ON a.{column} = b.{column} AND a.id < b.id AND a.live AND b.live
             AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"""))
    out += _found("live reservations of cancelled appointments", _rows(conn, """
        SELECT DISTINCT r.appointment_id FROM reservations r JOIN appointments a ON a.id = r.appointment_id
         WHERE r.live AND a.status = 'cancelled'"""))
    return out


def missing_confirmations(conn: Connection, now: datetime) -> list[Violation]:
    """Confirmed future appointments whose participants lack a sent confirmation of the current version."""
    rows = _rows(conn, """
        WITH needed AS (
          SELECT a.id AS appointment_id, a.version, p.id AS participant_id, ch.channel
            FROM appointments a JOIN attendances t ON t.appointment_id = a.id
            JOIN participants p ON p.id = t.participant_id
            CROSS JOIN (VALUES ('sms'), ('email')) AS ch(channel)
           WHERE a.status = 'confirmed' AND a.start > :now AND p.withdrawn_at IS NULL
             AND ((ch.channel = 'sms' AND p.sms_allowed AND p.phone IS NOT NULL)
               OR (ch.channel = 'email' AND p.email_allowed AND p.email IS NOT NULL)))
        SELECT n.appointment_id, n.participant_id, n.channel FROM needed n
         WHERE NOT EXISTS (SELECT 1 FROM outbox_messages o
                            WHERE o.appointment_id = n.appointment_id AND o.participant_id = n.participant_id
                              AND o.channel = n.channel AND o.appointment_version = n.version
                              AND o.kind IN ('appointment_confirmed', 'appointment_rescheduled')
                              AND o.status IN ('sent', 'delivered', 'undelivered'))""", now=now)
    return _found("confirmed appointments without their sent confirmation (appointment, participant, channel)",
                  [(f"{a}/{p}/{c}",) for a, p, c in rows])


def unfinished_messages(conn: Connection, now: datetime) -> list[Violation]:
    return _found("messages due but not sent, dead, cancelled or skipped", _rows(conn, """
        SELECT id FROM outbox_messages
         WHERE status = 'queued' OR (status = 'pending' AND next_attempt_at <= :now) ORDER BY id""", now=now))


def duplicate_callbacks(conn: Connection) -> list[Violation]:
    return _found("numbers with more than one open callback request", _rows(conn, """
        SELECT min(id) FROM callback_requests WHERE status IN ('open', 'in_progress')
         GROUP BY number HAVING count(*) > 1"""))


def provider_records(twilio: Any, smtp: Any) -> dict[str, float]:
    """Provider id -> when the stand-in took it: Twilio SIDs, and the Message-ID of every email."""
    taken = {r.sid: r.at for r in twilio.messages}
    for mail in smtp.messages:
        head = email.message_from_bytes(mail.raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n")
        if head["Message-ID"]:
            taken[str(head["Message-ID"]).strip()] = mail.at
    return taken


def _sent_rows(conn: Connection) -> list[Any]:
    return _rows(conn, """SELECT id, provider_id, kind, appointment_id, participant_id, sent_at FROM outbox_messages
                           WHERE sent_at IS NOT NULL AND status IN ('sent', 'delivered', 'undelivered')""")


def against_providers(rows: list[Any], taken: dict[str, float], allow_unrecorded: bool) -> list[Violation]:
    recorded = {r.provider_id for r in rows}
    out = _found("sent per the outbox, never reached the provider",
                 [(r.id,) for r in rows if r.provider_id not in taken])
    if not allow_unrecorded:
        out += _found("reached a provider without a sent outbox row (duplicates)",
                      [("-",) for pid in taken if pid not in recorded])
    return out


def after_the_fact(rows: list[Any], taken: dict[str, float], ledger: Ledger) -> list[Violation]:
    late_db, late_provider = [], []
    for row in rows:
        limits = []
        if row.appointment_id in ledger.cancelled and row.kind in ABOUT_APPOINTMENT:
            limits.append(ledger.cancelled[row.appointment_id])
        if row.participant_id in ledger.withdrawn:
            limits.append(ledger.withdrawn[row.participant_id])
        if not limits:
            continue
        limit = min(limits)
        sent_at = row.sent_at if row.sent_at.tzinfo else row.sent_at.replace(tzinfo=timezone.utc)
        if sent_at.timestamp() > limit:
            late_db.append((row.id,))
        if taken.get(row.provider_id, 0.0) > limit:
            late_provider.append((row.id,))
    return (_found("sent (per the outbox) after its appointment's cancellation or its participant's withdrawal",
                   late_db)
            + _found("reached the provider after its appointment's cancellation or its participant's withdrawal",
                     late_provider))


def check(conn: Connection, *, now: datetime | None = None, providers: dict[str, float] | None = None,
          ledger: Ledger | None = None, allow_unrecorded: bool = False) -> list[Violation]:
    """Every violation found; an empty list when all invariants hold.

    `providers`: what the providers took (`provider_records(twilio, smtp)`); without it the outbox is not
    compared with them. `ledger`: the traffic's cancellations and withdrawals; without it nothing is timed."""
    now = now or datetime.now(timezone.utc)
    out = overlaps(conn) + missing_confirmations(conn, now) + unfinished_messages(conn, now)
    out += duplicate_callbacks(conn)
    rows = _sent_rows(conn)
    if providers is not None:
        out += against_providers(rows, providers, allow_unrecorded)
    if ledger is not None:
        out += after_the_fact(rows, providers or {}, ledger)
    return out


def open_due(conn: Connection, now: datetime) -> int:
    return int(conn.execute(text("""SELECT count(*) FROM outbox_messages WHERE status = 'queued'
                                     OR (status = 'pending' AND next_attempt_at <= :now)"""), {"now": now}).scalar()
               or 0)


def settle(engine: Engine, timeout: float = 60.0, quiet: float = 1.0) -> bool:
    """Wait until no message is due and unfinished for `quiet` seconds in a row; False on timeout."""
    deadline, calm_since = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            busy = open_due(conn, datetime.now(timezone.utc))
        if busy:
            calm_since = None
        elif calm_since is None:
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= quiet:
            return True
        time.sleep(0.2)
    return False


def report(violations: Iterable[Violation]) -> str:
    lines = [str(v) for v in violations]
    return "\n".join(lines) if lines else "all invariants hold"
