"""The send-time check: stale versions, withdrawal, channel off, deadline, quiet hours (DST included)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from notifications.sendcheck import AppointmentFacts, Decision, MessageFacts, ParticipantFacts, check
from notifications.timing import QuietHours, end_of_quiet, in_quiet_hours

AMS = ZoneInfo("Europe/Amsterdam")
QUIET = QuietHours(time(21, 0), time(8, 0), AMS)
UTC = timezone.utc


def local(text: str) -> datetime:
    """A wall-clock time in Amsterdam, as the aware datetime the code sees."""
    return datetime.fromisoformat(text).replace(tzinfo=AMS)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


START = local("2025-01-15T14:00")  # a Wednesday in winter (UTC+1)
LIVE = AppointmentFacts(status="confirmed", version=1, start=START)
PERSON = ParticipantFacts(withdrawn=False, sms_allowed=True, email_allowed=True)
REMINDER = MessageFacts(kind="appointment_reminder", channel="sms", recipient_kind="participant", is_reminder=True,
                        appointment_version=1, deadline=None)
CONFIRMATION = replace(REMINDER, kind="appointment_confirmed", is_reminder=False)
CANCELLATION = replace(CONFIRMATION, kind="appointment_cancelled", appointment_version=2)
CALLBACK = MessageFacts(kind="callback_confirmation", channel="sms", recipient_kind="caller", is_reminder=False,
                        appointment_version=None, deadline=None)
MEDIATOR_NOTICE = MessageFacts(kind="mediator_notice", channel="email", recipient_kind="mediator",
                               is_reminder=False, appointment_version=2, deadline=None)


def decide(message: MessageFacts = REMINDER, appointment: AppointmentFacts | None = LIVE,
           participant: ParticipantFacts | None = PERSON, now: datetime = local("2025-01-13T14:00"),
           quiet: QuietHours = QUIET) -> Decision:
    return check(message, appointment, participant, now, quiet)


# --- the plain cases ----------------------------------------------------------------

def test_a_due_reminder_in_the_day_goes() -> None:
    assert decide() == Decision("send")


def test_stale_version_is_skipped_after_a_reschedule() -> None:
    moved = replace(LIVE, version=2)
    assert decide(CONFIRMATION, moved) == Decision("skip", "stale_version")
    assert decide(REMINDER, moved) == Decision("skip", "stale_version")
    assert decide(replace(CONFIRMATION, kind="appointment_rescheduled", appointment_version=2), moved).action == "send"


@pytest.mark.parametrize("status", ["cancelled", "completed", "no_show"])
def test_appointment_no_longer_live_is_skipped(status: str) -> None:
    gone = replace(LIVE, status=status)
    assert decide(REMINDER, gone) == Decision("skip", "appointment_not_live")
    assert decide(CONFIRMATION, gone) == Decision("skip", "appointment_not_live")


def test_a_held_appointment_counts_as_live() -> None:
    assert decide(CONFIRMATION, replace(LIVE, status="held")).action == "send"


def test_cancellation_notice_goes_for_the_cancelled_version_only() -> None:
    cancelled = AppointmentFacts(status="cancelled", version=2, start=START)
    assert decide(CANCELLATION, cancelled, now=local("2025-01-13T23:30")).action == "send"  # at once, even at night
    assert decide(CANCELLATION, replace(cancelled, version=3)) == Decision("skip", "stale_version")
    assert decide(CANCELLATION, replace(LIVE, version=2)) == Decision("skip", "appointment_not_cancelled")


def test_appointment_gone_is_skipped() -> None:
    assert decide(REMINDER, None) == Decision("skip", "appointment_gone")


def test_withdrawn_participant_is_cancelled_whatever_the_message() -> None:
    stopped = replace(PERSON, withdrawn=True)
    for message, appointment in ((REMINDER, LIVE), (CONFIRMATION, replace(LIVE, version=5)),
                                 (CANCELLATION, AppointmentFacts("cancelled", 2, START))):
        assert decide(message, appointment, stopped) == Decision("cancel", "participant_withdrew")


def test_participant_gone_is_skipped() -> None:
    assert decide(REMINDER, LIVE, None) == Decision("skip", "recipient_gone")


def test_channel_switched_off_is_skipped() -> None:
    no_sms = replace(PERSON, sms_allowed=False)
    assert decide(REMINDER, LIVE, no_sms) == Decision("skip", "channel_off")
    assert decide(replace(REMINDER, channel="email"), LIVE, no_sms).action == "send"
    no_email = replace(PERSON, email_allowed=False)
    assert decide(replace(CONFIRMATION, channel="email"), LIVE, no_email) == Decision("skip", "channel_off")


def test_callback_confirmation_and_mediator_notice_need_no_appointment_or_participant() -> None:
    night = local("2025-01-13T23:59")
    assert decide(CALLBACK, None, None, now=night) == Decision("send")
    cancelled = AppointmentFacts(status="cancelled", version=2, start=START)
    assert decide(MEDIATOR_NOTICE, cancelled, None, now=night) == Decision("send")


# --- deadlines ----------------------------------------------------------------------

def test_after_the_start_nothing_about_it_goes() -> None:
    assert decide(REMINDER, now=START) == Decision("skip", "deadline_passed")
    assert decide(CONFIRMATION, now=START + timedelta(minutes=1)) == Decision("skip", "deadline_passed")
    assert decide(CONFIRMATION, now=START - timedelta(minutes=1)).action == "send"


def test_the_rows_own_deadline_counts_when_earlier() -> None:
    message = replace(REMINDER, deadline=local("2025-01-14T12:00"))
    assert decide(message, now=local("2025-01-14T12:00")) == Decision("skip", "deadline_passed")
    assert decide(message, now=local("2025-01-14T11:59")).action == "send"
    callback = replace(CALLBACK, deadline=local("2025-01-14T12:00"))
    assert decide(callback, None, None, now=local("2025-01-14T13:00")) == Decision("skip", "deadline_passed")


# --- quiet hours ----------------------------------------------------------------------

@pytest.mark.parametrize("clock, quiet", [
    ("20:59:59", False), ("21:00", True), ("23:30", True), ("00:00", True), ("07:59:59", True), ("08:00", False),
    ("12:00", False)])
def test_the_window_crosses_midnight(clock: str, quiet: bool) -> None:
    assert in_quiet_hours(local(f"2025-01-13T{clock}"), QUIET) is quiet


def test_reminder_in_the_evening_waits_for_the_morning() -> None:
    assert decide(now=local("2025-01-13T22:15")) == Decision("postpone", "quiet_hours", utc("2025-01-14T07:00"))


def test_reminder_after_midnight_waits_for_the_same_morning() -> None:
    assert decide(now=local("2025-01-14T03:00")) == Decision("postpone", "quiet_hours", utc("2025-01-14T07:00"))


def test_confirmations_and_cancellations_go_at_once_at_night() -> None:
    night = local("2025-01-13T23:00")
    assert decide(CONFIRMATION, now=night) == Decision("send")
    assert decide(CALLBACK, None, None, now=night) == Decision("send")


def test_quiet_hours_that_last_past_the_start_skip_the_reminder() -> None:
    early = replace(LIVE, start=local("2025-01-14T07:30"))
    assert decide(REMINDER, early, now=local("2025-01-13T22:00")) == Decision("skip", "quiet_hours_until_deadline")
    at_eight = replace(LIVE, start=local("2025-01-14T08:00"))  # at the start itself is too late too
    assert decide(REMINDER, at_eight, now=local("2025-01-13T22:00")).action == "skip"
    nine = replace(LIVE, start=local("2025-01-14T09:00"))
    assert decide(REMINDER, nine, now=local("2025-01-13T22:00")) == \
        Decision("postpone", "quiet_hours", local("2025-01-14T08:00"))


def test_spring_forward_night_is_an_hour_shorter() -> None:
    # 30 March 2025: 02:00 CET becomes 03:00 CEST. 22:00 Saturday is 21:00 UTC; 08:00 Sunday is 06:00 UTC.
    until = end_of_quiet(local("2025-03-29T22:00"), QUIET)
    assert until == utc("2025-03-30T06:00")
    assert until - local("2025-03-29T22:00") == timedelta(hours=9)
    assert until.astimezone(AMS).time() == time(8, 0)


def test_fall_back_night_is_an_hour_longer_and_the_repeated_hour_is_quiet() -> None:
    # 26 October 2025: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    evening = local("2025-10-25T22:00")
    assert end_of_quiet(evening, QUIET) == utc("2025-10-26T07:00")
    assert end_of_quiet(evening, QUIET) - evening == timedelta(hours=11)
    first, second = utc("2025-10-26T00:30"), utc("2025-10-26T01:30")  # both 02:30 on the clock
    assert first.astimezone(AMS).time() == second.astimezone(AMS).time() == time(2, 30)
    assert end_of_quiet(first, QUIET) == end_of_quiet(second, QUIET) == utc("2025-10-26T07:00")


def test_summer_evening_uses_summer_offset() -> None:
    assert decide(REMINDER, replace(LIVE, start=local("2025-07-02T10:00")), now=local("2025-07-01T21:30")) == \
        Decision("postpone", "quiet_hours", utc("2025-07-02T06:00"))


def test_a_quiet_end_inside_the_spring_gap_lands_just_after_it() -> None:
    odd = QuietHours(time(23, 0), time(2, 30), AMS)  # 02:30 does not exist on 30 March 2025
    assert end_of_quiet(local("2025-03-29T23:30"), odd) == utc("2025-03-30T01:30")  # 03:30 CEST


def test_a_daytime_window_and_no_window() -> None:
    lunch = QuietHours(time(12, 0), time(13, 30), AMS)
    assert end_of_quiet(local("2025-01-13T12:10"), lunch) == local("2025-01-13T13:30")
    assert end_of_quiet(local("2025-01-13T13:30"), lunch) is None
    assert end_of_quiet(local("2025-01-13T23:00"), lunch) is None
    never = QuietHours(time(0, 0), time(0, 0), AMS)
    assert end_of_quiet(local("2025-01-13T03:00"), never) is None


def test_every_moment_of_a_year_agrees_with_the_wall_clock() -> None:
    # Every 37 minutes through 2025 (both DST changes): quiet iff the local clock says so,
    # and the end is the next 08:00 on the local clock, in the future, less than 12 h away.
    moment, stop = utc("2025-01-01T00:00"), utc("2026-01-01T00:00")
    while moment < stop:
        clock = moment.astimezone(AMS).time()
        until = end_of_quiet(moment, QUIET)
        assert (until is not None) == (clock >= time(21) or clock < time(8)), moment
        if until is not None:
            assert until.astimezone(AMS).time() == time(8, 0), moment
            assert timedelta(0) < until - moment <= timedelta(hours=12), moment
            assert not in_quiet_hours(until, QUIET)
        moment += timedelta(minutes=37)
