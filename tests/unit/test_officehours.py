"""Unit tests for core.officehours."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.officehours import OfficeHours, is_open, next_opening, opening_on
from core.workdays import WorkingDayCalendar

AMS = ZoneInfo("Europe/Amsterdam")
UTC = timezone.utc
HOURS = OfficeHours()
CAL = WorkingDayCalendar()


def local(y, m, d, hh=0, mm=0, ss=0) -> datetime:
    """An Amsterdam wall-clock time, as the UTC moment the callers pass in."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=AMS).astimezone(UTC)


def at(y, m, d, hh, mm, offset_hours) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=timezone(timedelta(hours=offset_hours)))


# --------------------------------------------------------------------------
# OfficeHours
# --------------------------------------------------------------------------


def test_default_hours():
    assert HOURS == OfficeHours(time(9, 0), time(17, 0))


@pytest.mark.parametrize(
    "opens, closes",
    [(time(17, 0), time(9, 0)), (time(9, 0), time(9, 0))],
)
def test_hours_must_open_before_closing(opens, closes):
    with pytest.raises(ValueError):
        OfficeHours(opens, closes)


def test_hours_must_be_naive_times():
    with pytest.raises(ValueError):
        OfficeHours(time(9, 0, tzinfo=UTC), time(17, 0))
    with pytest.raises(TypeError):
        OfficeHours("09:00", time(17, 0))  # type: ignore[arg-type]


def test_hours_are_frozen():
    with pytest.raises(AttributeError):
        HOURS.opens = time(8, 0)  # type: ignore[misc]


# --------------------------------------------------------------------------
# is_open
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment, expected",
    [
        (local(2026, 3, 30, 8, 59, 59), False),
        (local(2026, 3, 30, 9, 0), True),  # opening is inclusive
        (local(2026, 3, 30, 12, 30), True),
        (local(2026, 3, 30, 16, 59, 59), True),
        (local(2026, 3, 30, 17, 0), False),  # closing is exclusive
        (local(2026, 3, 28, 12, 0), False),  # Saturday
        (local(2026, 3, 29, 12, 0), False),  # Sunday (DST change)
        (local(2026, 4, 3, 12, 0), False),  # Good Friday
        (local(2026, 4, 6, 12, 0), False),  # Easter Monday
        (local(2026, 4, 27, 12, 0), False),  # King's Day (Monday)
        (local(2026, 5, 14, 12, 0), False),  # Ascension Day
        (local(2026, 5, 25, 12, 0), False),  # Whit Monday
        (local(2026, 12, 25, 12, 0), False),  # Christmas
        (local(2026, 12, 24, 12, 0), True),  # Christmas Eve is a working day
        (local(2026, 5, 5, 12, 0), True),  # Liberation Day 2026, default setting
        (local(2025, 5, 5, 12, 0), False),  # Liberation Day 2025 (lustrum)
    ],
)
def test_is_open(moment, expected):
    assert is_open(moment, CAL, HOURS, AMS) is expected


def test_is_open_uses_local_time_in_winter_and_summer():
    # Winter (CET, +01:00): 09:00 local is 08:00 UTC.
    assert is_open(datetime(2026, 3, 27, 7, 59, tzinfo=UTC), CAL, HOURS, AMS) is False
    assert is_open(datetime(2026, 3, 27, 8, 0, tzinfo=UTC), CAL, HOURS, AMS) is True
    assert is_open(datetime(2026, 3, 27, 15, 59, tzinfo=UTC), CAL, HOURS, AMS) is True
    assert is_open(datetime(2026, 3, 27, 16, 0, tzinfo=UTC), CAL, HOURS, AMS) is False
    # Summer (CEST, +02:00): 09:00 local is 07:00 UTC.
    assert is_open(datetime(2026, 3, 30, 6, 59, tzinfo=UTC), CAL, HOURS, AMS) is False
    assert is_open(datetime(2026, 3, 30, 7, 0, tzinfo=UTC), CAL, HOURS, AMS) is True
    assert is_open(datetime(2026, 3, 30, 14, 59, tzinfo=UTC), CAL, HOURS, AMS) is True
    assert is_open(datetime(2026, 3, 30, 15, 0, tzinfo=UTC), CAL, HOURS, AMS) is False


def test_is_open_uses_the_local_date_near_midnight():
    # 23:30 UTC on Sun 29 Mar 2026 is 01:30 on Mon 30 Mar in Amsterdam.
    early = OfficeHours(time(1, 0), time(17, 0))
    assert is_open(datetime(2026, 3, 29, 23, 30, tzinfo=UTC), CAL, early, AMS) is True
    # 22:30 UTC on Thu 2 Apr is 00:30 on Good Friday in Amsterdam.
    late = OfficeHours(time(0, 0), time(23, 59))
    assert is_open(datetime(2026, 4, 2, 22, 30, tzinfo=UTC), CAL, late, AMS) is False
    assert is_open(datetime(2026, 4, 2, 21, 30, tzinfo=UTC), CAL, late, AMS) is True


