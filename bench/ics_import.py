"""Calendar import benchmark (issue 4, "Performance"); prints timings, asserts only correctness.

    python bench/ics_import.py [--runs 2]

1. Builds one feed the way Outlook/Google export a busy mediator's year:
   10,000 VEVENTs in all -- 500 recurring series (weekly, fortnightly,
   working-daily and daily RRULEs, some with UNTIL or COUNT, EXDATEs on
   about 40% and moved or cancelled RECURRENCE-ID overrides on about 30%)
   and single events for the rest (mostly TZID times, some UTC, some
   all-day, some transparent); VTIMEZONE Europe/Amsterdam.
2. Creates `pendel_bench_ics_<pid>` (admin URL from BENCH_DATABASE_URL,
   default the local server's `test` database, used only to CREATE/DROP),
   migrates it, adds one mediator with two sources of that feed: an upload,
   and an ICS URL served (200, no ETag) by a local HTTP server. The sync
   window is the settings' (28 days back, 52 weeks ahead), so the whole
   year of the feed is expanded.
3. Times, interleaved round by round (load from other processes hits all alike):
   - Pendel's full import into busy blocks: `calendars.sync.sync_source` of
     the upload source, as production runs it (read, hash, `parse_busy`,
     then `replace_busy_blocks` and the source's record in one transaction),
     after forgetting the hash so that it parses and writes again;
   - the floor: the libraries alone on the same bytes and window,
     `icalendar.Calendar.from_ical` + `recurring_ical_events.of(cal).between`;
   - a second sync of the unchanged ICS URL (its source holds the hash a
     good sync of this feed leaves): fetched (a 200), hashed, compared, not
     parsed; only the sync time is written.
4. Prints median and min, the ratio import/floor (target <= 1.5) and the
   second sync as a share of the full import (target < 5%). In the first
   round, the busy blocks Pendel stored are checked against the floor's
   busy, timed occurrences. The database is dropped at the end, also
   on failure.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time as clock
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import recurring_ical_events  # noqa: E402
from icalendar import Calendar  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from calendars.ics_import import is_busy  # noqa: E402
from calendars.models import CalendarSource  # noqa: E402
from calendars.sources import create_source  # noqa: E402
from calendars.sync import content_hash, sync_source, sync_window  # noqa: E402
from core.config import Settings  # noqa: E402
from core.db import Database, utcnow  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from scheduler.models import BusyBlock, Mediator  # noqa: E402

ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TZ = ZoneInfo("Europe/Amsterdam")
UTC = timezone.utc
SEED = 20261128
N_EVENTS, N_SERIES = 10_000, 500
VTIMEZONE = ("BEGIN:VTIMEZONE", "TZID:Europe/Amsterdam", "BEGIN:STANDARD", "DTSTART:16011028T030000",
             "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET",
             "END:STANDARD", "BEGIN:DAYLIGHT", "DTSTART:16010325T020000", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
             "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST", "END:DAYLIGHT", "END:VTIMEZONE")
RULES = (("FREQ=WEEKLY;BYDAY={day}", 45), ("FREQ=WEEKLY;INTERVAL=2;BYDAY={day}", 15),
         ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", 25), ("FREQ=DAILY", 15))
DAYS = ("MO", "TU", "WE", "TH", "FR")


def local(dt: datetime) -> str:
    return f"TZID=Europe/Amsterdam:{dt:%Y%m%dT%H%M%S}"


def build_feed(rng: random.Random, first_day: date, days: int) -> bytes:
    """The benchmark feed: N_EVENTS VEVENTs, N_SERIES of them recurring masters (overrides count as events)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN",
             "METHOD:PUBLISH", "X-WR-CALNAME:Agenda", *VTIMEZONE]
    stamp = "DTSTAMP:20261101T120000Z"
    count = 0

    def event(uid: str, *props: str) -> None:
        nonlocal count
        count += 1
        lines.extend(("BEGIN:VEVENT", f"UID:{uid}", stamp, "SUMMARY:Bezet", *props, "END:VEVENT"))

    for n in range(N_SERIES):
        day = first_day + timedelta(days=rng.randrange(60))
        start = datetime(day.year, day.month, day.day, rng.randrange(8, 18), rng.choice((0, 15, 30, 45)))
        length = timedelta(minutes=rng.choice((30, 45, 60, 90, 120)))
        rule = rng.choices([r for r, _ in RULES], [w for _, w in RULES])[0].format(day=DAYS[start.weekday() % 5])
        if "BYDAY=" in rule and "," not in rule:  # DTSTART on its BYDAY, working-day series on a weekday
            start += timedelta(days=(DAYS.index(rule[-2:]) - start.weekday()) % 7)
        elif "," in rule and start.weekday() >= 5:
            start += timedelta(days=7 - start.weekday())
        end = start + length
        ending = rng.random()
        rule += f";UNTIL={(start + timedelta(days=rng.randrange(90, 300))):%Y%m%dT%H%M%S}Z" if ending < 0.2 else \
            f";COUNT={rng.randrange(70, 200)}" if ending < 0.35 else ""
        uid = f"series-{n:04d}-{rng.getrandbits(48):012x}@outlook.example"
        # A step that always lands on an occurrence, and the 12 steps stay before any UNTIL or COUNT.
        step = timedelta(days=14 if "INTERVAL=2" in rule else 1 if rule.startswith("FREQ=DAILY") else 7)
        exdates = rng.randint(1, 4) if rng.random() < 0.4 else 0
        overrides = rng.randint(1, 3) if rng.random() < 0.3 else 0
        picked = rng.sample(range(1, 13), exdates + overrides)
        event(uid, f"DTSTART;{local(start)}", f"DTEND;{local(end)}", f"RRULE:{rule}",
              *(f"EXDATE;{local(start + step * k)}" for k in sorted(picked[:exdates])))
        for k in sorted(picked[exdates:]):   # moved (or, one in five, cancelled) occurrences
            original = start + step * k
            moved = original + rng.choice((timedelta(hours=1), timedelta(days=1), timedelta(hours=-2)))
            extra = ["STATUS:CANCELLED"] if rng.random() < 0.2 else []
            event(uid, f"RECURRENCE-ID;{local(original)}", f"DTSTART;{local(moved)}",
                  f"DTEND;{local(moved + length)}", *extra)
    while count < N_EVENTS:
        day = first_day + timedelta(days=rng.randrange(days))
        uid = f"single-{count:05d}-{rng.getrandbits(48):012x}@google.example"
        r = rng.random()
        if r < 0.03:  # all-day (a mediator's setting decides; here: not busy)
            event(uid, f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}")
            continue
        start = datetime(day.year, day.month, day.day, rng.randrange(7, 20), rng.choice((0, 15, 30, 45)))
        end = start + timedelta(minutes=rng.choice((15, 30, 45, 60, 60, 90, 120, 180)))
        if r < 0.13:  # Google writes UTC
            u, v = (t.replace(tzinfo=TZ).astimezone(UTC) for t in (start, end))
            event(uid, f"DTSTART:{u:%Y%m%dT%H%M%SZ}", f"DTEND:{v:%Y%m%dT%H%M%SZ}")
        else:
            event(uid, f"DTSTART;{local(start)}", f"DTEND;{local(end)}", *(["TRANSP:TRANSPARENT"] if r > 0.95 else []))
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def force_full(db: Database, source_id: int) -> None:
    """Forget the source's hash and validators, as an edit does, so the next sync parses and writes again."""
    with db.write_session() as session:
        source = session.get(CalendarSource, source_id)
        source.content_hash = source.etag = source.last_modified = None


