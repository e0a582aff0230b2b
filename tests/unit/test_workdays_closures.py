"""Unit tests for core.workdays.WorkingDayCalendar: days off beyond the public holidays.

Liberation Day (5 May: off in lustrum years, every year when configured) and
the organisation's own closure days.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from core.workdays import CLOSURE_DAY_NAME, LIBERATION_DAY_NAME, WorkingDayCalendar

D = date


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

