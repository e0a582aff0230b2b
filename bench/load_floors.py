"""The floors bench/load.py puts beside the mixed load: the single-purpose benchmarks' own, measured in the run.

Each floor is measured after the mix (never at the same time), on the load
run's own database and with its gunicorn options and client concurrency:

- "ivr walk": bench/webhooks_floor.py (check the signature, insert a row,
  constant TwiML), signed `POST /telephony/voice` as Twilio sends them;
- "staff page": bench/pages_floor.py, its four pages drawn in turn (case
  list, a case, a mediator's week, one mediator's slot rows): the desk pages
  of the mix that have a floor (the callback queue and Today have none);
- "participant page": the case page's floor, as bench/pages.py measures the
  participant's pages against;
- "availability": bench/availability.py's floor, one plain query of the
  busy rows (`FLOOR_SQL`), in this process on one connection: it has no HTTP
  in it at all, so its ratio is the whole of the API request over the query.

Every floor request must answer 200; `FloorFigures` has p50 and p99.
"""
from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, time as wall_time, timedelta, timezone
from typing import Callable

from sqlalchemy import create_engine, text

from bench.availability_db import FLOOR_SQL
from bench.webhooks_drive import params_for
from bench.webhooks_floor import FLOOR_TABLE
from bench.webhooks_servers import Gunicorn
from tests.support.days import AMS, working_day
from tests.support.office import Office
from tests.support.system import System
from tests.support.traffic import search_window
from tests.support.traffic_http import Client, TwilioSigner
from tests.support.traffic_mix import percentile


@dataclass(frozen=True)
class FloorFigures:
    kind: str
    what: str
    count: int
    p50: float
    p99: float


def _drive(port: int, origin: str, concurrency: int, n: int,
           request: Callable[[Client, int], tuple[int, float]]) -> list[float]:
    """`n` requests on `concurrency` threads, a client each; every one must answer 200."""
    counter, lock, samples, failures = itertools.count(), threading.Lock(), [], []

    def loop() -> None:
        client = Client(port, origin)
        try:
            while True:
                with lock:
                    i = next(counter)
                if i >= n:
                    return
                status, seconds = request(client, i)
                with lock:
                    (samples if status == 200 else failures).append(seconds if status == 200 else status)
        finally:
            client.close()

    threads = [threading.Thread(target=loop) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"a floor answered {sorted(set(failures))} ({len(failures)} of {n})")
    return samples


def _figures(kind: str, what: str, samples: list[float]) -> FloorFigures:
    return FloorFigures(kind, what, len(samples), percentile(samples, 50), percentile(samples, 99))


def availability_floor(database_url: str, office: Office, n: int, seed: int) -> FloorFigures:
    rng = random.Random(seed)
    start, end = search_window()
    engine = create_engine(database_url)
    samples = []
    try:
        with engine.connect() as conn:
            for _ in range(n):
                params = {"mediators": [rng.choice(office.mediator_ids)], "rooms": [-1], "start": start, "end": end,
                          "now": datetime.now(timezone.utc)}
                started = time.perf_counter()
                conn.execute(FLOOR_SQL, params).all()
                samples.append(time.perf_counter() - started)
    finally:
        engine.dispose()
    return _figures("availability", "one plain query of the busy rows (bench/availability.py)", samples)


def http_floors(system: System, office: Office, concurrency: int, n: int, options: list[str]) -> list[FloorFigures]:
    """Start both floor apps under gunicorn beside the (idle) system, drive each, stop them."""
    engine = system.engine
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS bench_floor_calls; {FLOOR_TABLE}"))
    env = system.env()
    servers = {name: Gunicorn(f"floor-{name}", spec, options, env, system.logdir)
               for name, spec in (("webhooks", "bench.webhooks_floor:create_app()"),
                                  ("pages", "bench.pages_floor:create_app()"))}
    origin = system.public_base_url
    signer = TwilioSigner(origin, system.twilio_auth_token)
    start, _ = search_window()
    monday = datetime.combine(working_day(0) - timedelta(days=working_day(0).weekday()), wall_time(0), AMS)
    seats = office.booking_cases

    def webhook(client: Client, i: int) -> tuple[int, float]:
        answer = signer.post(client, "/telephony/voice", params_for("CA" + uuid.uuid4().hex,
                                                                     office.callers[i % len(office.callers)], "ringing"))
        return answer.status, answer.seconds

    def desk(client: Client, i: int) -> tuple[int, float]:
        seat = seats[i % len(seats)]
        path = ["/floor/cases", f"/floor/cases/{seat.case_id}",
                f"/floor/mediators/{seat.mediator_id}/week?start={monday.isoformat()}&days=7",
                f"/floor/slots?mediator={seat.mediator_id}&start={start.isoformat()}&days=56"][i % 4]
        answer = client.get(path.replace("+", "%2B"))
        return answer.status, answer.seconds

    def case_page(client: Client, i: int) -> tuple[int, float]:
        answer = client.get(f"/floor/cases/{seats[i % len(seats)].case_id}")
        return answer.status, answer.seconds

    try:
        for server in servers.values():
            server.start()
        web, pages = servers["webhooks"].port, servers["pages"].port
        _drive(web, origin, concurrency, 2 * concurrency, webhook)      # warm-up: every worker once
        _drive(pages, origin, concurrency, 4 * concurrency, desk)
        return [
            _figures("ivr walk", "signed webhook: check, insert a row, constant TwiML (bench/webhooks_floor.py)",
                     _drive(web, origin, concurrency, n, webhook)),
            _figures("staff page", "one query, a table template, four pages (bench/pages_floor.py)",
                     _drive(pages, origin, concurrency, n, desk)),
            _figures("participant page", "the case page's floor (bench/pages_floor.py)",
                     _drive(pages, origin, concurrency, n, case_page))]
    finally:
        for server in servers.values():
            server.stop()


def ratio_table(floors: list[FloorFigures], mixed: dict[str, tuple[float, float]],
                alone: dict[str, tuple[float, float]]) -> str:
    """Per kind: p50/p99 in the mix, alone (the same requests, nothing else running), and at its floor."""
    nan = (float("nan"), float("nan"))
    lines = [f"{'kind':18} {'mix p50/p99 ms':>16} {'alone p50/p99':>14} {'floor p50/p99':>14} "
             f"{'mix/floor p50, p99':>19} {'mix/alone p50, p99':>19}"]
    for f in floors:
        (m50, m99), (a50, a99) = mixed.get(f.kind, nan), alone.get(f.kind, nan)
        lines.append(f"{f.kind:18} {m50 * 1000:7.1f} {m99 * 1000:7.1f} {a50 * 1000:6.1f} {a99 * 1000:6.1f} "
                     f"{f.p50 * 1000:6.2f} {f.p99 * 1000:6.2f} {m50 / f.p50:9.1f}x {m99 / f.p99:7.1f}x "
                     f"{m50 / a50:9.1f}x {m99 / a99:7.1f}x")
    lines.append("floors: " + "; ".join(f"{f.kind}: {f.what} ({f.count} requests)" for f in floors))
    return "\n".join(lines)