def synced(db: Database, source_id: int, now: datetime, settings: Settings, *, changed: bool) -> None:
    """`sync_source` as production runs it; the outcome must be the expected one."""
    outcome = sync_source(db, source_id, now, settings)
    assert outcome.status == "ok" and outcome.changed is changed, outcome


def floor(data: bytes, window: tuple[datetime, datetime]) -> list[Any]:
    return list(recurring_ical_events.of(Calendar.from_ical(data)).between(*window))


def serve(data: bytes) -> tuple[ThreadingHTTPServer, str]:
    class Feed(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/agenda.ics"


CPU: dict[str, list[float]] = {"import": [], "floor": []}


def timed(fn: Callable[[], object], cpu: str | None = None) -> float:
    """Wall time of `fn`; with `cpu`, this process's CPU time is kept too (load-independent, PostgreSQL's excluded)."""
    t0, c0 = clock.perf_counter(), clock.process_time()
    fn()
    if cpu is not None:
        CPU[cpu].append(clock.process_time() - c0)
    return clock.perf_counter() - t0


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 1 else f"{seconds * 1000:.1f} ms"


def check(db: Database, source_id: int, occurrences: list[Any]) -> None:
    """Correctness before speed: what Pendel stored is what the libraries expand (busy, timed occurrences)."""
    expected = [o for o in occurrences if is_busy(o) and isinstance(o["DTSTART"].dt, datetime)]
    want = sorted((o["DTSTART"].dt.astimezone(UTC), o["DTEND"].dt.astimezone(UTC)) for o in expected)
    with db.session() as session:
        stored = sorted(tuple(row) for row in session.execute(
            select(BusyBlock.starts_at, BusyBlock.ends_at).where(BusyBlock.source_id == source_id)))
    assert stored == want, f"stored {len(stored)} busy blocks, the libraries expand {len(want)} busy occurrences"
    print(f"Pendel stored {len(stored)} busy blocks: the same intervals as the libraries' busy occurrences")


def run(db: Database, runs: int, started: float) -> int:
    upgrade(db.engine)
    now = utcnow()  # fixed for the run: the sync window (and so the content hash) is per UTC day
    settings = Settings(environment="testing", database_url=db.url, secret_key="bench-secret",
                        public_base_url="https://pendel.bench", calendar_window_past_days=28,
                        calendar_window_future_weeks=52, calendar_max_mb=20, calendar_allow_private_addresses=True)
    window = sync_window(now, settings)
    first_day = (now - timedelta(days=28)).astimezone(TZ).date()
    data = build_feed(random.Random(SEED), first_day, 365)
    server, url = serve(data)
    try:
        with db.write_session() as session:
            mediator = Mediator(name="Bench", email="bench@example.org", working_hours=[], buffer_minutes=0)
            session.add(mediator)
            session.flush()
            # The upload row is written directly: create_source would import the file at once, untimed.
            upload = CalendarSource(mediator_id=mediator.id, kind="upload", label="upload", upload_data=data,
                                    all_day_busy=False)
            session.add(upload)
            session.flush()
            by_url = create_source(session, None, {"owner": {"mediator_id": mediator.id}, "kind": "ics_url",
                                                   "url": url, "all_day_busy": False}, now, settings)
            # Left as a good sync of this feed leaves it (hash of bytes + window day), without a second
            # 20-second import: the second sync's path (fetch, hash, compare) only reads the hash.
            by_url.content_hash = content_hash(data, window[0], False)
            by_url.status, by_url.last_synced_at = "ok", now
            upload_id, url_id = upload.id, by_url.id
        print(f"feed: {len(data) / 1048576:.1f} MB, {data.count(b'BEGIN:VEVENT')} VEVENTs ({N_SERIES} recurring "
              f"series); sync window {window[0]:%Y-%m-%d} .. {window[1]:%Y-%m-%d} UTC")
        samples: dict[str, list[float]] = {"import": [], "floor": [], "second": []}
        for round_no in range(runs):   # interleaved, one of each per round
            force_full(db, upload_id)
            samples["import"].append(timed(lambda: synced(db, upload_id, now, settings, changed=True), "import"))
            found: list[list[Any]] = []
            samples["floor"].append(timed(lambda: found.append(floor(data, window)), "floor"))
            occurrences = found[0]
            if round_no == 0:
                check(db, upload_id, occurrences)
            samples["second"].extend(timed(lambda: synced(db, url_id, now, settings, changed=False))
                                     for _ in range(3))
    finally:
        server.shutdown()

    (i_med, i_min), (f_med, f_min), (s_med, s_min) = (
        (statistics.median(samples[k]), min(samples[k])) for k in ("import", "floor", "second"))
    print()
    print(f"{runs} rounds, interleaved; total run time {clock.perf_counter() - started:.0f} s")
    print(f"Pendel full import (sync_source of an upload source): median {ms(i_med)} (min {ms(i_min)})")
    print(f"floor (Calendar.from_ical + recurring_ical_events.between): median {ms(f_med)} (min {ms(f_min)})")
    print(f"ratio: {i_med / f_med:.2f} (target <= 1.5; {i_min / f_min:.2f} on the minima; "
          f"{statistics.median(CPU['import']) / statistics.median(CPU['floor']):.2f} on this process's CPU time)")
    print(f"second sync, unchanged feed as a 200 over HTTP: median {ms(s_med)} (min {ms(s_min)}), "
          f"{s_med / i_med * 100:.1f}% of the full import (target < 5%)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2, help="rounds of import, floor and 3 second syncs")
    args = parser.parse_args()
    started = clock.perf_counter()
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"pendel_bench_ics_{os.getpid()}"
    db: Database | None = None
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        db = Database(make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False))
        return run(db, args.runs, started)
    finally:
        if db is not None:
            db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
