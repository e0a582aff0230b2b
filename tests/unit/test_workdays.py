"""Unit tests for core.workdays.WorkingDayCalendar: the public holidays.

What we rely on in the installed holidays package, the Dutch public holidays
of 2025 and 2026 (named in Dutch), and the Good Friday safety net. Liberation
Day and closure days: test_workdays_closures.py; date arithmetic, input checks
and threads: test_workdays_arithmetic.py; properties: test_workdays_properties.py.
"""

from __future__ import annotations

from datetime import date

import holidays
import pytest

import core.workdays as workdays
from core.workdays import GOOD_FRIDAY_NAME, WorkingDayCalendar

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

