"""telephony.queue_rules: when a request is unreachable, and how Twilio call statuses move a call on.

Unreachable means three unsuccessful attempts on at least two working days,
counted by the office's local date: a weekend or a holiday (Koningsdag,
Easter Monday) is a try but not a day, and an attempt late in the evening
UTC may already be tomorrow in Amsterdam (summer time) or still today
(winter time).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from core.workdays import WorkingDayCalendar
from telephony.queue_rules import TERMINAL, is_unreachable, moves_forward, outcome_of_call, status_rank

AMS = ZoneInfo("Europe/Amsterdam")
CAL = WorkingDayCalendar()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS).astimezone(timezone.utc)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def unreachable(*attempts: tuple[datetime, str], calendar: WorkingDayCalendar = CAL) -> bool:
    return is_unreachable(list(attempts), calendar, AMS)


# Monday 30 November and Tuesday 1 December 2026 are ordinary working days.
MON_9, MON_12, MON_16 = local(2026, 11, 30, 9), local(2026, 11, 30, 12), local(2026, 11, 30, 16)
TUE_10, WED_10 = local(2026, 12, 1, 10), local(2026, 12, 2, 10)


def test_three_failures_on_one_day_are_not_enough() -> None:
    assert not unreachable((MON_9, "no_answer"), (MON_12, "busy"), (MON_16, "no_answer"))


def test_three_failures_over_two_working_days_are() -> None:
    assert unreachable((MON_9, "no_answer"), (MON_16, "busy"), (TUE_10, "no_answer"))
    assert unreachable((MON_9, "no_answer"), (TUE_10, "busy"), (WED_10, "wrong_number"))


def test_two_failures_are_not_enough_even_on_two_days() -> None:
    assert not unreachable((MON_9, "no_answer"), (TUE_10, "busy"))
    assert not unreachable()


def test_reached_attempts_do_not_count() -> None:
    assert not unreachable((MON_9, "no_answer"), (MON_16, "reached"), (TUE_10, "busy"))
    assert not unreachable((MON_9, "reached"), (TUE_10, "reached"), (WED_10, "reached"))
    # Reaching someone once does not undo failures: the rule counts failures only.
    assert unreachable((MON_9, "reached"), (MON_12, "no_answer"), (MON_16, "busy"), (TUE_10, "no_answer"))


def test_order_does_not_matter() -> None:
    assert unreachable((TUE_10, "no_answer"), (MON_9, "busy"), (MON_16, "no_answer"))


@pytest.mark.parametrize("other_day", [
    local(2026, 11, 28, 11),  # Saturday
    local(2026, 11, 29, 11),  # Sunday
    local(2026, 4, 27, 11),   # Koningsdag (a Monday in 2026)
    local(2026, 4, 6, 11),    # Easter Monday
    local(2026, 4, 3, 11),    # Good Friday
    local(2026, 12, 25, 11),  # Christmas
])
def test_a_weekend_or_holiday_is_a_try_but_not_a_day(other_day: datetime) -> None:
    # Two failures on the day off and one on a working day: one working day only.
    assert not unreachable((other_day, "no_answer"), (other_day, "busy"), (MON_9, "no_answer"))
    # A second working day makes it: all three failures count as tries.
    assert unreachable((other_day, "no_answer"), (MON_9, "busy"), (TUE_10, "no_answer"))


def test_koningsdag_and_the_next_day() -> None:
    king, tuesday, wednesday = local(2026, 4, 27, 10), local(2026, 4, 28, 10), local(2026, 4, 29, 10)
    assert not unreachable((king, "no_answer"), (king, "busy"), (tuesday, "no_answer"))
    assert unreachable((king, "no_answer"), (tuesday, "busy"), (wednesday, "no_answer"))


def test_easter_monday_between_good_friday_and_tuesday() -> None:
    thursday, friday, monday, tuesday = (local(2026, 4, 2, 15), local(2026, 4, 3, 10), local(2026, 4, 6, 10),
                                         local(2026, 4, 7, 10))
    assert not unreachable((friday, "no_answer"), (monday, "busy"), (tuesday, "no_answer"))
    assert unreachable((thursday, "no_answer"), (monday, "busy"), (tuesday, "no_answer"))


def test_a_configured_closure_day_is_not_a_working_day() -> None:
    closed = WorkingDayCalendar(closure_days=[date(2026, 12, 1)])
    assert not unreachable((MON_9, "no_answer"), (TUE_10, "busy"), (TUE_10, "no_answer"), calendar=closed)
    assert unreachable((MON_9, "no_answer"), (TUE_10, "busy"), (WED_10, "no_answer"), calendar=closed)


def test_local_dates_decide_in_summer_time() -> None:
    # 22:30 UTC on Monday 30 March 2026 (summer time, +2) is 00:30 on Tuesday in Amsterdam.
    monday, late = utc(2026, 3, 30, 8), utc(2026, 3, 30, 22, 30)
    assert late.astimezone(AMS).date() == date(2026, 3, 31)
    assert unreachable((monday, "no_answer"), (monday, "busy"), (late, "no_answer"))


def test_local_dates_decide_in_winter_time() -> None:
    # 22:30 UTC on Monday 23 March 2026 (winter time, +1) is still Monday 23:30 in Amsterdam.
    monday, late = utc(2026, 3, 23, 8), utc(2026, 3, 23, 22, 30)
    assert late.astimezone(AMS).date() == date(2026, 3, 23)
    assert not unreachable((monday, "no_answer"), (monday, "busy"), (late, "no_answer"))


def test_across_the_spring_dst_weekend() -> None:
    # Friday 27 March (+1) and Monday 30 March (+2) 2026: two working days around the change.
    friday, monday = local(2026, 3, 27, 16, 30), local(2026, 3, 30, 9)
    assert (friday.hour, monday.hour) == (15, 7)
    assert unreachable((friday, "no_answer"), (local(2026, 3, 29, 12), "busy"), (monday, "no_answer"))
    assert not unreachable((local(2026, 3, 29, 1), "no_answer"), (local(2026, 3, 29, 4), "busy"),
                           (monday, "no_answer"))


def test_status_rank_orders_a_call() -> None:
    order = ["queued", "ringing", "in-progress", "completed"]
    assert [status_rank(s) for s in order] == sorted(status_rank(s) for s in order)
    assert len({status_rank(s) for s in order}) == 4
    assert status_rank("initiated") == status_rank("queued") and status_rank("answered") == status_rank("in-progress")
    assert status_rank(None) == status_rank("") == status_rank("something-new") == 0
    assert TERMINAL == {"completed", "busy", "no-answer", "failed", "canceled"}


@pytest.mark.parametrize(("current", "incoming", "expected"), [
    (None, "queued", True), (None, "completed", True), ("queued", "ringing", True),
    ("ringing", "in-progress", True), ("in-progress", "completed", True), ("ringing", "no-answer", True),
    ("completed", "ringing", False), ("in-progress", "ringing", False), ("ringing", "ringing", False),
    ("completed", "busy", False), ("no-answer", "completed", False), ("completed", "unknown-status", False),
    ("answered", "in-progress", False),
])
def test_moves_forward_only(current: str | None, incoming: str, expected: bool) -> None:
    assert moves_forward(current, incoming) is expected


@pytest.mark.parametrize(("status", "outcome"), [
    ("completed", "reached"), ("busy", "busy"), ("no-answer", "no_answer"), ("failed", "no_answer"),
    ("canceled", "no_answer"), ("ringing", None), ("in-progress", None), ("queued", None), ("bogus", None),
])
def test_outcome_of_call(status: str, outcome: str | None) -> None:
    assert outcome_of_call(status) == outcome
