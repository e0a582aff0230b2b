"""A video appointment's joining link in the participant's messages (within the SMS budget), and mediators'
emails in their own language (notifications.planning, the templates)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from notifications.planning import (AppointmentFacts, MediatorFacts, Office, ParticipantFacts, mediator_messages,
                                    participant_messages)
from notifications.rendering import render
from notifications.sms import is_gsm7, segments

TZ = ZoneInfo("Europe/Amsterdam")
LINK = "https://meet.jit.si/pendel-7f3a9c2e41abc"   # 40 characters: the length the admin page promises one text for
assert len(LINK) == 40
LONG_LINK = "https://teams.microsoft.com/l/meetup-join/" + "x" * 158  # 200 characters, as such links come
KINDS = ("appointment_confirmed", "appointment_rescheduled", "appointment_reminder")
ARRIVAL = datetime(2026, 9, 30, 10, 45, tzinfo=TZ)  # the longest Dutch short date (wo 30 sep)


def ctx(**kw: object) -> dict[str, object]:
    values: dict[str, object] = dict(kind="intake", mode="video", arrival=ARRIVAL, departure=None,
                                     end=ARRIVAL + timedelta(hours=1), place="", full=False,
                                     office_phone="030 123 4567", name="Sanne Mulder", replies=True, video_url=LINK)
    values.update(kw)
    return values


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_video_appointments_texts_carry_the_link_in_one_segment(kind: str, language: str) -> None:
    for departure in (None, ARRIVAL + timedelta(minutes=75)):  # a staggered departure (H5) on the same text
        text = render("sms", kind, language, ctx(departure=departure)).text
        assert LINK in text and is_gsm7(text)
        assert segments(text) == 1, (len(text), text)
        assert "link volgt" not in text and "link to follow" not in text


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_long_link_costs_at_most_three_segments(kind: str, language: str) -> None:
    text = render("sms", kind, language, ctx(video_url=LONG_LINK, departure=ARRIVAL + timedelta(minutes=75))).text
    assert LONG_LINK in text and is_gsm7(text) and segments(text) <= 3, (len(text), text)


@pytest.mark.parametrize("language, words", [("nl", "via video, de link volgt apart"), ("en", "by video, link to follow")])
def test_without_a_link_the_text_says_it_follows(language: str, words: str) -> None:
    assert words in render("sms", "appointment_confirmed", language, ctx(video_url=None)).text


@pytest.mark.parametrize("language, words", [("nl", "Hoe: via video, met deze link: "),
                                             ("en", "How: by video, with this link: ")])
@pytest.mark.parametrize("kind", KINDS)
def test_a_video_appointments_emails_carry_the_link(kind: str, language: str, words: str) -> None:
    rendered = render("email", kind, language, ctx())
    assert words + LINK in rendered.text and LINK in (rendered.html or "")


def test_the_link_shows_only_for_a_video_appointment() -> None:
    text = render("sms", "appointment_confirmed", "nl", ctx(mode="in_person", place="Lindenlaan 12, Utrecht")).text
    assert LINK not in text and "Lindenlaan 12" in text


def test_a_cancellation_does_not_send_the_link() -> None:
    for language in ("nl", "en"):
        assert LINK not in render("sms", "appointment_cancelled", language, ctx()).text
        assert LINK not in render("email", "appointment_cancelled", language, ctx()).text


OFFICE = Office(tz=TZ, phone="030 123 4567", quiet_start=datetime(2026, 1, 1, 22).time(),
                quiet_end=datetime(2026, 1, 1, 8).time(), sms_replies=True)


def facts(mode: str = "video", video_url: str | None = LINK, mediator_language: str = "nl",
          participant_language: str = "nl") -> AppointmentFacts:
    start = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    participant = ParticipantFacts(participant_id=7, name="Sanne", language=participant_language,
                                   phone="+31612345678", email="s@example.net", sms_allowed=True, email_allowed=True,
                                   full_text=False, arrival=start)
    return AppointmentFacts(appointment_id=3, version=1, kind="intake", mode=mode, start=start,
                            end=start + timedelta(hours=1), place=None, reference="HB-2026-0001",
                            participants=(participant,),
                            mediators=(MediatorFacts(5, "Anouk", "anouk@example.org", mediator_language),),
                            video_url=video_url, updated_at=start)


@pytest.mark.parametrize("language, words", [("nl", "via video: "), ("en", "by video: ")])
def test_planning_puts_the_link_in_each_participant_message_in_their_language(language: str, words: str) -> None:
    messages = participant_messages("appointment_confirmed", facts(participant_language=language), OFFICE)
    assert sorted(m.channel for m in messages) == ["email", "sms"]
    sms = next(m for m in messages if m.channel == "sms")
    assert words + LINK in sms.body and sms.language == language and sms.segments == 1
    assert LINK in next(m for m in messages if m.channel == "email").body


def test_planning_leaves_the_link_out_of_other_modes() -> None:
    messages = participant_messages("appointment_confirmed", facts(mode="phone"), OFFICE)
    assert all(LINK not in m.body for m in messages)


@pytest.mark.parametrize("language, subject, line", [
    ("nl", "Afspraak geboekt: ", "Videolink: "), ("en", "Appointment booked: ", "Video link: ")])
def test_a_mediators_email_follows_their_language(language: str, subject: str, line: str) -> None:
    [message] = mediator_messages("confirmed", facts(mediator_language=language), OFFICE)
    assert message.language == language and message.subject.startswith(subject)
    assert line + LINK in message.body
    assert ("(video)" in message.attachment_ics) and "HB-2026-0001" in message.attachment_ics


def test_mediator_notices_exist_in_both_languages() -> None:
    context = dict(name="Anouk", reason="cannot_come", reference="HB-2026-0001", participant_id=7,
                   start=ARRIVAL, text=None, error=None, pendel_url="https://pendel.test")
    assert render("email", "mediator_notice", "en", context).subject.startswith("A participant cannot come")
    assert render("email", "mediator_notice", "nl", context).subject != render(
        "email", "mediator_notice", "en", context).subject
