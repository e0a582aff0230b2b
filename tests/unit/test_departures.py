"""Staggered departures (scheduler.rules.staggered_departures): the party who arrived first leaves first."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.problems import InvalidInput
from scheduler.rules import staggered_departures

T = datetime(2031, 3, 4, 9, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
END = T + 2 * H
GAP = timedelta(minutes=10)
VICTIM_OFFENDER = {1: "victim", 2: "offender"}


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def test_the_party_who_arrived_first_leaves_gap_before_the_end_the_other_at_the_end() -> None:
    assert staggered_departures(T, END, VICTIM_OFFENDER, {1: T, 2: T + minutes(15)}, GAP, True) == \
        {1: END - GAP, 2: END}
    # The other way round: the offender came first, so the offender leaves first.
    assert staggered_departures(T, END, VICTIM_OFFENDER, {1: T + minutes(15), 2: T}, GAP, True) == \
        {1: END, 2: END - GAP}


def test_someone_without_an_arrival_time_arrives_at_the_start() -> None:
    assert staggered_departures(T, END, VICTIM_OFFENDER, {2: T + minutes(20)}, GAP, True) == {1: END - GAP, 2: END}
    assert staggered_departures(T, END, VICTIM_OFFENDER, {1: T + minutes(20)}, GAP, True) == {1: END, 2: END - GAP}


def test_a_side_of_several_leaves_together_by_its_earliest_arrival() -> None:
    roles = {1: "victim", 2: "next_of_kin", 3: "offender", 4: "other"}
    arrivals = {1: T, 2: T + minutes(5), 3: T + minutes(30), 4: T + minutes(30)}
    # Both of the harmed side leave first; the offender and the support person (neither side) at the end.
    assert staggered_departures(T, END, roles, arrivals, GAP, True) == {1: END - GAP, 2: END - GAP, 3: END, 4: END}


def test_a_gap_of_zero_sends_everyone_out_at_the_end() -> None:
    assert staggered_departures(T, END, VICTIM_OFFENDER, {1: T, 2: T + minutes(15)}, timedelta(0), True) == \
        {1: END, 2: END}


@pytest.mark.parametrize("roles, in_person", [
    (VICTIM_OFFENDER, False),                         # by video or phone: no door to meet at
    ({1: "victim", 2: "next_of_kin"}, True),          # one side only
    ({1: "offender"}, True),
    ({}, True),
])
def test_no_departures_outside_an_in_person_joint_meeting(roles: dict[int, str], in_person: bool) -> None:
    assert staggered_departures(T, END, roles, {1: T, 2: T + minutes(15)}, GAP, in_person) == {}


def test_equal_first_arrivals_leave_together_at_the_end() -> None:
    # check_arrivals refuses this at an in-person meeting; the departure rule itself picks nobody.
    assert staggered_departures(T, END, VICTIM_OFFENDER, {1: T, 2: T}, GAP, True) == {1: END, 2: END}


@pytest.mark.parametrize("second_arrives", [minutes(110), minutes(115)])
def test_the_first_party_may_not_leave_before_the_other_has_arrived(second_arrives: timedelta) -> None:
    with pytest.raises(InvalidInput) as err:
        staggered_departures(T, END, VICTIM_OFFENDER, {1: T, 2: T + second_arrives}, GAP, True)
    assert err.value.errors[0]["field"] == "arrivals"
    assert "leaves 10 minutes before the end" in err.value.errors[0]["message"]


def test_a_short_meeting_still_works_when_both_are_in_before_the_first_leaves() -> None:
    end = T + minutes(30)
    assert staggered_departures(T, end, VICTIM_OFFENDER, {2: T + minutes(15)}, GAP, True) == \
        {1: end - GAP, 2: end}
    with pytest.raises(InvalidInput):
        staggered_departures(T, end, VICTIM_OFFENDER, {2: T + minutes(20)}, GAP, True)
    # Without a departure gap nobody leaves early, so a late second arrival is the arrival rule's business only.
    assert staggered_departures(T, end, VICTIM_OFFENDER, {2: T + minutes(25)}, timedelta(0), True) == \
        {1: end, 2: end}


# --- the participant's texts: their own departure next to their own arrival ----------------------

def _text(channel: str, kind: str, language: str, **kw: object) -> str:
    from tests.unit.test_message_templates import ctx
    from notifications.rendering import render

    return render(channel, kind, language, ctx(**kw)).text


def test_a_staggered_departure_stands_next_to_the_arrival_in_each_text() -> None:
    from tests.unit.test_message_templates import TZ

    leaves = datetime(2026, 12, 1, 11, 20, tzinfo=TZ)
    assert _text("sms", "appointment_confirmed", "nl", departure=leaves) == (
        "Uw afspraak is bevestigd: di 1 dec 10:00 uur tot 11:20 uur, Lindenlaan 12, Utrecht. "
        "Verhinderd? Bel 030 123 4567.")
    assert _text("sms", "appointment_rescheduled", "en", departure=leaves).startswith(
        "Your appointment has moved to Tue 1 Dec 10:00 until 11:20, Lindenlaan 12, Utrecht.")
    assert "is di 1 dec 10:00 uur tot 11:20 uur," in _text("sms", "appointment_reminder", "nl", departure=leaves)
    assert "Wanneer: dinsdag 1 december, 10:00 tot 11:20 uur" in _text("email", "appointment_confirmed", "nl",
                                                                          departure=leaves)
    assert "When: Tuesday 1 December, 10:00 to 11:20" in _text("email", "appointment_reminder", "en",
                                                               departure=leaves)
    # Without a staggered departure the texts are as they were: the email names the appointment's end.
    assert "tot" not in _text("sms", "appointment_confirmed", "nl").split("Verhinderd")[0]
    assert "10:00 tot 11:30 uur" in _text("email", "appointment_confirmed", "nl")


@pytest.mark.parametrize("kind", ["appointment_confirmed", "appointment_rescheduled", "appointment_reminder"])
@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_departure_keeps_each_sms_at_one_segment(kind: str, language: str) -> None:
    from notifications.sms import is_gsm7, segments
    from tests.unit.test_message_templates import TZ

    text = _text("sms", kind, language, place="Burgemeester de Withstraat 112, Rotterdam",
                 arrival=datetime(2026, 9, 30, 10, 45, tzinfo=TZ), departure=datetime(2026, 9, 30, 12, 35, tzinfo=TZ))
    assert is_gsm7(text) and segments(text) == 1, (len(text), text)
