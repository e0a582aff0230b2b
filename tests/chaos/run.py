"""The chaos run (issue 14): traffic while processes are killed and services fail, then settle and count.

    python -m tests.chaos.run [--seconds 300] [--seed 1] [--concurrency 8] [--web-workers N]
                              [--worker-processes 2] [--settle-timeout 900] [--hurry] [--no-targets]
    python -m tests.chaos.run --short [--seed 11]      # the suite's run (tests/chaos/test_chaos_short.py)

Starts Pendel as production runs it (tests/support/system.py: a PostgreSQL
database of its own reached through a proxy the run can cut, gunicorn,
`worker.py` processes restarted like systemd units, a private redis-server,
the Twilio and SMTP stand-ins, each behind a line that can go silent:
tests/chaos/line.py), writes a small office (tests/support/office.py) and,
for `--seconds`, runs the mixed traffic of tests/support/traffic.py
(bookings, reschedules, cancellations, withdrawals, phone-line and web
callback requests, feeds, staff and participant pages) on client threads
while one thread makes faults at random moments (tests/chaos/schedule.py,
tests/chaos/faults.py): SIGKILLs of gunicorn workers, worker.py processes,
their periodic children and work horses; Redis stopped and started; the
database cut off for 2-5 s; Twilio and SMTP timing out, failing for a while,
failing for good.

Then, with no hand on anything: how long until `/readyz` answered 200 after
the last fault (at most 30 s); ten seconds more traffic, which must meet
no error at all; the outbox left to settle (tests/chaos/settle.py: `make
chaos` waits for real, leases of five minutes included; `--hurry` moves
those timers, for the suite's short run); and the checks of
tests/chaos/checks.py. It prints a summary and exits 1 on any violation, or
(with targets, as `make chaos`) when fewer than 500 bookings or 20 kills
happened; with violations it keeps the system's logs and says where. The
seed (printed, with the line that replays the run) decides the traffic's and
the faults' draws; the machine decides the interleaving, so a failing seed is
worth running again, not guaranteed to fail the same way.
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, TextIO

import requests

from tests.chaos.checks import check_all
from tests.chaos.faults import Faults
from tests.chaos.line import ProviderLine
from tests.chaos.report import Outcome, figures, summary, targets_missed
from tests.chaos.schedule import Plan, play
from tests.chaos.settle import now_utc, settle
from tests.chaos.traffic import CallbackLedger, ChaosTraffic, Paced
from tests.support.invariants import Ledger, Violation
from tests.support.office import seed_office
from tests.support.system import System
from tests.support.traffic_mix import WEIGHTS, run_mix

READY_WITHIN = 30.0
# The load mix with bookings weighing more (its searches stand in for most plain availability requests):
# what the faults should hit is what changes state, and the run's target counts bookings.
MIX = {**WEIGHTS, "booking": 30, "availability": 4}


@dataclass(frozen=True)
class Config:
    seconds: float = 300.0
    seed: int = 1
    concurrency: int = 8
    web_workers: int | None = None
    worker_processes: int = 2
    plan: Plan | None = None            # default: Plan(seconds)
    probe_seconds: float = 10.0          # traffic after the faults, which must meet no error
    settle_timeout: float = 900.0
    hurry: bool = False                  # tests/chaos/settle.py: the suite's short run only
    targets: bool = True                 # at least 500 bookings and 20 kills (make chaos)
    office: dict[str, int] = field(default_factory=lambda: {"mediators": 12, "booking_cases": 64,
                                                            "withdrawal_cases": 500, "callers": 200})
    short: bool = False                  # the suite's short run (`short_config`)
    weights: dict[str, int] = field(default_factory=lambda: dict(MIX))
    pause: float = 0.0                   # seconds each client thread waits after an operation
    # The target for `make chaos`. The suite's run only requires /readyz to come back (within the 90 s
    # it is polled): a test asserts no wall-clock duration on this shared machine; it prints the time.
    ready_within: float | None = READY_WITHIN

    @property
    def replay(self) -> str:
        """The command that runs this configuration again."""
        if self.short:
            return f"python -m tests.chaos.run --short --seed {self.seed}"
        words = [f"--seconds {self.seconds:.0f}", f"--seed {self.seed}", f"--concurrency {self.concurrency}"]
        words += [f"--web-workers {self.web_workers}"] if self.web_workers else []
        words += [f"--worker-processes {self.worker_processes}"] if self.worker_processes != 2 else []
        words += [f"--settle-timeout {self.settle_timeout:.0f}"] if self.settle_timeout != 900.0 else []
        words += (["--hurry"] if self.hurry else []) + ([] if self.targets else ["--no-targets"])
        return "python -m tests.chaos.run " + " ".join(words)


def short_config(seed: int) -> Config:
    """The suite's run (tests/chaos/test_chaos_short.py): 25 s of faults, a fault every 0.8-1.6 s so the first
    tour meets every kind, short windows and cuts, a small system and office, two client threads and the
    load's own mix (fewer bookings, so fewer messages to settle); timers hurried while settling."""
    plan = Plan(seconds=25.0, gap=(0.8, 1.6), window=(1.5, 3.0), cut=(2.0, 3.0))
    return Config(seconds=plan.seconds, seed=seed, concurrency=2, web_workers=3, plan=plan, probe_seconds=4.0,
                  settle_timeout=120.0, hurry=True, targets=False, short=True, weights=dict(WEIGHTS), pause=0.1,
                  ready_within=None,
                  office={"mediators": 8, "booking_cases": 32, "withdrawal_cases": 120, "callers": 60})


