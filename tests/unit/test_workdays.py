"""Unit tests for core.workdays.WorkingDayCalendar."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import core.workdays as workdays
from core.workdays import (
    CLOSURE_DAY_NAME,
    GOOD_FRIDAY_NAME,
    LIBERATION_DAY_NAME,
    WorkingDayCalendar,
)

D = date


@pytest.fixture
def cal() -> WorkingDayCalendar:
    return WorkingDayCalendar()


# --------------------------------------------------------------------------
# The installed holidays package: what we rely on
# --------------------------------------------------------------------------


def test_installed_holidays_nl_has_good_friday():
    nl = holidays.NL(years=[2025, 2026], language="nl")
    assert nl.get(D(2025, 4, 18)) == "Goede vrijdag"
    assert nl.get(D(2026, 4, 3)) == "Goede vrijdag"


def test_installed_holidays_nl_liberation_day_only_in_lustrum_years():
    nl = holidays.NL(years=range(2024, 2032), language="nl")
    may_5 = {y for y in range(2024, 2032) if D(y, 5, 5) in nl}
    assert may_5 == {2025, 2030}


# --------------------------------------------------------------------------
# Public holidays 2026 and 2025
# --------------------------------------------------------------------------

HOLIDAYS_2026 = {
    D(2026, 1, 1): "Nieuwjaarsdag",  # Thu
    D(2026, 4, 3): "Goede vrijdag",  # Fri
    D(2026, 4, 5): "Eerste paasdag",  # Sun
    D(2026, 4, 6): "Tweede paasdag",  # Mon
    D(2026, 4, 27): "Koningsdag",  # Mon
    D(2026, 5, 14): "Hemelvaartsdag",  # Thu
    D(2026, 5, 24): "Eerste pinksterdag",  # Sun
    D(2026, 5, 25): "Tweede pinksterdag",  # Mon
    D(2026, 12, 25): "Eerste kerstdag",  # Fri
    D(2026, 12, 26): "Tweede kerstdag",  # Sat
}

HOLIDAYS_2025 = {
    D(2025, 1, 1): "Nieuwjaarsdag",  # Wed
    D(2025, 4, 18): "Goede vrijdag",  # Fri
    D(2025, 4, 20): "Eerste paasdag",  # Sun
    D(2025, 4, 21): "Tweede paasdag",  # Mon
    D(2025, 4, 26): "Koningsdag",  # Sat (27 Apr is a Sunday: moved back)
    D(2025, 5, 5): "Bevrijdingsdag",  # Mon, lustrum year
    D(2025, 5, 29): "Hemelvaartsdag",  # Thu
    D(2025, 6, 8): "Eerste pinksterdag",  # Sun
    D(2025, 6, 9): "Tweede pinksterdag",  # Mon
    D(2025, 12, 25): "Eerste kerstdag",  # Thu
    D(2025, 12, 26): "Tweede kerstdag",  # Fri
}


@pytest.mark.parametrize("year, expected", [(2026, HOLIDAYS_2026), (2025, HOLIDAYS_2025)])
def test_holidays_in_year(cal, year, expected):
    assert cal.holidays_in_year(year) == expected


@pytest.mark.parametrize("day, name", sorted({**HOLIDAYS_2026, **HOLIDAYS_2025}.items()))
def test_public_holidays_are_not_working_days_and_are_named_in_dutch(cal, day, name):
    assert cal.is_working_day(day) is False
    assert cal.holiday_name(day) == name


@pytest.mark.parametrize(
    "day",
    [
        D(2026, 4, 2),  # Thu before Good Friday
        D(2026, 4, 7),  # Tue after Easter Monday
        D(2026, 4, 28),  # Tue after King's Day
        D(2026, 5, 15),  # Fri after Ascension
        D(2026, 5, 26),  # Tue after Whit Monday
        D(2026, 12, 24),  # Christmas Eve (not a holiday)
        D(2026, 12, 31),  # New Year's Eve (not a holiday)
        D(2025, 4, 28),  # Mon after King's Day on Saturday: no observed day
        D(2025, 4, 25),  # Fri before King's Day on Saturday
    ],
)
def test_ordinary_weekdays_are_working_days(cal, day):
    assert cal.is_working_day(day) is True
    assert cal.holiday_name(day) is None


@pytest.mark.parametrize("day", [D(2026, 3, 28), D(2026, 3, 29), D(2026, 10, 24), D(2026, 10, 25)])
def test_weekends_are_not_working_days(cal, day):
    assert cal.is_working_day(day) is False
    assert cal.holiday_name(day) is None


def test_names_are_dutch_whatever_the_process_locale(monkeypatch):
    # holidays guesses the language from the locale when none is given.
    for var in ("LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.setenv(var, "en_US.UTF-8")
    cal = WorkingDayCalendar()
    assert cal.holiday_name(D(2026, 4, 3)) == "Goede vrijdag"
    assert cal.holiday_name(D(2026, 12, 25)) == "Eerste kerstdag"


def test_working_days_in_2026(cal):
    # 2026 has 261 weekdays; 7 public holidays fall on weekdays.
    assert cal.working_days_between(D(2026, 1, 1), D(2027, 1, 1)) == 254


# --------------------------------------------------------------------------
# Good Friday safety net
# --------------------------------------------------------------------------


def test_good_friday_added_if_holidays_package_leaves_it_out(monkeypatch):
    real_nl = holidays.NL

    def nl_without_good_friday(*args, **kwargs):
        h = real_nl(*args, **kwargs)
        for d in [d for d, n in h.items() if n == "Goede vrijdag"]:
            h.pop(d)
        return h

    monkeypatch.setattr(workdays.holidays, "NL", nl_without_good_friday)
    cal = WorkingDayCalendar()
    assert cal.is_working_day(D(2026, 4, 3)) is False
    assert cal.holiday_name(D(2026, 4, 3)) == GOOD_FRIDAY_NAME
    assert cal.holiday_name(D(2025, 4, 18)) == GOOD_FRIDAY_NAME
    assert cal.is_working_day(D(2026, 4, 2)) is True


# --------------------------------------------------------------------------
# Liberation Day (5 May)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("always_off", [False, True])
def test_liberation_day_2025_lustrum_is_off_in_both_settings(always_off):
    cal = WorkingDayCalendar(liberation_day_always_off=always_off)
    assert D(2025, 5, 5).weekday() == 0  # Monday
    assert cal.is_working_day(D(2025, 5, 5)) is False
    assert cal.holiday_name(D(2025, 5, 5)) == LIBERATION_DAY_NAME


def test_liberation_day_2026_is_a_working_day_by_default():
    cal = WorkingDayCalendar()
    assert D(2026, 5, 5).weekday() == 1  # Tuesday
    assert cal.is_working_day(D(2026, 5, 5)) is True
    assert cal.holiday_name(D(2026, 5, 5)) is None
    assert cal.next_working_day(D(2026, 5, 4)) == D(2026, 5, 5)


def test_liberation_day_2026_is_off_when_configured():
    cal = WorkingDayCalendar(liberation_day_always_off=True)
    assert cal.is_working_day(D(2026, 5, 5)) is False
    assert cal.holiday_name(D(2026, 5, 5)) == LIBERATION_DAY_NAME
    assert cal.next_working_day(D(2026, 5, 4)) == D(2026, 5, 6)
    assert cal.working_days_between(D(2026, 1, 1), D(2027, 1, 1)) == 253


@pytest.mark.parametrize("always_off", [False, True])
def test_liberation_day_2030_lustrum_on_a_sunday(always_off):
    cal = WorkingDayCalendar(liberation_day_always_off=always_off)
    assert D(2030, 5, 5).weekday() == 6  # Sunday
    assert cal.is_working_day(D(2030, 5, 5)) is False
    assert cal.holiday_name(D(2030, 5, 5)) == LIBERATION_DAY_NAME
    # No "observed" Monday.
    assert cal.is_working_day(D(2030, 5, 6)) is True
    assert cal.holiday_name(D(2030, 5, 6)) is None


@pytest.mark.parametrize("always_off, working", [(False, True), (True, False)])
def test_liberation_day_2031_follows_the_setting(always_off, working):
    cal = WorkingDayCalendar(liberation_day_always_off=always_off)
    assert D(2031, 5, 5).weekday() == 0  # Monday
    assert cal.is_working_day(D(2031, 5, 5)) is working


def test_liberation_day_on_ascension_day_keeps_both_names():
    # 5 May 2016 was Ascension Day (not a lustrum year).
    assert WorkingDayCalendar().holiday_name(D(2016, 5, 5)) == "Hemelvaartsdag"
    cal = WorkingDayCalendar(liberation_day_always_off=True)
    assert cal.holiday_name(D(2016, 5, 5)) == "Hemelvaartsdag; Bevrijdingsdag"
    assert cal.is_working_day(D(2016, 5, 5)) is False


def test_liberation_day_closure_day_is_named_liberation_day_when_off():
    cal = WorkingDayCalendar(closure_days=[D(2026, 5, 5)], liberation_day_always_off=True)
    assert cal.holiday_name(D(2026, 5, 5)) == LIBERATION_DAY_NAME


# --------------------------------------------------------------------------
# Closure days
# --------------------------------------------------------------------------


def test_closure_days_are_not_working_days():
    closures = [D(2026, 12, 24), D(2026, 12, 31), D(2027, 1, 4)]
    cal = WorkingDayCalendar(closure_days=closures)
    for d in closures:
        assert cal.is_working_day(d) is False
        assert cal.holiday_name(d) == CLOSURE_DAY_NAME
    assert cal.closure_days == frozenset(closures)
    # Thu 24 Dec closed, Fri 25 Christmas, weekend, Mon 28 open.
    assert cal.next_working_day(D(2026, 12, 23)) == D(2026, 12, 28)
    # 31 Dec closed, 1 Jan holiday, weekend, 4 Jan closed -> Tue 5 Jan.
    assert cal.next_working_day(D(2026, 12, 30)) == D(2027, 1, 5)


def test_closure_days_do_not_leak_into_other_calendars():
    WorkingDayCalendar(closure_days=[D(2026, 6, 1)])
    assert WorkingDayCalendar().is_working_day(D(2026, 6, 1)) is True


def test_closure_day_on_a_holiday_keeps_the_holiday_name():
    cal = WorkingDayCalendar(closure_days=[D(2026, 4, 3)])
    assert cal.holiday_name(D(2026, 4, 3)) == "Goede vrijdag"
    assert cal.is_working_day(D(2026, 4, 3)) is False


def test_closure_day_on_a_weekend_is_named_but_harmless():
    cal = WorkingDayCalendar(closure_days=[D(2026, 6, 6)])  # Saturday
    assert cal.holiday_name(D(2026, 6, 6)) == CLOSURE_DAY_NAME
    assert cal.working_days_between(D(2026, 6, 1), D(2026, 6, 15)) == 10


def test_closure_days_accept_any_iterable_and_duplicates():
    cal = WorkingDayCalendar(closure_days=(d for d in [D(2026, 6, 1), D(2026, 6, 1)]))
    assert cal.closure_days == frozenset({D(2026, 6, 1)})
    assert cal.working_days_between(D(2026, 6, 1), D(2026, 6, 8)) == 4


def test_datetime_closure_day_is_rejected():
    with pytest.raises(TypeError):
        WorkingDayCalendar(closure_days=[datetime(2026, 6, 1, 0, 0)])


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


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

days_st = st.dates(min_value=D(2020, 1, 1), max_value=D(2035, 12, 31))
closures_st = st.lists(days_st, max_size=15)
calendars_st = st.builds(
    WorkingDayCalendar, closure_days=closures_st, liberation_day_always_off=st.booleans()
)


def _brute_count(cal: WorkingDayCalendar, start: date, end: date) -> int:
    n, d = 0, start
    while d < end:
        n += cal.is_working_day(d)
        d += timedelta(days=1)
    return n


@settings(deadline=None, max_examples=100)
@given(cal=calendars_st, day=days_st, include_today=st.booleans())
def test_prop_next_working_day_is_the_first_working_day(cal, day, include_today):
    nxt = cal.next_working_day(day, include_today=include_today)
    assert cal.is_working_day(nxt)
    first_candidate = day if include_today else day + timedelta(days=1)
    assert nxt >= first_candidate
    d = first_candidate
    while d < nxt:
        assert not cal.is_working_day(d)
        d += timedelta(days=1)


@settings(deadline=None, max_examples=100)
@given(cal=calendars_st, day=days_st)
def test_prop_is_working_day_definition(cal, day):
    expected = (
        day.weekday() < 5
        and day not in cal.closure_days
        and day not in holidays.NL(years=day.year)
        and not (cal.liberation_day_always_off and (day.month, day.day) == (5, 5))
    )
    assert cal.is_working_day(day) is expected
    if not cal.is_working_day(day) and day.weekday() < 5:
        assert cal.holiday_name(day)


@settings(deadline=None, max_examples=100)
@given(cal=calendars_st, start=days_st, length=st.integers(min_value=-10, max_value=500))
def test_prop_working_days_between_matches_brute_force(cal, start, length):
    end = start + timedelta(days=length)
    assert cal.working_days_between(start, end) == _brute_count(cal, start, end)


@settings(deadline=None, max_examples=100)
@given(cal=calendars_st, day=days_st, n=st.integers(min_value=-40, max_value=40))
def test_prop_add_working_days_counts(cal, day, n):
    result = cal.add_working_days(day, n)
    one = timedelta(days=1)
    if n == 0:
        assert result == day
    elif n > 0:
        assert result > day and cal.is_working_day(result)
        assert cal.working_days_between(day + one, result + one) == n
    else:
        assert result < day and cal.is_working_day(result)
        assert cal.working_days_between(result, day) == -n
