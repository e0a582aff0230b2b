"""Mutated real-world feeds through the real sync (issue 14, "an ICS fuzz").

Each example serves one of tests/fixtures/ics/*.ics from the loopback feed
server, syncs it (calendars.sync.sync_source, as test_calendar_sync.py does),
then serves a mutation of it and syncs again: cut off at a random byte,
events shuffled, time zones undefined or made up, a huge recurrence added
(FREQ=MINUTELY;COUNT=1000000, FREQ=SECONDLY without an end, an expansion of
every minute of the year), random bytes spliced in, empty or blank.

Properties: the sync never raises; it ends with status ok (and then the
blocks are exactly what the importer reads in the mutated feed; a shuffle
changes nothing) or status error with a staff-fit last_error, and then the
busy blocks of the last good sync are all still there, row for row. No
wall clock: a sync that expanded a huge rule would simply not finish in the
run's time (calendars.ics_limits is what keeps it short).
"""
from __future__ import annotations

import random
import re
from datetime import timedelta
from itertools import count
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from calendars.sync import sync_source
from core.config import Settings
from core.db import Database
from tests.integration.test_calendar_sync import (FIXTURES, NOW, add_source, blocks, cal, expected,  # noqa: F401
                                                  server, source, times)
from tests.support.feed_server import FeedServer, Reply

FEEDS = {path.name: path.read_bytes() for path in sorted(FIXTURES.glob("*.ics"))}
_paths = count(1)
_EVENT = re.compile(rb"BEGIN:VEVENT\r?\n.*?END:VEVENT\r?\n", re.DOTALL)
_TZID = re.compile(rb"TZID=[^:;]+")
_VTIMEZONE = re.compile(rb"BEGIN:VTIMEZONE\r?\n.*?END:VTIMEZONE\r?\n", re.DOTALL)
HUGE = [("20260309T090000Z", "FREQ=MINUTELY;COUNT=1000000"), ("19700101T000000Z", "FREQ=SECONDLY"),
        ("20000101T000000", "FREQ=MINUTELY;INTERVAL=1"),
        ("20260301T000000Z", "FREQ=YEARLY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12;BYDAY=MO,TU,WE,TH,FR,SA,SU;"
                             "BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=0,30"),
        ("20260310T080000", "FREQ=DAILY;COUNT=1000000")]  # the last one is cheap: daily within the window


def truncate(body: bytes, rnd: random.Random) -> bytes:
    return body[:rnd.randrange(len(body))]


def shuffle(body: bytes, rnd: random.Random) -> bytes:
    events = _EVENT.findall(body)
    rnd.shuffle(events)
    first = _EVENT.search(body)
    rest = _EVENT.sub(b"", body)
    at = first.start() if first else rest.rfind(b"END:VCALENDAR")
    return rest[:at] + b"".join(events) + rest[at:]


def undefined_zone(body: bytes, rnd: random.Random) -> bytes:
    """The events still name their TZID, but the feed no longer defines it."""
    return _VTIMEZONE.sub(b"", body).replace(b"TZID=Europe/Amsterdam", b"TZID=Customized Time Zone")


def made_up_zone(body: bytes, rnd: random.Random) -> bytes:
    zone = rnd.choice([b"Mars/Olympus_Mons", b"Europe/Amsterdamm", b"GMT+25", b"", b"tzone://Microsoft/Nowhere"])
    body = _TZID.sub(b"TZID=" + zone, body)
    return body.replace(b"X-WR-TIMEZONE:", b"X-WR-TIMEZONE:Nowhere/") if rnd.random() < 0.5 else body


def huge_recurrence(body: bytes, rnd: random.Random) -> bytes:
    start, rule = rnd.choice(HUGE)
    event = (f"BEGIN:VEVENT\r\nUID:fuzz-{rnd.randrange(10**6)}\r\nDTSTAMP:20260301T000000Z\r\nDTSTART:{start}\r\n"
             f"DURATION:PT15M\r\nRRULE:{rule}\r\nSUMMARY:Elke minuut\r\nEND:VEVENT\r\n").encode()
    at = body.rfind(b"END:VCALENDAR")
    return body[:at] + event + body[at:]


