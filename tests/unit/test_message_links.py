"""The personal link in participants' messages, the "times to choose from" message and the answer notice:
texts, discretion, SMS segment budgets with a realistic link, and the send check for offers."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from notifications.offer_messages import KIND, OfferFacts, offer_key, offer_messages, offer_of
from notifications.page_events import answer_reason
from notifications.planning import AppointmentFacts, Office, ParticipantFacts, participant_messages, reminder_messages
from notifications.rendering import render
from notifications.sendcheck import Decision, MessageFacts, ParticipantFacts as Person, check
from notifications.sms import is_gsm7, segments
from notifications.timing import QuietHours
from scheduler.links import LINK_PATH, link_url
from tests.unit.test_message_templates import REVEALING, ctx

TZ = ZoneInfo("Europe/Amsterdam")
BASE = "https://afspraken.example.nl"                     # a realistic PUBLIC_BASE_URL
TOKEN = "AbCdEfGhIjKlMnOpQrStUv"                          # as scheduler.links.issue makes them: 22 characters
LINK = link_url(BASE, TOKEN)
assert len(TOKEN) == 22 and LINK == BASE + LINK_PATH + TOKEN and len(LINK) == 53
LONG_PLACE = "Burgemeester de Withstraat 112, Rotterdam"     # the long Dutch street of the template tests
PLACE = "Lindenlaan 12, Utrecht"
ARRIVAL = datetime(2026, 9, 30, 10, 45, tzinfo=TZ)         # the longest short date (wo 30 sep / Wed 30 Sep)
DEPARTURE = ARRIVAL + timedelta(minutes=110)
VIDEO = "https://meet.jit.si/pendel-7f3a9c2e41abc"          # 40 characters, as the admin page promises
LINKED = ("appointment_confirmed", "appointment_rescheduled", "appointment_reminder")
CASES = {  # the situations the budget is stated for: what the message is about beyond the plain in-person one
    "in person, long street": dict(place=LONG_PLACE),
    "joint meeting, own departure": dict(place=PLACE, departure=DEPARTURE),
    "joint meeting, own departure, long street": dict(place=LONG_PLACE, departure=DEPARTURE),
    "by phone": dict(mode="phone"),
    "home visit": dict(mode="home_visit"),
    "video with its joining link": dict(mode="video", video_url=VIDEO),
    "fuller text opted into": dict(place=PLACE, full=True, kind="preparation"),
}
# Segments with the link, per case: one text where it fits, a deliberate second where two links, the long
# street with a departure, or the fuller words the participant chose, do not fit in 160 characters.
BUDGET = {"in person, long street": 1, "joint meeting, own departure": 1,
          "joint meeting, own departure, long street": 2, "by phone": 1, "home visit": 1,
          "video with its joining link": 2, "fuller text opted into": 2}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", LINKED)
def test_each_sms_with_the_link_keeps_its_segment_budget(kind: str, language: str, case: str) -> None:
    text = render("sms", kind, language, ctx(link=LINK, arrival=ARRIVAL, **CASES[case])).text
    assert text.endswith(" " + LINK), text  # whole, last, with nothing a phone could take as part of it
    assert is_gsm7(text), text
    assert segments(text) == BUDGET[case], (len(text), text)


@pytest.mark.parametrize("language, words", [("nl", "Verhinderd? "), ("en", "Can't come? ")])
def test_the_link_takes_the_place_of_the_phone_number_in_a_confirmation(language: str, words: str) -> None:
    text = render("sms", "appointment_confirmed", language, ctx(link=LINK)).text
    assert text.endswith(words + LINK) and "030 123 4567" not in text
    assert "030 123 4567" in render("sms", "appointment_confirmed", language, ctx()).text  # no link: as before


@pytest.mark.parametrize("language, words", [("nl", "Komt u? "), ("en", "Coming? ")])
def test_a_reminder_asks_on_the_page_instead_of_by_reply(language: str, words: str) -> None:
    text = render("sms", "appointment_reminder", language, ctx(link=LINK)).text
    assert text.endswith(words + LINK) and "1" not in text.split(",")[-1]


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", LINKED)
def test_each_email_carries_the_link_in_text_and_html_and_keeps_the_phone_number(kind: str, language: str) -> None:
    rendered = render("email", kind, language, ctx(link=LINK))
    assert LINK in rendered.text and LINK in (rendered.html or "") and "030 123 4567" in rendered.text
    assert "pagina" in rendered.text if language == "nl" else "page" in rendered.text


@pytest.mark.parametrize("channel", ["sms", "email"])
@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", (*LINKED, KIND))
def test_texts_with_the_link_stay_discreet(kind: str, language: str, channel: str) -> None:
    context = ctx(link=LINK, kind="meeting", expires=ARRIVAL)
    rendered = render(channel, kind, language, context)
    for part in (rendered.text, rendered.subject or "", rendered.html or ""):
        assert not [w for w in REVEALING if w in part.lower()], part
    if channel == "sms":  # the opt-in's fuller words, as before
        assert "herstelbemiddeling" in render(channel, kind, "nl", {**context, "full": True}).text


OFFICE = Office(tz=TZ, phone="030 123 4567", quiet_start=datetime(2026, 1, 1, 22).time(),
                quiet_end=datetime(2026, 1, 1, 8).time(), sms_replies=True)
START = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def person(pid: int, link: str | None = None, **kw: object) -> ParticipantFacts:
    values: dict[str, object] = dict(participant_id=pid, name=f"P{pid}", language="nl", phone=f"+3161234567{pid}",
                                     email=f"p{pid}@example.net", sms_allowed=True, email_allowed=True,
                                     full_text=False, arrival=START, link=link)
    values.update(kw)
    return ParticipantFacts(**values)  # type: ignore[arg-type]


def facts(*participants: ParticipantFacts) -> AppointmentFacts:
    return AppointmentFacts(appointment_id=3, version=1, kind="meeting", mode="in_person", start=START,
                            end=START + timedelta(hours=2), place=PLACE, reference="HB-2026-0001",
                            participants=participants, mediators=(), updated_at=START)


def test_planning_gives_each_participant_their_own_link_and_the_cancellation_none() -> None:
    one, two = link_url(BASE, "A" * 22), link_url(BASE, "B" * 22)
    appointment = facts(person(1, one), person(2, two))
    for kind in ("appointment_confirmed", "appointment_rescheduled"):
        messages = participant_messages(kind, appointment, OFFICE)
        assert len(messages) == 4
        for m in messages:
            mine, theirs = (one, two) if m.participant_id == 1 else (two, one)
            assert mine in m.body and theirs not in m.body and theirs not in (m.html_body or "")
    reminders = reminder_messages(appointment, appointment.participants[0], 120, START - timedelta(hours=2), OFFICE)
    assert reminders and all(one in m.body for m in reminders)
    cancelled = participant_messages("appointment_cancelled", replace(appointment, status="cancelled"), OFFICE)
    assert cancelled and all(LINK_PATH not in m.body and LINK_PATH not in (m.html_body or "") for m in cancelled)


def offer(**kw: object) -> OfferFacts:
    values: dict[str, object] = dict(offer_id=41, kind="intake",
                                     expires_at=datetime(2026, 9, 30, 8, 45, tzinfo=timezone.utc), participant_id=7,
                                     name="Sanne Mulder", language="nl", phone="+31612345678", email="s@example.net",
                                     sms_allowed=True, email_allowed=True, full_text=False, link=LINK)
    values.update(kw)
    return OfferFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("language, sms, subject, until", [
    ("nl", "Wij hebben een paar tijden vrijgehouden voor uw afspraak. Kies er een uiterlijk wo 30 sep 10:45 uur: ",
     "Kies een tijd voor uw afspraak", "Dat kan tot woensdag 30 september, 10:45 uur."),
    ("en", "We have set aside a few times for your appointment. Please choose one by Wed 30 Sep 10:45: ",
     "Choose a time for your appointment", "You can do so until Wednesday 30 September, 10:45."),
])
def test_the_offer_message_says_until_when_in_the_offices_time_and_links_the_offer(
        language: str, sms: str, subject: str, until: str) -> None:
    messages = {m.channel: m for m in offer_messages(offer(language=language), OFFICE)}
    assert messages["sms"].body == sms + LINK and messages["sms"].segments == 1
    email = messages["email"]
    assert email.subject == subject and until in email.body and LINK in email.body and LINK in (email.html_body or "")
    assert "030 123 4567" in email.body
    for m in messages.values():
        assert m.kind == KIND and m.recipient_kind == "participant" and m.participant_id == 7
        assert m.appointment_id is None and m.deadline == offer().expires_at and m.not_before is None
        assert m.key == offer_key(41, m.channel, 7) and offer_of(m.kind, m.key) == 41


def test_the_offer_message_goes_only_on_allowed_channels_and_keys_per_offer_and_channel() -> None:
    assert [m.channel for m in offer_messages(offer(sms_allowed=False), OFFICE)] == ["email"]
    assert [m.channel for m in offer_messages(offer(email=None), OFFICE)] == ["sms"]
    keys = {m.key for o in (offer(), offer(offer_id=42)) for m in offer_messages(o, OFFICE)}
    assert len(keys) == 4
    assert offer_of("appointment_confirmed", "offer:41:slots_offered:sms:p7") is None
    assert offer_of(KIND, "appt:3:v1:appointment_confirmed:sms:p7") is None


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_offer_sms_with_fuller_words_costs_two_segments(language: str) -> None:
    [sms] = [m for m in offer_messages(offer(language=language, full_text=True), OFFICE) if m.channel == "sms"]
    assert sms.body.endswith(LINK) and is_gsm7(sms.body) and sms.segments == 2, (len(sms.body), sms.body)


QUIET = QuietHours(datetime(2026, 1, 1, 21).time(), datetime(2026, 1, 1, 8).time(), TZ)
OFFER_MESSAGE = MessageFacts(kind=KIND, channel="sms", recipient_kind="participant", is_reminder=False,
                             appointment_version=None, deadline=datetime(2026, 12, 3, 9, tzinfo=timezone.utc),
                             offer_open=True)
IN = Person(withdrawn=False, sms_allowed=True, email_allowed=True)
NOON = datetime(2026, 12, 1, 11, tzinfo=timezone.utc)


def test_an_offer_message_goes_while_the_offer_is_open_and_never_once_it_is_not() -> None:
    assert check(OFFER_MESSAGE, None, IN, NOON, QUIET) == Decision("send")
    assert check(replace(OFFER_MESSAGE, offer_open=False), None, IN, NOON, QUIET) == Decision("skip", "offer_closed")
    assert check(OFFER_MESSAGE, None, replace(IN, withdrawn=True), NOON, QUIET).action == "cancel"
    assert check(OFFER_MESSAGE, None, IN, OFFER_MESSAGE.deadline, QUIET) == Decision("skip", "deadline_passed")
    night = datetime(2026, 12, 1, 23, tzinfo=timezone.utc)   # not a reminder: it answers what the office just did
    assert check(OFFER_MESSAGE, None, IN, night, QUIET) == Decision("send")


@pytest.mark.parametrize("response, previous, reason", [
    ("coming", None, "coming"), ("cannot_come", None, "cannot_come"), ("cannot_come", "coming", "cannot_come"),
    ("coming", "cannot_come", "coming_after_all")])
def test_the_answer_notice_says_coming_after_all_only_after_cannot_come(response, previous, reason) -> None:
    assert answer_reason(response, previous) == reason


@pytest.mark.parametrize("language, words", [("nl", "op de eigen afsprakenpagina"),
                                             ("en", "on their appointment page")])
@pytest.mark.parametrize("reason", ["coming", "cannot_come", "coming_after_all"])
def test_a_notice_of_an_answer_on_the_page_says_so_and_one_by_text_as_before(reason, language, words) -> None:
    context = dict(name="Anouk", reason=reason, reference="HB-2026-0001", participant_id=7, start=ARRIVAL,
                   text=None, error=None, pendel_url="https://pendel.test")
    on_page = render("email", "mediator_notice", language, {**context, "via": "page"})
    by_text = render("email", "mediator_notice", language, context)
    assert words in on_page.text and words not in by_text.text and on_page.subject == by_text.subject
    assert "Anouk" in on_page.text and LINK_PATH not in on_page.text
