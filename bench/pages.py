"""Page benchmark: p50/p95 of the desk's heaviest pages and the participants' pages on a scaled-up office,
against a floor; and choosing an offered time against a bare booking INSERT.

    python bench/pages.py [--requests 200] [--choices 100] [--keep]

Writes the office of bench/pages_data.py (40 mediators in 4 regions, 15 rooms,
2,000 appointments, 20,000 imported busy blocks) into a PostgreSQL database of
its own, starts Pendel and the floor app (bench/pages_floor.py: one query,
a comparable template) under gunicorn with the same options, signs in as a
coordinator and requests each page and its floor in turn, interleaved, over
keep-alive connections. Prints p50/p95 per page, its floor's, and the ratio
of the p95s; target: every desk page within 3, the participant's personal page and an offer's page
within 2 of the case page's floor. Then it chooses `--choices` offered times through scheduler.offers
in turn as the booking alone and with every subscriber (the confirmation and reminder messages written
in the same transaction), interleaved with bare booking INSERTs, and prints the ratios of the p95s; the
target, within 3, is the booking's; the one with messages is printed beside it. Exit status 1 if a target
is missed.
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date, datetime, time as wall_time, timezone
from typing import Callable
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bench.availability_db import ADMIN_URL, open_database  # noqa: E402
from bench.pages_data import COORDINATOR, PASSWORD, Office, at, write_office  # noqa: E402
from bench.pages_participants import ParticipantPages, choosing_against_insert, prepare  # noqa: E402
from bench.webhooks_servers import PUBLIC_BASE_URL, Gunicorn, app_environment  # noqa: E402
from core.migrate import upgrade  # noqa: E402

TARGET = 3.0
PARTICIPANT_TARGET = 2.0
CHOICE_TARGET = 3.0
midnight = wall_time(0, 0)
WORKERS = 2 * (os.cpu_count() or 1) + 1


class Browser:
    """One keep-alive connection with a cookie jar of one: enough to be a signed-in browser."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Origin": PUBLIC_BASE_URL}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, text

    def sign_in(self) -> None:
        _, html = self.request("GET", "/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
        assert token, "no form token on the sign-in page"
        status, _ = self.request("POST", "/login", urlencode({"csrf_token": token.group(1), "email": COORDINATOR,
                                                               "password": PASSWORD}))
        assert status == 302, f"sign-in answered {status}"


def pages_of(office: Office) -> dict[str, tuple[str, str]]:
    """Each measured page's path on Pendel and on the floor app."""
    week = office.monday.isocalendar()
    start = at(office.monday, midnight).isoformat()
    case = office.busiest_case_ids[0]
    mediator, region = office.mediator_of_case[case], office.region_of_case[case]
    participant = office.participants_of[case][0]
    # The slot search looks 8 weeks ahead from now (scheduler.desk_booking.SEARCH_SPAN): its floor fetches that.
    window = urlencode({"start": datetime.now(timezone.utc).isoformat(), "days": 56})
    return {
        "case list": ("/cases", "/floor/cases"),
        "case page": (f"/cases/{case}", f"/floor/cases/{case}"),
        "week view": (f"/mediators/{mediator}/week?week={week.year}-W{week.week:02d}",
                      f"/floor/mediators/{mediator}/week?" + urlencode({"start": start, "days": 7})),
        "slot picker, one mediator": (f"/cases/{case}/intake?" + urlencode(
            {"mode": "phone", "duration": 90, "mediator": mediator, "participant_id": participant}),
            f"/floor/slots?mediator={mediator}&{window}"),
        "slot picker, any mediator of a region": (f"/cases/{case}/intake?" + urlencode(
            {"mode": "phone", "duration": 90, "mediator": "region", "participant_id": participant}),
            f"/floor/slots?region={region}&{window}"),
    }


def participant_pages_of(links: ParticipantPages) -> dict[str, tuple[str, str, str]]:
    """Each participant page: the link it is opened from, and the case page's floor."""
    floor = f"/floor/cases/{links.floor_case_id}"
    return {"participant's appointment page": (f"/a/{links.appointment_token}", "/a/", floor),
            "participant's offer page": (f"/a/{links.offer_token}", "/a/", floor)}


def report(name: str, got: list[float], bare: list[float], target: float) -> bool:
    ratio = percentile(got, 95) / percentile(bare, 95)
    print(f"{name:40} {statistics.median(got) * 1000:8.1f}ms {percentile(got, 95) * 1000:8.1f}ms "
          f"{statistics.median(bare) * 1000:9.1f}ms {percentile(bare, 95) * 1000:9.1f}ms {ratio:9.2f}x"
          f"  (target {target:.0f}x)")
    return ratio <= target


def timed(fn: Callable[[], tuple[int, str]]) -> float:
    started = time.perf_counter()
    status, body = fn()
    elapsed = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"answered {status}: {body[:300]}")
    return elapsed


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def drop_database(admin: Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="requests per page (and per floor)")
    parser.add_argument("--choices", type=int, default=100, help="offered times chosen (and bare INSERTs)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as logs:
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        db = open_database(admin, "pendel_bench_pages", stack)
        if not args.keep:
            stack.callback(drop_database, admin, "pendel_bench_pages")
        upgrade(db.engine)
        started = time.perf_counter()
        office = write_office(db.engine, date.today())
        print(f"office written in {time.perf_counter() - started:.1f} s: 40 mediators, 4 regions, 15 rooms, "
              "2,000 appointments, 20,000 busy blocks")
        env = app_environment(db.url)
        options = ["--workers", str(WORKERS), "--worker-class", "sync", "--keep-alive", "30", "--log-level", "warning"]
        servers = {name: Gunicorn(name, spec, options, env, logs)
                   for name, spec in (("pendel", "app:create_app()"), ("floor", "bench.pages_floor:create_app()"))}
        for server in servers.values():
            server.start()
            stack.callback(server.stop)
        pendel, floor = Browser(servers["pendel"].port), Browser(servers["floor"].port)
        pendel.sign_in()
        links = prepare(db.url, PUBLIC_BASE_URL, office)
        targets = {name: (pendel, page, bare, TARGET) for name, (page, bare) in pages_of(office).items()}
        for name, (link, page, bare) in participant_pages_of(links).items():
            visitor = Browser(servers["pendel"].port)
            status, _ = visitor.request("GET", link)
            assert status == 303, f"{name}: the link answered {status}"
            targets[name] = (visitor, page, bare, PARTICIPANT_TARGET)
        samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in targets}
        for name, (browser, page, bare, _) in targets.items():  # warm-up: every worker imports and caches once
            for _ in range(WORKERS * 2):
                timed(lambda: browser.request("GET", page))
                timed(lambda: floor.request("GET", bare))
        for _ in range(args.requests):
            for name, (browser, page, bare, _) in targets.items():
                samples[name][0].append(timed(lambda: browser.request("GET", page)))
                samples[name][1].append(timed(lambda: floor.request("GET", bare)))
        print(f"\n{'page':40} {'p50':>9} {'p95':>9} {'floor p50':>10} {'floor p95':>10} {'p95/floor':>10}")
        failed = [name for name, (got, bare) in samples.items() if not report(name, got, bare, targets[name][3])]
        choices = choosing_against_insert(db.url, PUBLIC_BASE_URL, office, args.choices)
        print(f"\n{'choosing an offered time':40} {'p50':>9} {'p95':>9} {'INSERT p50':>10} {'INSERT p95':>10} "
              f"{'p95/INSERT':>10}")
        if not report("the booking (choose, no subscribers)", choices.booking_only, choices.bare_insert,
                      CHOICE_TARGET):
            failed.append("choosing an offered time")
        report("with its messages (every subscriber)", choices.with_messages, choices.bare_insert, CHOICE_TARGET)
        print(f"\n{args.requests} requests per page, gunicorn --workers {WORKERS}; {args.choices} choices. "
              f"{'Missed: ' + ', '.join(failed) if failed else 'All within target.'}")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