def garbage(body: bytes, rnd: random.Random) -> bytes:
    at = rnd.randrange(len(body) + 1)
    junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 64)))
    return body[:at] + junk + body[at + rnd.randrange(0, 32):]


def empty(body: bytes, rnd: random.Random) -> bytes:
    return rnd.choice([b"", b"\r\n", b" \t\r\n\r\n", b"\xef\xbb\xbf"])


MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {f.__name__: f for f in (
    truncate, shuffle, undefined_zone, made_up_zone, huge_recurrence, garbage, empty)}


def check_mutation(database: Database, cal: Settings, server: FeedServer, feed: str, mutation: str,
                   seed: int) -> None:
    original = FEEDS[feed]
    mutated = MUTATIONS[mutation](original, random.Random(seed))
    path = f"/fuzz{next(_paths)}.ics"
    server.routes[path] = Reply(body=original)
    sid = add_source(database, cal, url=server.url(path))
    first = sync_source(database, sid, NOW, cal)
    good = blocks(database, sid)
    assert first.status == "ok" and good, first

    server.routes[path] = Reply(body=mutated)
    later = NOW + timedelta(minutes=30)
    outcome = sync_source(database, sid, later, cal)  # returns: it raised nothing and did not run away
    row = source(database, sid)
    assert outcome.status in ("ok", "error") and row.status == outcome.status
    if outcome.status == "error":
        assert row.last_error and outcome.error and row.last_synced_at == NOW and row.last_attempt_at == later
        assert "unexpected" not in row.last_error, row.last_error  # a known failure, not a bug caught late
        assert blocks(database, sid) == good  # the last good copy, row for row
    else:
        assert times(blocks(database, sid)) == expected(mutated, cal, later)
        if mutation == "shuffle":
            assert times(blocks(database, sid)) == times(good)
    if mutation in ("empty", "truncate") and mutated.strip() != original.strip():
        assert outcome.status == "error"


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(feed=st.sampled_from(sorted(FEEDS)), mutation=st.sampled_from(sorted(MUTATIONS)),
       seed=st.integers(0, 2**32 - 1))
def test_a_mutated_feed_never_crashes_the_sync_or_wipes_the_last_good_copy(
        database: Database, cal: Settings, server: FeedServer, feed: str, mutation: str, seed: int) -> None:
    check_mutation(database, cal, server, feed, mutation, seed)


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("seed", [0, 1])
def test_every_mutation_of_the_google_feed(database: Database, cal: Settings, server: FeedServer, mutation: str,
                                           seed: int) -> None:
    """Each mutation at least a few times, whatever hypothesis draws; the huge rules one by one."""
    check_mutation(database, cal, server, "google.ics", mutation, seed)


@pytest.mark.parametrize("start, rule", HUGE[:-1])
def test_each_huge_recurrence_is_left_out_and_the_rest_of_the_feed_kept(
        database: Database, cal: Settings, server: FeedServer, start: str, rule: str) -> None:
    body = FEEDS["nextcloud.ics"]
    event = (f"BEGIN:VEVENT\r\nUID:huge\r\nDTSTART:{start}\r\nDURATION:PT15M\r\nRRULE:{rule}\r\n"
             "END:VEVENT\r\n").encode()
    at = body.rfind(b"END:VCALENDAR")
    server.routes["/huge.ics"] = Reply(body=body[:at] + event + body[at:])
    sid = add_source(database, cal, url=server.url("/huge.ics"))
    outcome = sync_source(database, sid, NOW, cal)
    assert outcome.status == "ok" and source(database, sid).skipped_events >= 1
    assert times(blocks(database, sid)) == expected(body, cal)  # the huge one left out, nothing else