def test_is_open_accepts_other_aware_timezones():
    # 09:30 at +05:00 is 04:30 UTC = 06:30 CEST: closed.
    assert is_open(at(2026, 6, 1, 9, 30, 5), CAL, HOURS, AMS) is False
    # 12:00 at -04:00 is 16:00 UTC = 18:00 CEST: closed.
    assert is_open(at(2026, 6, 1, 12, 0, -4), CAL, HOURS, AMS) is False
    # 06:00 at -04:00 is 10:00 UTC = 12:00 CEST: open.
    assert is_open(at(2026, 6, 1, 6, 0, -4), CAL, HOURS, AMS) is True


def test_is_open_with_closure_days_and_liberation_setting():
    cal = WorkingDayCalendar(closure_days=[date(2026, 6, 1)], liberation_day_always_off=True)
    assert is_open(local(2026, 6, 1, 12, 0), cal, HOURS, AMS) is False
    assert is_open(local(2026, 5, 5, 12, 0), cal, HOURS, AMS) is False
    assert is_open(local(2026, 6, 2, 12, 0), cal, HOURS, AMS) is True


def test_is_open_custom_hours():
    hours = OfficeHours(time(8, 30), time(12, 0))
    assert is_open(local(2026, 6, 1, 8, 30), CAL, hours, AMS) is True
    assert is_open(local(2026, 6, 1, 12, 0), CAL, hours, AMS) is False


# --------------------------------------------------------------------------
# Naive datetimes
# --------------------------------------------------------------------------


def test_naive_moment_is_rejected():
    naive = datetime(2026, 3, 30, 10, 0)
    with pytest.raises(ValueError):
        is_open(naive, CAL, HOURS, AMS)
    with pytest.raises(ValueError):
        next_opening(naive, CAL, HOURS, AMS)


def test_non_datetime_moment_is_rejected():
    with pytest.raises(TypeError):
        is_open(date(2026, 3, 30), CAL, HOURS, AMS)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# next_opening
# --------------------------------------------------------------------------


def ams(y, m, d, hh=9, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=AMS)


def assert_same(actual: datetime, expected: datetime, utc_offset_hours: int) -> None:
    assert actual == expected
    assert actual.tzinfo is AMS
    assert actual.utcoffset() == timedelta(hours=utc_offset_hours)
    assert (actual.hour, actual.minute) == (expected.hour, expected.minute)


def test_next_opening_over_spring_dst_change():
    # Fri 27 Mar 2026 18:00 CET (+01:00) -> Mon 30 Mar 09:00 CEST (+02:00);
    # clocks go forward on Sun 29 Mar.
    result = next_opening(local(2026, 3, 27, 18, 0), CAL, HOURS, AMS)
    assert_same(result, ams(2026, 3, 30), 2)
    assert result.astimezone(UTC) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert str(result) == "2026-03-30 09:00:00+02:00"


def test_next_opening_over_autumn_dst_change():
    # Fri 23 Oct 2026 18:00 CEST (+02:00) -> Mon 26 Oct 09:00 CET (+01:00);
    # clocks go back on Sun 25 Oct.
    result = next_opening(local(2026, 10, 23, 18, 0), CAL, HOURS, AMS)
    assert_same(result, ams(2026, 10, 26), 1)
    assert result.astimezone(UTC) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_next_opening_from_the_dst_sundays_themselves():
    # In the repeated hour on 25 Oct (02:30 happens twice) and in the spring gap.
    assert_same(
        next_opening(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), CAL, HOURS, AMS),
        ams(2026, 10, 26),
        1,
    )
    assert_same(
        next_opening(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), CAL, HOURS, AMS),
        ams(2026, 10, 26),
        1,
    )
    assert_same(
        next_opening(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), CAL, HOURS, AMS),
        ams(2026, 3, 30),
        2,
    )


def test_next_opening_over_easter():
    # Thu 2 Apr 17:30 -> Good Friday, weekend, Easter Monday -> Tue 7 Apr 09:00.
    assert_same(next_opening(local(2026, 4, 2, 17, 30), CAL, HOURS, AMS), ams(2026, 4, 7), 2)


def test_next_opening_over_christmas():
    assert_same(next_opening(local(2026, 12, 24, 17, 30), CAL, HOURS, AMS), ams(2026, 12, 28), 1)


@pytest.mark.parametrize(
    "moment, expected",
    [
        (local(2026, 4, 24, 17, 30), ams(2026, 4, 28)),  # Fri -> King's Day Mon 27 -> Tue
        (local(2026, 5, 13, 17, 30), ams(2026, 5, 15)),  # Wed -> Ascension Thu 14 -> Fri
        (local(2026, 5, 22, 17, 30), ams(2026, 5, 26)),  # Fri -> Whit Monday 25 -> Tue
        (local(2026, 5, 4, 17, 30), ams(2026, 5, 5)),  # Liberation Day 2026 is open (default)
        (local(2025, 5, 2, 17, 30), ams(2025, 5, 6)),  # Fri -> Liberation Day 2025 Mon -> Tue
        (local(2026, 12, 31, 17, 30), ams(2027, 1, 4)),  # New Year's Day on Friday
    ],
)
def test_next_opening_over_holidays(moment, expected):
    assert next_opening(moment, CAL, HOURS, AMS) == expected


