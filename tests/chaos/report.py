"""What a chaos run counted, and the summary it prints (no personal data: kinds, counts, seconds, row ids).

`figures` reads the outbox after the run: messages per status and channel,
how many the stand-ins took beyond what the outbox calls sent (the allowed
duplicates of a crash between the provider's answer and the commit), and
the longest time a message that went took from being written to being sent
(a Redis restart makes the messages in flight wait out their five-minute
lease). `summary` lays out the traffic, the faults, those figures, the time
to ready after the last fault and every violation, with the line that
replays the run.
"""
from __future__ import annotations

import glob
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from tests.chaos.faults import CHANNELS, KILLS, MODES, Fault
from tests.chaos.traffic import CallbackLedger
from tests.support import invariants
from tests.support.invariants import Ledger, Violation
from tests.support.traffic_mix import MixReport

MIN_BOOKINGS, MIN_KILLS = 500, 20
PERIODIC_RESTARTED = b"the periodic process ended"  # core.periodic.PeriodicChild's log line


@dataclass
class Outcome:
    seed: int
    seconds: float
    mix: MixReport
    probe: MixReport
    faults: list[Fault]
    ready_after: float | None
    settled_after: float | None
    numbers: dict[str, Any]
    callbacks: CallbackLedger
    ledger: Ledger
    violations: list[Violation]
    worker_restarts: int
    replay: str
    missed: list[str] = field(default_factory=list)
    targets_checked: bool = False
    logdir: str | None = None

    @property
    def ok(self) -> bool:
        return not self.violations and not self.missed

    @property
    def bookings(self) -> int:
        return sum(r.kind == "booking" and r.status == 201 for r in self.mix.results)

    @property
    def kills(self) -> int:
        return sum(f.is_kill for f in self.faults)


def figures(conn: Connection, system: Any) -> dict[str, Any]:
    """What the outbox, the stand-ins and the workers' logs say after the run (see the module doc)."""
    by_status = {(r.channel, r.status): r.n for r in conn.execute(text(
        "SELECT channel, status, count(*) AS n FROM outbox_messages GROUP BY channel, status"))}
    recorded = set(conn.execute(text("SELECT provider_id FROM outbox_messages WHERE provider_id IS NOT NULL"))
                   .scalars())
    taken = invariants.provider_records(system.twilio, system.smtp)
    longest = conn.execute(text("""SELECT max(extract(epoch FROM sent_at - created_at)) FROM outbox_messages
                                    WHERE sent_at IS NOT NULL AND NOT is_reminder""")).scalar()
    periodic = 0
    for path in glob.glob(f"{system.logdir}/worker-*.log"):
        with open(path, "rb") as f:
            periodic += f.read().count(PERIODIC_RESTARTED)
    return {"by_status": by_status, "duplicates": len(set(taken) - recorded),
            "longest_delivery": float(longest or 0.0), "periodic_restarts": periodic,
            "provider_took": len(taken)}


def targets_missed(outcome: Outcome) -> list[str]:
    missed = []
    if outcome.bookings < MIN_BOOKINGS:
        missed.append(f"bookings {outcome.bookings} < {MIN_BOOKINGS}")
    if outcome.kills < MIN_KILLS:
        missed.append(f"kills {outcome.kills} < {MIN_KILLS}")
    return missed


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f} s"


def _faults(outcome: Outcome) -> list[str]:
    kills = {k: sum(f.kind == k for f in outcome.faults) for k in KILLS}
    cuts = [f for f in outcome.faults if f.kind == "database cut"]
    lines = [f"kills                {outcome.kills:6d}   (" + ", ".join(f"{k} {n}" for k, n in kills.items()) + ")",
             f"worker.py restarted  {outcome.worker_restarts:6d}   periodic children started again by their "
             f"worker {outcome.numbers['periodic_restarts']}",
             f"redis restarts       {sum(f.kind == 'redis restart' for f in outcome.faults):6d}",
             f"database cuts        {len(cuts):6d}   ({sum(f.ended - f.started for f in cuts):.1f} s cut off)"]
    for channel in CHANNELS:
        parts = []
        for mode in MODES:
            mine = [f for f in outcome.faults if f.kind == f"{channel} {mode}"]
            parts.append(f"{mode} {len(mine)} ({sum(f.ended - f.started for f in mine):.0f} s)")
        lines.append(f"{channel + ' windows':20} " + ", ".join(parts))
    return lines


def _messages(outcome: Outcome) -> list[str]:
    by_status: dict[tuple[str, str], int] = outcome.numbers["by_status"]
    statuses = sorted({s for _, s in by_status})
    lines = [f"{'messages':20} " + " ".join(f"{s:>10}" for s in statuses)]
    for channel in CHANNELS:
        lines.append(f"{'  ' + channel:20} " + " ".join(f"{by_status.get((channel, s), 0):10d}" for s in statuses))
    lines.append(f"taken by the stand-ins {outcome.numbers['provider_took']}, of which duplicates "
                 f"{outcome.numbers['duplicates']} (a crash between the provider's answer and the commit)")
    lines.append(f"longest write-to-send of a message that went: {outcome.numbers['longest_delivery']:.1f} s")
    return lines


def summary(outcome: Outcome) -> str:
    requests = len(outcome.mix.results)
    errors = len(outcome.mix.errors)
    lines = ["", f"== chaos run, seed {outcome.seed}: {outcome.seconds:.0f} s of faults under traffic ==",
             outcome.mix.table(),
             f"bookings made        {outcome.bookings:6d}   (requests {requests}, failed under faults {errors})",
             f"cancellations timed  {len(outcome.ledger.cancelled):6d}   withdrawals timed "
             f"{len(outcome.ledger.withdrawn)}",
             f"callback requests    {len(outcome.callbacks.walks) + len(outcome.callbacks.web):6d}   "
             f"heard taken (phone {len(outcome.callbacks.walks)}, web {len(outcome.callbacks.web)})",
             *_faults(outcome),
             f"/readyz 200 after the last fault: {_seconds(outcome.ready_after)}",
             f"traffic after the faults: {len(outcome.probe.results)} requests, {len(outcome.probe.errors)} errors"
             + ("".join("\n  " + n for n in outcome.probe.error_notes())),
             f"outbox settled after {_seconds(outcome.settled_after)}",
             *_messages(outcome),
             "violations: " + ("none" if not outcome.violations else ""),
             *("  " + str(v) for v in outcome.violations)]
    if outcome.targets_checked:
        lines.append(f"targets (>= {MIN_BOOKINGS} bookings, >= {MIN_KILLS} kills): "
                     + ("reached" if not outcome.missed else "MISSED: " + "; ".join(outcome.missed)))
    if outcome.logdir:
        lines.append(f"logs kept in {outcome.logdir}")
    lines.append(("PASS" if outcome.ok else "FAIL") + f"  (replay: {outcome.replay})")
    return "\n".join(lines)
