"""Reminder timing: quiet hours (21:00-08:00 Amsterdam), DST nights, too-late reminders."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from notifications.timing import QuietHours, in_quiet_hours, quiet_window, reminder_time, time_before

TZ = ZoneInfo("Europe/Amsterdam")
QUIET = QuietHours(time(21, 0), time(8, 0), TZ)


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TZ).astimezone(timezone.utc)


@pytest.mark.parametrize("moment, quiet", [
    (local(2026, 12, 1, 20, 59), False), (local(2026, 12, 1, 21, 0), True), (local(2026, 12, 2, 3, 0), True),
    (local(2026, 12, 2, 7, 59), True), (local(2026, 12, 2, 8, 0), False), (local(2026, 12, 2, 12, 0), False),
])
def test_quiet_hours_cross_midnight(moment, quiet):
    assert in_quiet_hours(moment, QUIET) is quiet


def test_two_day_reminder_in_daytime_is_unchanged():
    start = local(2026, 12, 3, 10)
    assert reminder_time(start, 2 * 24 * 60, local(2026, 11, 28, 12), QUIET) == local(2026, 12, 1, 10)


def test_two_hour_reminder_for_a_nine_oclock_appointment_goes_the_evening_before():
    start = local(2026, 12, 3, 9)
    assert reminder_time(start, 120, local(2026, 11, 28, 12), QUIET) == local(2026, 12, 2, 20, 59)


def test_booked_late_evening_the_reminder_goes_after_the_window_if_still_in_time():
    start = local(2026, 12, 3, 9, 30)
    now = local(2026, 12, 2, 22, 0)  # booked at 22:00: 20:59 has passed
    assert reminder_time(start, 120, now, QUIET) == local(2026, 12, 3, 8, 0)


def test_no_reminder_when_no_good_moment_is_left():
    start = local(2026, 12, 3, 8, 0)
    assert reminder_time(start, 120, local(2026, 12, 2, 22, 0), QUIET) is None
    assert reminder_time(local(2026, 12, 3, 10), 2 * 24 * 60, local(2026, 12, 2, 9), QUIET) is None


def test_dst_nights_keep_local_clock_times():
    # Spring forward: night of 28-29 March 2026; autumn back: night of 24-25 October 2026.
    assert reminder_time(local(2026, 3, 29, 9), 120, local(2026, 3, 20, 12), QUIET) == local(2026, 3, 28, 20, 59)
    assert reminder_time(local(2026, 10, 25, 9), 120, local(2026, 10, 20, 12), QUIET) == local(2026, 10, 24, 20, 59)
    start, end = quiet_window(local(2026, 10, 25, 2, 30), QUIET)
    assert (start, end) == (local(2026, 10, 24, 21), local(2026, 10, 25, 8))
    assert end - start == timedelta(hours=12)  # one hour longer than a normal night



def test_whole_days_before_count_on_the_local_calendar_over_a_clock_change():
    # Monday 30 March 2026 08:30, the day after the clocks went forward: two days before is
    # Saturday 08:30 on the clock (48 real hours would be 07:30, quiet, so Friday 20:59).
    assert reminder_time(local(2026, 3, 30, 8, 30), 2 * 24 * 60, local(2026, 3, 20, 12), QUIET) \
        == local(2026, 3, 28, 8, 30)
    # Monday 26 October 2026 10:00, after the clocks went back: Saturday 10:00, not 11:00.
    assert reminder_time(local(2026, 10, 26, 10), 2 * 24 * 60, local(2026, 10, 20, 12), QUIET) \
        == local(2026, 10, 24, 10)
    # Offsets that are not whole days stay real time.
    assert time_before(local(2026, 3, 29, 12), 120, TZ) == local(2026, 3, 29, 12) - timedelta(hours=2)
    assert time_before(local(2026, 3, 30, 8, 30), 36 * 60, TZ) == local(2026, 3, 30, 8, 30) - timedelta(hours=36)

@settings(deadline=None, max_examples=200)
@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
       st.integers(15, 4 * 24 * 60), st.integers(0, 10 * 24 * 60))
def test_property_a_planned_reminder_is_never_quiet_late_or_past(naive_start, minutes_before, lead):
    start = naive_start.replace(second=0, microsecond=0, tzinfo=timezone.utc)
    now = start - timedelta(minutes=lead)
    due = reminder_time(start, minutes_before, now, QUIET)
    if due is not None:
        assert now <= due < start
        assert not in_quiet_hours(due, QUIET)
