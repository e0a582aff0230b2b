"""calendars.ics_import.parse_busy: exact busy intervals from real-looking exports.

Every expected interval is written out in UTC for the window 2 March - 13 April
2026, which contains the spring DST change (Sunday 29 March 2026).
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calendars.ics_import import BusyInterval, FeedError, parse_busy

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ics"
AMS = ZoneInfo("Europe/Amsterdam")
UTC = timezone.utc
WINDOW = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 4, 13, tzinfo=UTC))
OUTLOOK_UID = "040000008200E00074C5B7101A82E00800000000{}DC01000000000000000010000000{}"
TEAM = OUTLOOK_UID.format("D0E2A1B5C8A4", "F3C5B8E2A1D44B4C9A1E2F3A4B5C6D7E")


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def busy(data: bytes, all_day_busy: bool = True, tz: ZoneInfo = AMS, **kw) -> list[tuple]:
    """(start, end, uid, recurrence_id) per interval, times as 'YYYY-MM-DDTHH:MM' UTC."""
    result = parse_busy(data, *WINDOW, default_tz=tz, all_day_busy=all_day_busy, **kw)
    assert result.skipped_events == 0, result.skipped_reasons
    return rows(result.intervals)


def rows(intervals: tuple[BusyInterval, ...]) -> list[tuple]:
    for i in intervals:
        assert i.start.utcoffset() == timedelta(0) and i.end > i.start
    return [(f"{i.start:%Y-%m-%dT%H:%M}", f"{i.end:%Y-%m-%dT%H:%M}", i.uid, i.recurrence_id) for i in intervals]


def rid(text: str) -> str:  # recurrence ids are ISO UTC
    return f"{text}:00+00:00"


# --- Outlook / Exchange: Windows zone names, FREE/TENTATIVE/OOF, EXDATE, a moved occurrence
OUTLOOK_TIMED = [
    ("2026-03-02T08:30", "2026-03-02T09:30", TEAM, rid("2026-03-02T08:30")),
    ("2026-03-09T08:30", "2026-03-09T09:30", TEAM, rid("2026-03-09T08:30")),
    # TENTATIVE counts as busy; 14:00-15:30 CET
    ("2026-03-11T13:00", "2026-03-11T14:30", OUTLOOK_UID.format("C3D4E5F6A7B8", "3333444455556666777788889999CCCC"), None),
    # 16 March is an EXDATE; 23 March moved to Tuesday 24 March 14:00 CET
    ("2026-03-24T13:00", "2026-03-24T14:00", TEAM, rid("2026-03-23T08:30")),
    ("2026-03-30T07:30", "2026-03-30T08:30", TEAM, rid("2026-03-30T07:30")),  # 09:30 CEST
    ("2026-04-06T07:30", "2026-04-06T08:30", TEAM, rid("2026-04-06T07:30")),  # last (UNTIL)
    # "GMT Standard Time" has no VTIMEZONE: CLDR maps it to Europe/London (BST)
    ("2026-04-08T15:00", "2026-04-08T16:00", OUTLOOK_UID.format("E5F6A7B8C9D0", "55556666777788889999AAAABBBBEEEE"), None),
]
OUTLOOK_OOF = ("2026-03-31T22:00", "2026-04-02T22:00", OUTLOOK_UID.format("D4E5F6A7B8C9", "4444555566667777888899990000DDDD"), None)


def test_outlook_exchange_exact_intervals() -> None:
    data = load("outlook_exchange.ics")
    assert busy(data, all_day_busy=True) == sorted(OUTLOOK_TIMED + [OUTLOOK_OOF])
    # FREE (with TRANSPARENT, and FREE alone on an OPAQUE event) never shows up
    assert busy(data, all_day_busy=False) == OUTLOOK_TIMED


# --- Google: X-WR-TIMEZONE with UTC times, a series across DST, a cancelled occurrence
SPREEKUUR = "5q2m8v0c1k3h7n9p4r6t8s0u2w@google.com"
GOOGLE_TIMED = [
    ("2026-03-05T09:00", "2026-03-05T10:00", SPREEKUUR, rid("2026-03-05T09:00")),
    ("2026-03-12T09:00", "2026-03-12T10:00", SPREEKUUR, rid("2026-03-12T09:00")),
    # 19 March: RECURRENCE-ID + STATUS:CANCELLED
    ("2026-03-26T09:00", "2026-03-26T10:00", SPREEKUUR, rid("2026-03-26T09:00")),
    ("2026-04-02T08:00", "2026-04-02T09:00", SPREEKUUR, rid("2026-04-02T08:00")),  # still 10:00 local
    ("2026-04-07T13:00", "2026-04-07T14:30", "4mno5pqr6stu7vwx8yza9bcd0e@google.com", None),
    ("2026-04-09T08:00", "2026-04-09T09:00", SPREEKUUR, rid("2026-04-09T08:00")),
]
# all-day on the DST Sunday: 23 hours, local midnight to midnight
GOOGLE_ALL_DAY = ("2026-03-28T23:00", "2026-03-29T22:00", "0abc1def2ghi3jkl4mno5pqr6s@google.com", None)


def test_google_exact_intervals() -> None:
    data = load("google.ics")
    assert busy(data, all_day_busy=True) == sorted(GOOGLE_TIMED + [GOOGLE_ALL_DAY])
    assert busy(data, all_day_busy=False) == GOOGLE_TIMED


def test_google_series_keeps_local_clock_time_across_dst() -> None:
    result = parse_busy(load("google.ics"), *WINDOW, default_tz=AMS, all_day_busy=False)
    local = {i.start.astimezone(AMS).time() for i in result.intervals if i.uid == SPREEKUUR}
    assert local == {time(10)}
    # without the header the series would recur in UTC and jump an hour in April
    plain = load("google.ics").replace(b"X-WR-TIMEZONE:Europe/Amsterdam\r\n", b"")
    april = [r for r in busy(plain, all_day_busy=False) if r[2] == SPREEKUUR and r[0] > "2026-04"]
    assert [r[0] for r in april] == ["2026-04-02T09:00", "2026-04-09T09:00"]


def test_bom_and_bare_lf_are_tolerated() -> None:
    data = b"\xef\xbb\xbf" + load("google.ics").replace(b"\r\n", b"\n")
    assert busy(data, all_day_busy=False) == GOOGLE_TIMED


# --- iCloud: VTIMEZONE Europe/Amsterdam, RDATE, a floating time, all-day events
INTERVISIE = "6B1F0C2E-3D4A-4E5B-9C6D-7E8F9A0B1C2D"
ICLOUD_TIMED = [
    ("2026-03-04T09:00", "2026-03-04T10:30", INTERVISIE, rid("2026-03-04T09:00")),
    ("2026-03-12T14:00", "2026-03-12T15:00", "A9B8C7D6-E5F4-4321-8765-0FEDCBA98765", None),  # floating 15:00
    ("2026-03-18T09:00", "2026-03-18T10:30", INTERVISIE, rid("2026-03-18T09:00")),  # RDATE
    ("2026-04-01T08:00", "2026-04-01T09:30", INTERVISIE, rid("2026-04-01T08:00")),  # RDATE, CEST
]
ICLOUD_ALL_DAY = ("2026-03-08T23:00", "2026-03-09T23:00", "1C2D3E4F-5A6B-4C7D-8E9F-0A1B2C3D4E5F", None)


def test_icloud_exact_intervals() -> None:
    data = load("icloud.ics")
    # the transparent all-day holiday (6 April) is never busy
    assert busy(data, all_day_busy=True) == sorted(ICLOUD_TIMED + [ICLOUD_ALL_DAY])
    assert busy(data, all_day_busy=False) == ICLOUD_TIMED


def test_floating_time_and_all_day_follow_the_source_zone() -> None:
    london = busy(load("icloud.ics"), tz=ZoneInfo("Europe/London"))
    assert ("2026-03-12T15:00", "2026-03-12T16:00", "A9B8C7D6-E5F4-4321-8765-0FEDCBA98765", None) in london
    assert ("2026-03-09T00:00", "2026-03-10T00:00", ICLOUD_ALL_DAY[2], None) in london
    # zoned events do not move with the source zone
    assert ICLOUD_TIMED[0] in london


# --- Nextcloud: DURATION, TENTATIVE, daily COUNT across DST, DTSTART-only events, our own event
SCHOONMAAK = "c0ffee00-1234-4abc-9def-00112233aabb"
PENDEL_OWN = ("2026-03-19T09:00", "2026-03-19T10:00", "appt-7f3e9c2a41@pendel", None)
NEXTCLOUD = [
    ("2026-03-09T07:30", "2026-03-09T08:15", "3f6c2a1e-8b9d-4c7e-a1f2-0b3c4d5e6f70", None),  # DURATION:PT45M
    ("2026-03-17T12:00", "2026-03-17T13:00", "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", None),  # TENTATIVE
    ("2026-03-27T06:45", "2026-03-27T07:15", SCHOONMAAK, rid("2026-03-27T06:45")),
    ("2026-03-28T06:45", "2026-03-28T07:15", SCHOONMAAK, rid("2026-03-28T06:45")),
    ("2026-03-29T05:45", "2026-03-29T06:15", SCHOONMAAK, rid("2026-03-29T05:45")),
    ("2026-03-30T05:45", "2026-03-30T06:15", SCHOONMAAK, rid("2026-03-30T05:45")),
    ("2026-03-31T05:45", "2026-03-31T06:15", SCHOONMAAK, rid("2026-03-31T05:45")),  # COUNT=5
    ("2026-04-02T12:00", "2026-04-02T13:00", "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6", None),  # UTC
]
# DTSTART;VALUE=DATE only: one day. The DTSTART-only DATE-TIME (zero length) is absent.
NEXTCLOUD_ALL_DAY = ("2026-04-09T22:00", "2026-04-10T22:00", "e2f3a4b5-c6d7-4e8f-90a1-b2c3d4e5f6a7", None)


def test_nextcloud_exact_intervals_and_own_events_left_out() -> None:
    data = load("nextcloud.ics")
    assert busy(data, ignore_uid_suffix="@pendel") == sorted(NEXTCLOUD + [NEXTCLOUD_ALL_DAY])
    assert busy(data, all_day_busy=False, ignore_uid_suffix="@pendel") == NEXTCLOUD
    assert busy(data, all_day_busy=False) == sorted(NEXTCLOUD + [PENDEL_OWN])
    assert busy(data, all_day_busy=False, ignore_uid_suffix="@elsewhere") == sorted(NEXTCLOUD + [PENDEL_OWN])


# --- broken input
def test_one_broken_event_is_skipped_and_counted() -> None:
    result = parse_busy(load("broken_one_event.ics"), *WINDOW, default_tz=AMS, all_day_busy=True)
    assert result.skipped_events == 1
    assert result.skipped_reasons == ("UID broken-1@thunderbird.example.org: invalid DTSTART",)
    assert not any("Jansen" in r or "Geheim" in r for r in result.skipped_reasons)
    assert rows(result.intervals) == [
        ("2026-03-03T09:00", "2026-03-03T10:30", "good-1@thunderbird.example.org", None),
        *[(f"2026-03-{d}T13:00", f"2026-03-{d}T14:00", "good-2@thunderbird.example.org", rid(f"2026-03-{d}T13:00"))
          for d in ("06", "13", "20")],
    ]


def feed(*events: str, head: str = "") -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{head}{body}END:VCALENDAR\r\n".encode()


GOOD = "UID:g\r\nDTSTART:20260303T100000Z\r\nDTEND:20260303T110000Z"
GOOD_ROW = ("2026-03-03T10:00", "2026-03-03T11:00", "g", None)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("UID:r\r\nDTSTART:20260304T100000Z\r\nDTEND:20260304T110000Z\r\nRRULE:FREQ=SOMETIMES", "invalid RRULE"),
        ("UID:r\r\nDTEND:20260304T110000Z", "missing DTSTART"),
        ("UID:r\r\nDTSTART;TZID=\"Europe/Amsterdam:20260304T100000\r\nDURATION:PT1H", "missing DTSTART"),
        ("UID:r\r\nDTSTART:20260304T100000Z\r\nBEGIN:VALARM\r\nTRIGGER:-PT5M", "unparseable event"),
    ],
)
def test_other_broken_events_are_skipped(event: str, reason: str) -> None:
    result = parse_busy(feed(GOOD, event), *WINDOW, default_tz=AMS, all_day_busy=True)
    assert (result.skipped_events, result.skipped_reasons) == (1, (f"UID r: {reason}",))
    assert rows(result.intervals) == [GOOD_ROW]


def test_a_stray_line_in_an_event_does_not_cost_the_event() -> None:
    # an unescaped newline in DESCRIPTION, as some exporters write it
    stray = "UID:s\r\nDESCRIPTION:Eerste regel\r\ntweede regel zonder dubbele punt\r\n" + GOOD.split("\r\n", 1)[1]
    assert busy(feed(stray)) == [(*GOOD_ROW[:2], "s", None)]


def test_broken_override_drops_only_the_override() -> None:
    series = "UID:s\r\nDTSTART:20260302T100000Z\r\nDTEND:20260302T110000Z\r\nRRULE:FREQ=DAILY;COUNT=2"
    override = "UID:s\r\nRECURRENCE-ID:20260303T100000Z\r\nDTSTART:2026030X\r\nDTEND:20260303T150000Z"
    result = parse_busy(feed(series, override), *WINDOW, default_tz=AMS, all_day_busy=True)
    assert result.skipped_events == 1
    # the original occurrence stays busy: better busy than a double booking
    assert [r[0] for r in rows(result.intervals)] == ["2026-03-02T10:00", "2026-03-03T10:00"]


@pytest.mark.parametrize("data", [
    b"", b" \r\n\r\n", b'{"error": "not found"}', b"BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n",
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n",  # cut off
    b"BEGIN:VCALENDAR\r\nno colon here\r\nEND:VCALENDAR\r\n",  # broken outside any event
    (FIXTURES / "not_ical.html").read_bytes(),
])
def test_unusable_feeds_raise_feed_error(data: bytes) -> None:
    with pytest.raises(FeedError) as info:
        parse_busy(data, *WINDOW, default_tz=AMS, all_day_busy=True)
    assert not any(w in str(info.value) for w in ("AADSTS", "not found", "no colon"))  # no feed text


def test_truncated_download_is_a_feed_error_not_fewer_events() -> None:
    with pytest.raises(FeedError):
        parse_busy(load("google.ics")[:1000], *WINDOW, default_tz=AMS, all_day_busy=True)


# --- zones
def custom_zone_feed(std: str, dst: str) -> bytes:
    rule = "TZOFFSETFROM:{}\r\nTZOFFSETTO:{}\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH={}\r\n"
    vtz = (f"BEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n"
           f"{rule.format(dst, std, 10)}END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\n"
           f"{rule.format(std, dst, 3)}END:DAYLIGHT\r\nEND:VTIMEZONE\r\n")
    return feed("UID:c\r\nDTSTART;TZID=Customized Time Zone:20260310T100000\r\n"
                "DTEND;TZID=Customized Time Zone:20260310T110000", head=vtz)


def test_each_feed_uses_its_own_definition_of_a_custom_tzid() -> None:
    # icalendar caches unknown VTIMEZONEs process-wide by TZID, first one wins
    assert busy(custom_zone_feed("+0100", "+0200"))[0][:2] == ("2026-03-10T09:00", "2026-03-10T10:00")
    assert busy(custom_zone_feed("-0500", "-0400"))[0][:2] == ("2026-03-10T15:00", "2026-03-10T16:00")


@pytest.mark.parametrize(
    ("tzid", "start"),
    [("W. Europe Standard Time", "2026-03-10T09:00"), ('"tzone://Microsoft/Utc"', "2026-03-10T10:00"),
     ("Unknown Zone", "2026-03-10T09:00"), ("Europe/London", "2026-03-10T10:00")],
)
def test_tzids_without_vtimezone(tzid: str, start: str) -> None:
    data = feed(f"UID:z\r\nDTSTART;TZID={tzid}:20260310T100000\r\nDURATION:PT1H")
    assert busy(data)[0][0] == start  # an unknown zone is read as the source's zone


# --- window, interface, privacy
def test_overlapping_intervals_are_kept_whole_and_touching_ones_left_out() -> None:
    data = feed("UID:a\r\nDTSTART:20260301T230000Z\r\nDTEND:20260302T010000Z",
                "UID:b\r\nDTSTART:20260301T220000Z\r\nDTEND:20260302T000000Z",
                "UID:c\r\nDTSTART:20260413T000000Z\r\nDTEND:20260413T010000Z")
    assert busy(data) == [("2026-03-01T23:00", "2026-03-02T01:00", "a", None)]


def test_only_times_and_identity_are_kept() -> None:
    assert [f.name for f in dataclasses.fields(BusyInterval)] == ["start", "end", "uid", "recurrence_id"]
    result = parse_busy(load("outlook_exchange.ics"), *WINDOW, default_tz=AMS, all_day_busy=True)
    assert "Teamoverleg" not in repr(result) and "mediator.a" not in repr(result)


@pytest.mark.parametrize("window", [(datetime(2026, 3, 2), WINDOW[1]), (WINDOW[1], WINDOW[0])])
def test_window_must_be_aware_and_ordered(window: tuple[datetime, datetime]) -> None:
    with pytest.raises(ValueError):
        parse_busy(feed(GOOD), *window, default_tz=AMS, all_day_busy=True)


# --- property: a weekly series with random EXDATEs yields exactly the remaining weeks
@settings(deadline=None, max_examples=60)
@given(
    first=st.dates(date(2026, 1, 1), date(2026, 12, 31)),
    start_at=st.times(time(7), time(18)).map(lambda t: t.replace(second=0, microsecond=0)),
    minutes=st.integers(15, 240),
    count=st.integers(1, 30),
    excluded=st.sets(st.integers(0, 29), max_size=10),
    tzid=st.sampled_from(["Europe/Amsterdam", "W. Europe Standard Time", None]),
    one_line=st.booleans(),
)
def test_weekly_series_with_exdates(first, start_at, minutes, count, excluded, tzid, one_line) -> None:
    local = [datetime.combine(first + timedelta(weeks=k), start_at) for k in range(count)]
    param = f";TZID={tzid}" if tzid else ""  # None: floating, read in default_tz
    stamp = [f"{d:%Y%m%dT%H%M%S}" for k, d in enumerate(local) if k in excluded]
    exdates = ([f"EXDATE{param}:{','.join(stamp)}"] if one_line else [f"EXDATE{param}:{s}" for s in stamp]) if stamp else []
    data = feed("\r\n".join([f"UID:w\r\nDTSTART{param}:{local[0]:%Y%m%dT%H%M%S}", f"DURATION:PT{minutes}M",
                             f"RRULE:FREQ=WEEKLY;COUNT={count}", *exdates]))
    window = (datetime(2025, 12, 1, tzinfo=UTC), datetime(2027, 8, 1, tzinfo=UTC))
    result = parse_busy(data, *window, default_tz=AMS, all_day_busy=True)
    zone = ZoneInfo("Europe/Berlin") if tzid == "W. Europe Standard Time" else AMS
    utc = [(d.replace(tzinfo=zone).astimezone(UTC), d + timedelta(minutes=minutes)) for k, d in enumerate(local)
           if k not in excluded]
    expected = [(s, e.replace(tzinfo=zone).astimezone(UTC)) for s, e in utc]
    assert [(i.start, i.end) for i in result.intervals] == expected
    assert [i.recurrence_id for i in result.intervals] == [s.isoformat() for s, _ in expected]
    assert result.skipped_events == 0


def test_a_uid_with_control_characters_or_of_any_length_is_stored_as_the_database_can_keep_it() -> None:
    """PostgreSQL refuses NUL in text and busy_blocks.uid holds 500 characters (found by the ICS fuzz)."""
    from calendars.ics_import import UID_MAX, storable_uid

    long_uid = "x" * 2000 + "@example.org"
    feed = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\x00b\x07c@example.org\r\n"
            "DTSTART:20260310T090000Z\r\nDTEND:20260310T100000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\n"
            f"UID:{long_uid}\r\nDTSTART:20260311T090000Z\r\nDTEND:20260311T100000Z\r\nEND:VEVENT\r\n"
            "END:VCALENDAR\r\n").encode()
    result = parse_busy(feed, *WINDOW, default_tz=AMS, all_day_busy=False)
    uids = sorted(i.uid for i in result.intervals)
    assert uids[0] == "abc@example.org"
    assert len(uids[1]) == UID_MAX and uids[1] == storable_uid(long_uid) != storable_uid(long_uid + "2")
