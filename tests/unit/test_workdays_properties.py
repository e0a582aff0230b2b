"""Property tests for core.workdays.WorkingDayCalendar, against its definition and brute force."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from core.workdays import WorkingDayCalendar

D = date


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
