"""calendars.ics_limits through parse_busy: recurrences too costly to expand are skipped or refused, cheaply."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from calendars.ics_import import FeedError, parse_busy

WINDOW = (datetime(2026, 3, 2, tzinfo=timezone.utc), datetime(2026, 9, 7, tzinfo=timezone.utc))


def feed(*events: tuple[str, str]) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\nUID:e{n}\r\nDTSTART:{start}\r\nDURATION:PT30M\r\nRRULE:{rule}\r\nEND:VEVENT\r\n"
                   for n, (start, rule) in enumerate(events))
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{body}END:VCALENDAR\r\n".encode()


def parse(data: bytes):  # type: ignore[no-untyped-def]
    return parse_busy(data, *WINDOW, default_tz=ZoneInfo("Europe/Amsterdam"), all_day_busy=True)


@pytest.mark.parametrize("start, rule", [
    ("20260309T090000Z", "FREQ=MINUTELY;COUNT=1000000"),
    ("19700101T000000Z", "FREQ=SECONDLY"),
    ("20000101T000000Z", "FREQ=MINUTELY"),
    ("20000101T000000Z", "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=8,9,10,11,12,13,14,15,16;BYMINUTE=0,15,30,45"),
])
def test_a_recurrence_too_frequent_to_expand_is_skipped_and_the_rest_kept(start: str, rule: str) -> None:
    result = parse(feed((start, rule), ("20260310T090000Z", "FREQ=WEEKLY;COUNT=3")))
    assert result.skipped_reasons == ("UID e0: recurrence too frequent to expand",)
    assert [i.uid for i in result.intervals] == ["e1"] * 3


@pytest.mark.parametrize("start, rule, count", [
    ("19900101T090000Z", "FREQ=WEEKLY;BYDAY=MO,TU", 54),
    ("20260309T090000Z", "FREQ=HOURLY;COUNT=40", 40),
    ("19700101T090000Z", "FREQ=DAILY;INTERVAL=7", 27),
])
def test_ordinary_long_running_rules_are_expanded(start: str, rule: str, count: int) -> None:
    result = parse(feed((start, rule)))
    assert (len(result.intervals), result.skipped_events) == (count, 0)


def test_a_feed_whose_series_together_cost_too_much_is_refused() -> None:
    many = [("20210309T090000Z", "FREQ=HOURLY")] * 30  # each under the series limit, together far over
    with pytest.raises(FeedError, match="too many recurring events"):
        parse(feed(*many))
