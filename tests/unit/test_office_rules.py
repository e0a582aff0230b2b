"""The booking rules every path shares: the office's calendar, staggered arrivals, a move's arrivals."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from core.problems import InvalidInput
from core.workdays import WorkingDayCalendar
from scheduler.availability import WorkingHours
from scheduler.policy import BookingPolicy
from scheduler.rules import check_arrivals, office_time_problem, shifted_arrivals

TZ = ZoneInfo("Europe/Amsterdam")
NINE_TO_FIVE = tuple(WorkingHours(d, time(9), time(17)) for d in range(5))
POLICY = BookingPolicy(is_working_day=WorkingDayCalendar(closure_days=(date(2031, 3, 5),)).is_working_day, tz=TZ,
                       min_notice=timedelta(minutes=60), arrival_gap=timedelta(minutes=15))
NOW = datetime(2031, 3, 3, 8, 0, tzinfo=timezone.utc)  # Monday 09:00 in Amsterdam


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TZ)


def problem(start: datetime, minutes: int = 60, hours=NINE_TO_FIVE, now: datetime = NOW) -> str | None:
    return office_time_problem(start, start + timedelta(minutes=minutes), [("Anouk", hours)], POLICY, now)


def test_a_time_inside_working_hours_on_a_working_day_is_fine() -> None:
    assert problem(local(date(2031, 3, 4), 9)) is None
    assert problem(local(date(2031, 3, 4), 16), minutes=60) is None  # ends exactly at 17:00


@pytest.mark.parametrize("start, words", [
    (local(date(2031, 12, 25), 10), "closed on 2031-12-25"),      # Christmas
    (local(date(2031, 3, 8), 10), "closed on 2031-03-08"),        # a Saturday
    (local(date(2031, 3, 5), 10), "closed on 2031-03-05"),        # a closure day of the office
    (local(date(2031, 3, 4), 21), "working hours of Anouk"),      # the evening
    (local(date(2031, 3, 4), 16, 30), "working hours of Anouk"),  # runs past 17:00
    (local(date(2031, 3, 4), 8, 45), "working hours of Anouk"),   # starts before 09:00
    (NOW + timedelta(minutes=10), "minimum notice of 60 minutes"),
])
def test_times_the_office_does_not_book(start: datetime, words: str) -> None:
    assert words in (problem(start) or "")


def test_working_hours_follow_the_local_clock_across_the_clock_change() -> None:
    # 30 March 2031 is the last Sunday of March: the Monday after is CEST (UTC+2).
    monday = local(date(2031, 3, 31), 9)
    assert monday.utcoffset() == timedelta(hours=2)
    assert problem(monday) is None
    assert problem(monday - timedelta(hours=1)) is not None


def test_every_mediator_of_the_appointment_must_be_working() -> None:
    mornings = tuple(WorkingHours(d, time(9), time(12)) for d in range(5))
    start = local(date(2031, 3, 4), 13)
    assert office_time_problem(start, start + timedelta(hours=1), [("A", NINE_TO_FIVE), ("B", mornings)],
                               POLICY, NOW) == "lies outside the working hours of B"


T = datetime(2031, 3, 4, 9, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
GAP = timedelta(minutes=15)


def test_a_joint_meeting_needs_staggered_arrivals() -> None:
    roles = {1: "victim", 2: "offender"}
    with pytest.raises(InvalidInput) as err:
        check_arrivals(T, T + 2 * H, roles, {}, GAP, in_person=True)
    assert err.value.errors[0]["field"] == "arrivals"
    with pytest.raises(InvalidInput):
        check_arrivals(T, T + 2 * H, roles, {1: T, 2: T + timedelta(minutes=14)}, GAP, in_person=True)
    check_arrivals(T, T + 2 * H, roles, {2: T + GAP}, GAP, in_person=True)
    check_arrivals(T, T + 2 * H, roles, {1: T + timedelta(minutes=30), 2: T}, GAP, in_person=True)


def test_staggering_is_between_the_sides_not_within_one() -> None:
    # Two next of kin may arrive together; each keeps the gap to the causer.
    roles = {1: "next_of_kin", 2: "next_of_kin", 3: "causer", 4: "other"}
    check_arrivals(T, T + 2 * H, roles, {3: T + GAP}, GAP, in_person=True)
    with pytest.raises(InvalidInput):
        check_arrivals(T, T + 2 * H, roles, {1: T + GAP, 3: T + GAP + timedelta(minutes=5)}, GAP, in_person=True)


def test_no_staggering_needed_by_phone_or_for_one_side() -> None:
    check_arrivals(T, T + H, {1: "victim", 2: "offender"}, {}, GAP, in_person=False)
    check_arrivals(T, T + H, {1: "victim", 2: "next_of_kin"}, {}, GAP, in_person=True)


@pytest.mark.parametrize("arrivals", [{1: T + H}, {1: T - timedelta(minutes=1)}, {9: T}])
def test_arrivals_lie_within_the_appointment_and_belong_to_it(arrivals: dict[int, datetime]) -> None:
    with pytest.raises(InvalidInput) as err:
        check_arrivals(T, T + H, {1: "victim"}, arrivals, GAP, in_person=True)
    assert err.value.errors[0]["field"] == "arrivals"


def test_a_move_takes_every_arrival_along() -> None:
    moved = shifted_arrivals({1: T, 2: T + GAP}, T, T + 3 * H, T + 5 * H)
    assert moved == {1: T + 3 * H, 2: T + 3 * H + GAP}


def test_a_move_that_cannot_keep_an_arrival_inside_is_refused_not_clamped() -> None:
    # Shortening the meeting to 10 minutes would put the second arrival past its end.
    with pytest.raises(InvalidInput) as err:
        shifted_arrivals({1: T, 2: T + GAP}, T, T, T + timedelta(minutes=10))
    assert err.value.errors[0]["field"] == "arrivals"