def ready_after(base_url: str, since: float, timeout: float = 90.0) -> float | None:
    """Seconds from `since` (time.time()) until `/readyz` answered 200; None if not within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(base_url + "/readyz", timeout=2).status_code == 200:
                return time.time() - since
        except requests.RequestException:
            pass
        time.sleep(0.1)
    return None


def run_chaos(config: Config, out: TextIO = sys.stdout) -> Outcome:
    """Run it all (see the module doc) and return what happened; prints progress lines to `out`."""
    began = time.monotonic()

    def say(line: str) -> None:
        print(f"[{time.monotonic() - began:6.1f} s] {line}", file=out, flush=True)

    plan = config.plan or Plan(config.seconds)
    lines = {"sms": ProviderLine(), "email": ProviderLine()}  # the app reaches Twilio and SMTP through these
    env = {"TWILIO_API_BASE_URL": lines["sms"].url, "SMTP_HOST": lines["email"].host,
           "SMTP_PORT": str(lines["email"].port)}
    say(f"chaos run: seed {config.seed}, {plan.seconds:.0f} s of faults, {config.concurrency} client threads")
    try:
        with System(web_workers=config.web_workers, worker_processes=config.worker_processes,
                    db_through_proxy=True, env=env) as system:
            # Nothing is sent before the office exists, so the lines may learn the stand-ins' ports now.
            lines["sms"].lead_to((system.twilio.host, system.twilio.port))
            lines["email"].lead_to((system.smtp.host, system.smtp.port))
            system.wait_ready(timeout=120)
            say("system ready")
            outcome = _run(system, config, plan, lines, say)
        say("system stopped")
        return outcome
    finally:
        for line in lines.values():
            line.close()


def _run(system: System, config: Config, plan: Plan, lines: dict[str, ProviderLine],
         say: Callable[[str], None]) -> Outcome:
    office = seed_office(system.engine, **config.office)
    ledger, callbacks = Ledger(), CallbackLedger()
    chaos_traffic = ChaosTraffic(system, office, ledger, callbacks)
    traffic = Paced(chaos_traffic, config.pause) if config.pause else chaos_traffic
    faults = Faults(system, lines)
    ready: list[float | None] = []
    broke: list[Violation] = []

    def strike() -> None:
        try:
            play(faults, plan, config.seed)
        except Exception as exc:  # noqa: BLE001 - the run goes on to its checks, and fails with this
            broke.append(Violation(f"the fault thread failed ({type(exc).__name__}: {exc})", 1))
        ready.append(ready_after(system.base_url, faults.last_end or time.time()))

    striker = threading.Thread(target=strike, name="chaos-faults")
    striker.start()
    mix = run_mix(traffic, plan.seconds, config.concurrency, config.seed, config.weights)
    striker.join()
    say(f"faults over ({len(faults.log)}), /readyz 200 after {ready[0]:.1f} s; traffic without faults"
        if ready[0] is not None else f"faults over ({len(faults.log)}), /readyz not ready; traffic without faults")
    probe = run_mix(traffic, config.probe_seconds, config.concurrency, config.seed + 1, config.weights)
    settled = settle(system.engine, config.settle_timeout, hurry_timers=config.hurry)
    say(f"outbox settled after {settled:.1f} s" if settled is not None else "the outbox did not settle")
    now: datetime = now_utc()
    with system.engine.connect() as conn:
        violations = check_all(conn, now, system=system, api_token=office.api_token, ledger=ledger,
                               callbacks=callbacks, faults=faults.log)
        numbers = figures(conn, system)
    say(f"checked: {len(violations)} violations")
    violations += broke + _run_violations(ready[0], probe.errors, settled, config)
    outcome = Outcome(config.seed, plan.seconds, mix, probe, list(faults.log), ready[0], settled, numbers,
                      callbacks, ledger, violations, system.worker_restarts, config.replay)
    if config.targets:
        outcome.targets_checked, outcome.missed = True, targets_missed(outcome)
    if not outcome.ok:
        system.keep_logs = True
        outcome.logdir = system.logdir
    return outcome


def _run_violations(ready: float | None, probe_errors: list[object], settled: float | None,
                    config: Config) -> list[Violation]:
    out = []
    if ready is None:
        out.append(Violation("/readyz did not answer 200 again after the last fault", 1))
    elif config.ready_within is not None and ready > config.ready_within:
        out.append(Violation(f"/readyz not 200 within {config.ready_within:.0f} s of the last fault", 1))
    if probe_errors:
        out.append(Violation("requests failing after the faults were over", len(probe_errors)))
    if settled is None:
        out.append(Violation(f"the outbox did not settle within {config.settle_timeout:.0f} s", 1))
    return out


def arguments(argv: list[str] | None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300.0, help="how long faults are made (and traffic runs)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the traffic's and the faults' draws")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--web-workers", type=int, default=None, help="gunicorn workers (default 2 x cores + 1)")
    parser.add_argument("--worker-processes", type=int, default=2, help="worker.py processes")
    parser.add_argument("--settle-timeout", type=float, default=900.0, help="how long the outbox may take to settle")
    parser.add_argument("--hurry", action="store_true", help="move retry and lease timers while settling")
    parser.add_argument("--no-targets", action="store_true", help="do not require 500 bookings and 20 kills")
    parser.add_argument("--short", action="store_true", help="the suite's short run (other options but --seed ignored)")
    args = parser.parse_args(argv)
    if args.short:
        return short_config(args.seed)
    return Config(seconds=args.seconds, seed=args.seed, concurrency=args.concurrency, web_workers=args.web_workers,
                  worker_processes=args.worker_processes, settle_timeout=args.settle_timeout, hurry=args.hurry,
                  targets=not args.no_targets)


def main(argv: list[str] | None = None) -> int:
    outcome = run_chaos(arguments(argv))
    print(summary(outcome), flush=True)
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
