"""When the chaos run strikes, and with what: a seeded schedule played by one thread.

The run begins with a tour: every kind of fault once (every kill, a Redis
restart, a database cut, and each provider in each of its three failure
modes), in an order drawn from the seed, so even a short run has met each
one. After the tour, faults are drawn by weight. Between two faults a gap
is drawn from `Plan.gap`; a provider window stays open for a draw from
`Plan.window` while other faults go on, and a provider that has a window
open gets no second one until it closes (its turn is kept for later). All
windows are closed when the time is up, so the run's last fault ends then
at the latest.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass

from tests.chaos.faults import CHANNELS, MODES, Faults

# After the tour: how often each is drawn. Kills are the bulk, as the target counts them.
WEIGHTS = {"web worker": 3.0, "worker.py": 2.0, "periodic child": 2.0, "work horse": 2.0, "redis restart": 1.0,
           "database cut": 1.0, "sms": 1.5, "email": 1.5}


@dataclass(frozen=True)
class Plan:
    seconds: float                            # how long faults are made
    gap: tuple[float, float] = (2.0, 6.0)     # seconds between two faults
    window: tuple[float, float] = (4.0, 12.0)  # how long a provider misbehaves
    cut: tuple[float, float] = (2.0, 5.0)     # how long PostgreSQL is cut off


def tour(rng: random.Random) -> list[str]:
    """Every fault once, in a seeded order: the four kills, the two services, each provider in each mode."""
    kinds = ["web worker", "worker.py", "periodic child", "work horse", "redis restart", "database cut"]
    kinds += [f"{channel} {mode}" for channel in CHANNELS for mode in MODES]
    rng.shuffle(kinds)
    return kinds


def _strike(faults: Faults, kind: str, plan: Plan, rng: random.Random, left: float) -> bool:
    """Do `kind` now; False if it could not be done now (no such process at the moment, a window open)."""
    kills = {"web worker": faults.kill_web_worker, "worker.py": faults.kill_worker,
             "periodic child": faults.kill_periodic, "work horse": faults.kill_horse}
    if kind in kills:
        return kills[kind](rng)
    if kind == "redis restart":
        return faults.restart_redis(rng)
    if kind == "database cut":
        return faults.cut_database(max(0.5, min(rng.uniform(*plan.cut), left)))
    channel, _, mode = kind.partition(" ")
    return faults.open_window(channel, mode or rng.choice(MODES), min(rng.uniform(*plan.window), max(left, 0.5)))


def play(faults: Faults, plan: Plan, seed: int) -> None:
    """Make faults for `plan.seconds`, then close every open window."""
    rng = random.Random(seed)
    todo = tour(rng)
    names, weights = list(WEIGHTS), list(WEIGHTS.values())
    deadline = time.monotonic() + plan.seconds
    next_at = time.monotonic() + rng.uniform(*plan.gap) / 2
    try:
        while time.monotonic() < deadline:
            faults.close_expired()
            if time.monotonic() >= next_at:
                kind = next((k for k in todo if k.partition(" ")[0] not in faults.windows), None)
                if kind is not None:
                    todo.remove(kind)
                    if not _strike(faults, kind, plan, rng, deadline - time.monotonic()):
                        todo.append(kind)  # e.g. no work horse at that moment: its turn comes again later
                elif todo:
                    time.sleep(0.05)  # the tour's rest waits for a provider's window to close
                    continue
                else:
                    _strike(faults, rng.choices(names, weights)[0], plan, rng, deadline - time.monotonic())
                next_at = time.monotonic() + rng.uniform(*plan.gap)
            time.sleep(0.05)
    finally:
        faults.close_expired(everything=True)