def test_next_opening_liberation_day_when_always_off():
    cal = WorkingDayCalendar(liberation_day_always_off=True)
    assert next_opening(local(2026, 5, 4, 17, 30), cal, HOURS, AMS) == ams(2026, 5, 6)


def test_next_opening_over_closure_days():
    cal = WorkingDayCalendar(closure_days=[date(2026, 12, 28), date(2026, 12, 29)])
    assert next_opening(local(2026, 12, 24, 17, 30), cal, HOURS, AMS) == ams(2026, 12, 30)


def test_next_opening_before_opening_on_a_working_day_is_today():
    assert_same(next_opening(local(2026, 3, 30, 7, 15), CAL, HOURS, AMS), ams(2026, 3, 30), 2)
    assert_same(next_opening(local(2026, 3, 30, 0, 0), CAL, HOURS, AMS), ams(2026, 3, 30), 2)


def test_next_opening_before_opening_on_a_holiday_is_the_next_working_day():
    assert next_opening(local(2026, 4, 3, 7, 0), CAL, HOURS, AMS) == ams(2026, 4, 7)


def test_next_opening_at_closing_time_is_the_next_working_day():
    assert next_opening(local(2026, 3, 30, 17, 0), CAL, HOURS, AMS) == ams(2026, 3, 31)


def test_next_opening_when_open_is_the_moment_itself_in_local_time():
    moment = datetime(2026, 3, 30, 10, 17, 42, 123456, tzinfo=UTC)
    result = next_opening(moment, CAL, HOURS, AMS)
    assert result == moment
    assert result.tzinfo is AMS
    assert (result.hour, result.minute, result.second, result.microsecond) == (12, 17, 42, 123456)


def test_next_opening_at_exact_opening_is_the_moment_itself():
    moment = local(2026, 3, 30, 9, 0)
    assert next_opening(moment, CAL, HOURS, AMS) == moment


def test_next_opening_custom_hours():
    hours = OfficeHours(time(8, 30), time(12, 0))
    assert next_opening(local(2026, 6, 1, 12, 0), CAL, hours, AMS) == ams(2026, 6, 2, 8, 30)


def test_opening_on_in_a_dst_gap_is_a_real_instant():
    hours = OfficeHours(time(2, 30), time(17, 0))
    result = opening_on(date(2026, 3, 29), hours, AMS)
    # 02:30 does not exist on 29 Mar 2026; the result round-trips through UTC.
    assert result.astimezone(UTC).astimezone(AMS) == result
    assert result.utcoffset() == timedelta(hours=2)


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

moments_st = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2031, 12, 31),
    timezones=st.just(UTC),
)
hours_st = st.tuples(
    st.integers(min_value=6, max_value=12), st.integers(min_value=13, max_value=22)
).map(lambda t: OfficeHours(time(t[0], 0), time(t[1], 0)))
calendars_st = st.builds(
    WorkingDayCalendar,
    closure_days=st.lists(st.dates(min_value=date(2024, 1, 1), max_value=date(2032, 1, 31)), max_size=10),
    liberation_day_always_off=st.booleans(),
)


@settings(deadline=None, max_examples=100)
@given(moment=moments_st, cal=calendars_st, hours=hours_st)
def test_prop_is_open_implies_working_day_within_hours(moment, cal, hours):
    loc = moment.astimezone(AMS)
    if is_open(moment, cal, hours, AMS):
        assert cal.is_working_day(loc.date())
        assert hours.opens <= loc.time() < hours.closes
    else:
        assert not cal.is_working_day(loc.date()) or not (hours.opens <= loc.time() < hours.closes)


@settings(deadline=None, max_examples=100)
@given(moment=moments_st, cal=calendars_st, hours=hours_st)
def test_prop_next_opening_is_the_first_open_moment(moment, cal, hours):
    result = next_opening(moment, cal, hours, AMS)
    assert result.tzinfo is AMS
    assert result >= moment
    assert is_open(result, cal, hours, AMS)
    if is_open(moment, cal, hours, AMS):
        assert result == moment
    else:
        # It is an opening time, and the line is closed just before it.
        assert result.time() == hours.opens
        assert not is_open(result - timedelta(seconds=1), cal, hours, AMS)
        # No working day lies strictly between the local date of the moment
        # and the opening day.
        loc_day = moment.astimezone(AMS).date()
        d = loc_day + timedelta(days=1)
        while d < result.date():
            assert not cal.is_working_day(d)
            d += timedelta(days=1)
