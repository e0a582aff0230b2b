"""Unit tests for core.workdays.WorkingDayCalendar: date arithmetic and robustness.

next_working_day / previous_working_day, working_days_between,
add_working_days; the rejection of datetimes and strings, the per-year cache of
holidays, and concurrent use from several threads.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import holidays
import pytest

import core.workdays as workdays
from core.workdays import WorkingDayCalendar

D = date


@pytest.fixture
def cal() -> WorkingDayCalendar:
    return WorkingDayCalendar()


# --------------------------------------------------------------------------
# next_working_day
# --------------------------------------------------------------------------


def test_next_working_day_across_easter_weekend(cal):
    # Thu 2 Apr -> (Good Friday, weekend, Easter Monday) -> Tue 7 Apr
    assert cal.next_working_day(D(2026, 4, 2)) == D(2026, 4, 7)
    assert cal.next_working_day(D(2026, 4, 3)) == D(2026, 4, 7)
    assert cal.next_working_day(D(2026, 4, 5), include_today=True) == D(2026, 4, 7)


def test_next_working_day_across_christmas(cal):
    assert cal.next_working_day(D(2026, 12, 24)) == D(2026, 12, 28)
    assert cal.next_working_day(D(2025, 12, 24)) == D(2025, 12, 29)


def test_next_working_day_across_year_end(cal):
    assert cal.next_working_day(D(2026, 12, 31)) == D(2027, 1, 4)  # 1 Jan Fri, weekend


def test_next_working_day_include_today(cal):
    assert cal.next_working_day(D(2026, 4, 7), include_today=True) == D(2026, 4, 7)
    assert cal.next_working_day(D(2026, 4, 7)) == D(2026, 4, 8)
    assert cal.next_working_day(D(2026, 3, 28), include_today=True) == D(2026, 3, 30)


def test_previous_working_day(cal):
    assert cal.previous_working_day(D(2026, 4, 7)) == D(2026, 4, 2)
    assert cal.previous_working_day(D(2026, 4, 7), include_today=True) == D(2026, 4, 7)


# --------------------------------------------------------------------------
# working_days_between
# --------------------------------------------------------------------------


def test_working_days_between_over_easter(cal):
    # Mon 30 Mar .. Mon 13 Apr (exclusive): 4 + 4 (Good Friday, Easter Monday off)
    assert cal.working_days_between(D(2026, 3, 30), D(2026, 4, 13)) == 8


def test_working_days_between_is_half_open(cal):
    assert cal.working_days_between(D(2026, 3, 30), D(2026, 3, 30)) == 0
    assert cal.working_days_between(D(2026, 3, 30), D(2026, 3, 31)) == 1
    assert cal.working_days_between(D(2026, 3, 28), D(2026, 3, 30)) == 0  # weekend
    assert cal.working_days_between(D(2026, 3, 27), D(2026, 3, 30)) == 1  # Fri only


def test_working_days_between_reversed_is_zero(cal):
    assert cal.working_days_between(D(2026, 4, 13), D(2026, 3, 30)) == 0


def test_working_days_between_across_years(cal):
    # Wed 24 Dec 2025 .. Mon 5 Jan 2026: 24, 29, 30, 31 Dec, 2 Jan
    assert cal.working_days_between(D(2025, 12, 24), D(2026, 1, 5)) == 5


# --------------------------------------------------------------------------
# add_working_days
# --------------------------------------------------------------------------


def test_add_working_days_positive(cal):
    assert cal.add_working_days(D(2026, 4, 2), 1) == D(2026, 4, 7)
    assert cal.add_working_days(D(2026, 4, 2), 2) == D(2026, 4, 8)
    assert cal.add_working_days(D(2026, 3, 27), 1) == D(2026, 3, 30)  # Fri -> Mon
    assert cal.add_working_days(D(2026, 4, 4), 1) == D(2026, 4, 7)  # from a Saturday


def test_add_working_days_zero_is_identity(cal):
    assert cal.add_working_days(D(2026, 4, 7), 0) == D(2026, 4, 7)
    assert cal.add_working_days(D(2026, 4, 3), 0) == D(2026, 4, 3)  # even on a holiday


def test_add_working_days_negative(cal):
    assert cal.add_working_days(D(2026, 4, 7), -1) == D(2026, 4, 2)
    assert cal.add_working_days(D(2026, 4, 7), -2) == D(2026, 4, 1)
    assert cal.add_working_days(D(2026, 12, 28), -1) == D(2026, 12, 24)
    assert cal.add_working_days(D(2026, 4, 5), -1) == D(2026, 4, 2)  # from Easter Sunday


def test_add_working_days_rejects_non_int(cal):
    with pytest.raises(TypeError):
        cal.add_working_days(D(2026, 4, 7), 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cal.add_working_days(D(2026, 4, 7), True)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Input checks, cache, threads
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.is_working_day(datetime(2026, 4, 3, 12, 0)),
        lambda c: c.holiday_name(datetime(2026, 4, 3, 12, 0)),
        lambda c: c.next_working_day(datetime(2026, 4, 3, 12, 0)),
        lambda c: c.working_days_between(datetime(2026, 4, 3), D(2026, 4, 10)),
        lambda c: c.add_working_days("2026-04-03", 1),
    ],
)
def test_datetimes_and_strings_are_rejected(cal, call):
    with pytest.raises(TypeError):
        call(cal)


def test_holidays_are_computed_once_per_year(monkeypatch):
    calls: list[object] = []
    real_nl = holidays.NL

    def counting_nl(*args, **kwargs):
        calls.append(kwargs.get("years"))
        return real_nl(*args, **kwargs)

    monkeypatch.setattr(workdays.holidays, "NL", counting_nl)
    cal = WorkingDayCalendar()
    start = D(2026, 3, 1)
    for _ in range(3):
        for i in range(60):
            cal.is_working_day(start + timedelta(days=i))
    assert calls == [2026]
    cal.is_working_day(D(2027, 1, 4))
    assert calls == [2026, 2027]


def test_concurrent_use_gives_consistent_answers():
    cal = WorkingDayCalendar(closure_days=[D(2026, 6, 1)], liberation_day_always_off=True)
    reference = WorkingDayCalendar(closure_days=[D(2026, 6, 1)], liberation_day_always_off=True)
    days = [D(2020, 1, 1) + timedelta(days=i) for i in range(0, 365 * 12, 3)]
    expected = [reference.is_working_day(d) for d in days]
    results: list[list[bool]] = []
    errors: list[BaseException] = []

    def worker():
        try:
            results.append([cal.is_working_day(d) for d in days])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(r == expected for r in results)
