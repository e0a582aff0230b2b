"""How much work a feed's recurrences may cost before we expand them.

The recurrence library walks a rule from its DTSTART, one occurrence at a
time, up to the end of the sync window: `FREQ=SECONDLY` from 1970, or
`FREQ=MINUTELY;COUNT=1000000`, would keep a sync busy for minutes to hours
(and the latter writes a quarter of a million busy blocks). No real calendar
needs that, so before expanding we estimate an upper bound on the steps a
rule takes (periods from DTSTART to the window's end, times the values of
every BY-part finer than the frequency, capped by COUNT): a series above
`MAX_SERIES_STEPS` is skipped like a broken event (counted, with a reason),
and a feed whose series together exceed `MAX_FEED_STEPS` is refused as a
whole (the last good copy stays).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from icalendar import Component

MAX_SERIES_STEPS = 50_000   # e.g. hourly for five and a half years, daily since 1890
MAX_FEED_STEPS = 1_000_000  # a few seconds of expanding at most

_SECONDS = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600, "DAILY": 86400, "WEEKLY": 7 * 86400,
            "MONTHLY": 28 * 86400, "YEARLY": 365 * 86400}
# BY-parts with the span in which each of their values occurs once (BYDAY=MO: once a week). Within a
# longer period they add occurrences; within a shorter one they only filter.
_ONCE_PER = {"BYSECOND": "MINUTELY", "BYMINUTE": "HOURLY", "BYHOUR": "DAILY", "BYDAY": "WEEKLY",
             "BYMONTHDAY": "MONTHLY", "BYYEARDAY": "YEARLY", "BYWEEKNO": "YEARLY", "BYMONTH": "YEARLY"}


def series_steps(components: list[Component], window_end: datetime) -> int:
    """An upper bound on the occurrences the recurrence library walks for these components."""
    return sum(_rule_steps(rule, c, window_end) for c in components for rule in _rules(c))


def _rules(component: Component) -> list[Any]:
    rules = component.get("RRULE")
    if rules is None:
        return []
    return list(rules) if isinstance(rules, list) else [rules]


def _rule_steps(rule: Any, component: Component, window_end: datetime) -> int:
    try:
        freq = str(_first(rule, "FREQ", "")).upper()
        period = _SECONDS[freq] * max(1, int(_first(rule, "INTERVAL", 1)))
        start = component["DTSTART"].dt
    except Exception:  # noqa: BLE001 - not a rule the library can expand either: it fails on its own, cheaply
        return 0
    first = start.date() if isinstance(start, datetime) else start
    if not isinstance(first, date):
        return 0
    seconds = max(0, (window_end.date() - first).days + 1) * 86400
    steps = seconds // period + 1
    for part, once_per in _ONCE_PER.items():
        values = rule.get(part)
        if values and isinstance(values, list) and _SECONDS[freq] > _SECONDS[_finer(part)]:
            steps *= len(values) * -(-_SECONDS[freq] // _SECONDS[once_per])
    count = _first(rule, "COUNT", None)
    if count is not None:
        try:
            steps = min(steps, max(0, int(count)))
        except (TypeError, ValueError):
            pass
    return steps


def _finer(part: str) -> str:
    """The frequency a BY-part's values are steps of (BYHOUR: hours)."""
    return {"BYSECOND": "SECONDLY", "BYMINUTE": "MINUTELY", "BYHOUR": "HOURLY", "BYWEEKNO": "WEEKLY",
            "BYMONTH": "MONTHLY"}.get(part, "DAILY")


def _first(rule: Any, name: str, default: Any) -> Any:
    values = rule.get(name)
    return values[0] if values else default
