"""Run the mixed traffic for a bounded time on N client threads, and sum it up per kind.

Each thread draws operations by weight from its own seeded generator (so a
run with the same seed and concurrency asks for the same mix, though the
interleaving is the machine's), on its own connections, until the time is
up; an operation in flight then finishes. An exception inside an operation
is counted as an error of that operation, never lost.
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.support.traffic_calls import Clients
from tests.support.traffic_http import Result

# How often each operation is drawn. Bookings are the heaviest part of the mix, as in an office's week.
WEIGHTS = {"ivr_walk": 12, "web_callback": 8, "availability": 12, "booking": 20, "reschedule": 8,
           "cancellation": 6, "withdrawal": 4, "feed": 8, "staff_page": 12, "participant_page": 10}


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


@dataclass
class KindFigures:
    kind: str
    count: int
    refused: int
    errors: int
    per_second: float
    p50: float
    p99: float


@dataclass
class MixReport:
    seconds: float
    concurrency: int
    results: list[Result] = field(default_factory=list)

    @property
    def errors(self) -> list[Result]:
        return [r for r in self.results if r.outcome == "error"]

    def kinds(self) -> list[KindFigures]:
        out = []
        for kind in sorted({r.kind for r in self.results}):
            mine = [r for r in self.results if r.kind == kind]
            timed = [r.seconds for r in mine if r.status]
            out.append(KindFigures(kind, len(mine), sum(r.outcome == "refused" for r in mine),
                                   sum(r.outcome == "error" for r in mine), len(mine) / self.seconds,
                                   percentile(timed, 50), percentile(timed, 99)))
        return out

    def error_notes(self, limit: int = 10) -> list[str]:
        """The distinct error notes, most frequent first (no personal data: path templates and statuses)."""
        counts: dict[str, int] = {}
        for r in self.errors:
            counts[r.note] = counts.get(r.note, 0) + 1
        return [f"{n} x {note}" for note, n in sorted(counts.items(), key=lambda kv: -kv[1])[:limit]]

    def table(self) -> str:
        lines = [f"{'kind':18} {'requests':>8} {'per s':>7} {'p50 ms':>8} {'p99 ms':>8} {'409s':>6} {'errors':>6}"]
        for k in self.kinds():
            lines.append(f"{k.kind:18} {k.count:8d} {k.per_second:7.1f} {k.p50 * 1000:8.1f} {k.p99 * 1000:8.1f} "
                         f"{k.refused:6d} {k.errors:6d}")
        total = len(self.results)
        lines.append(f"{'all':18} {total:8d} {total / self.seconds:7.1f}")
        return "\n".join(lines)


def run_mix(traffic: Any, seconds: float, concurrency: int, seed: int,
            weights: dict[str, int] | None = None) -> MixReport:
    """Run `traffic`'s operations on `concurrency` threads for `seconds`; every request's Result comes back."""
    weights = weights or WEIGHTS
    names, chances = list(weights), list(weights.values())
    report = MixReport(seconds, concurrency)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    system = traffic.system

    def loop(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        clients = Clients(system.port, system.public_base_url, traffic.office.api_token)
        mine: list[Result] = []
        try:
            while time.monotonic() < deadline:
                name = rng.choices(names, chances)[0]
                try:
                    mine += getattr(traffic, name)(clients, rng)
                except Exception as exc:  # noqa: BLE001 - counted as the operation's error, with its type only
                    mine.append(Result(name, 0, 0.0, "error", f"{name}: {type(exc).__name__}"))
        finally:
            clients.close()
            with lock:
                report.results += mine

    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=(i,), name=f"traffic-{i}") for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report.seconds = time.monotonic() - started
    return report
