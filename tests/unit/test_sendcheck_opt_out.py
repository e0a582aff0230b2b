"""The send-time check and a number's SMS opt-out; a participant's message to an address no longer theirs."""
from __future__ import annotations

from dataclasses import replace
from datetime import time
from zoneinfo import ZoneInfo

import pytest

from notifications.inbound_models import STOP_CONFIRMATION, confirms_opt_out, number_hash, reply_key
from notifications.sendcheck import AppointmentFacts, Decision, MessageFacts, ParticipantFacts, check
from notifications.timing import QuietHours
from tests.unit.test_sendcheck import LIVE, PERSON, REMINDER, local

QUIET = QuietHours(time(21, 0), time(8, 0), ZoneInfo("Europe/Amsterdam"))
NOW = local("2025-01-13T14:00")
CALLBACK_TEXT = MessageFacts(kind="callback_unreachable", channel="sms", recipient_kind="caller", is_reminder=False,
                             appointment_version=None, deadline=None)
STRANGER_ANSWER = replace(CALLBACK_TEXT, kind="auto_reply")
PARTICIPANT_ANSWER = replace(CALLBACK_TEXT, kind="auto_reply", recipient_kind="participant")


def decide(message: MessageFacts, appointment: AppointmentFacts | None = None,
           participant: ParticipantFacts | None = None) -> Decision:
    return check(message, appointment, participant, NOW, QUIET)


@pytest.mark.parametrize("message, appointment, participant", [
    (CALLBACK_TEXT, None, None),              # "we tried to reach you": no participant at all
    (STRANGER_ANSWER, None, None),            # an automatic answer to a number we do not know
    (PARTICIPANT_ANSWER, None, PERSON),       # ... or to a participant who still allows SMS
    (REMINDER, LIVE, PERSON),
])
def test_no_sms_goes_to_a_number_that_opted_out(message: MessageFacts, appointment: AppointmentFacts | None,
                                                participant: ParticipantFacts | None) -> None:
    assert decide(message, appointment, participant) == Decision("send")
    assert decide(replace(message, number_opted_out=True), appointment, participant) == \
        Decision("skip", "number_opted_out")
    # A number the provider found invalid takes no text either, whoever it is for.
    assert decide(replace(message, number_not_textable=True), appointment, participant) == \
        Decision("skip", "number_not_textable")


def test_a_number_not_textable_holds_back_texts_only() -> None:
    email = replace(REMINDER, channel="email", number_not_textable=True)
    assert decide(email, LIVE, PERSON) == Decision("send")


def test_the_stop_confirmation_itself_still_goes() -> None:
    confirmation = replace(STRANGER_ANSWER, number_opted_out=True, confirms_opt_out=True)
    assert decide(confirmation) == Decision("send")


def test_an_email_is_not_held_back_by_the_numbers_opt_out() -> None:
    email = replace(REMINDER, channel="email", number_opted_out=True)
    assert decide(email, LIVE, PERSON) == Decision("send")


@pytest.mark.parametrize("channel", ["sms", "email"])
def test_a_participant_message_to_an_address_no_longer_theirs_is_skipped(channel: str) -> None:
    moved = replace(REMINDER, channel=channel, address_current=False)
    assert decide(moved, LIVE, PERSON) == Decision("skip", "address_changed")
    # Withdrawal and a cancelled appointment still say what really happened.
    assert decide(moved, LIVE, replace(PERSON, withdrawn=True)) == Decision("cancel", "participant_withdrew")
    assert decide(moved, replace(LIVE, status="cancelled"), PERSON) == Decision("skip", "appointment_not_live")


def test_the_address_fact_only_concerns_participants() -> None:
    assert decide(replace(CALLBACK_TEXT, address_current=False)) == Decision("send")


def test_only_the_stop_confirmation_is_recognised_as_one() -> None:
    assert confirms_opt_out("auto_reply", reply_key("SM1", STOP_CONFIRMATION))
    assert not confirms_opt_out("auto_reply", reply_key("SM1", "start_confirmed"))
    assert not confirms_opt_out("auto_reply", reply_key("SM1", "auto_reply"))
    assert not confirms_opt_out("callback_unreachable", reply_key("SM1", STOP_CONFIRMATION))


def test_the_number_hash_is_keyed() -> None:
    digest = number_hash("one key", "+31612345678")
    assert len(digest) == 64 and "612345678" not in digest
    assert digest == number_hash("one key", "+31612345678") != number_hash("another key", "+31612345678")
