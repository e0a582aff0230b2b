"""What participants and mediators read: exact texts, discretion, languages, SMS segments."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from notifications.rendering import languages, render
from notifications.sms import is_gsm7, segments

TZ = ZoneInfo("Europe/Amsterdam")
KINDS = ("appointment_confirmed", "appointment_rescheduled", "appointment_cancelled", "appointment_reminder")
MODES = ("in_person", "home_visit", "phone", "video")
REVEALING = ("bemiddel", "mediat", "slachtoffer", "victim", "dader", "offender", "verdacht", "suspect",
             "misdrijf", "crime", "intake", "herstel", "restorative")


def ctx(**kw: object) -> dict[str, object]:
    values: dict[str, object] = dict(kind="intake", mode="in_person", arrival=datetime(2026, 12, 1, 10, 0, tzinfo=TZ),
                                     departure=None,  # a joint meeting's staggered departure, else None
                                     end=datetime(2026, 12, 1, 11, 30, tzinfo=TZ), place="Lindenlaan 12, Utrecht",
                                     full=False, office_phone="030 123 4567", name="Sanne Mulder", replies=True)
    values.update(kw)
    return values


def test_the_exact_dutch_confirmation_sms():
    assert render("sms", "appointment_confirmed", "nl", ctx()).text == (
        "Uw afspraak is bevestigd: di 1 dec 10:00 uur, Lindenlaan 12, Utrecht. Verhinderd? Bel 030 123 4567.")


def test_the_exact_english_reminder_sms_and_its_reply_line():
    assert render("sms", "appointment_reminder", "en", ctx()).text == (
        "Reminder: your appointment is Tue 1 Dec 10:00, Lindenlaan 12, Utrecht. "
        "Reply 1 if you are coming, 2 if you cannot.")
    one_way = render("sms", "appointment_reminder", "en", ctx(replies=False)).text
    assert "Reply" not in one_way


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("channel", ["sms", "email"])
def test_discreet_texts_reveal_nothing(channel, kind, mode, language):
    rendered = render(channel, kind, language, ctx(mode=mode, kind="meeting"))
    for part in (rendered.text, rendered.subject or "", rendered.html or ""):
        lowered = part.lower()
        assert not [w for w in REVEALING if w in lowered], part


@pytest.mark.parametrize("kind", KINDS)
def test_opt_in_gives_fuller_text(kind):
    assert "herstelbemiddeling" in render("sms", kind, "nl", ctx(full=True)).text
    assert "restorative mediation" in render("sms", kind, "en", ctx(full=True)).text


# How many segments each SMS template costs with a long Dutch street name and the longest date:
# the template tests say it, so a wordier template is a deliberate choice.
@pytest.mark.parametrize("kind, language, expected", [
    ("appointment_confirmed", "nl", 1), ("appointment_confirmed", "en", 1),
    ("appointment_rescheduled", "nl", 1), ("appointment_rescheduled", "en", 1),
    ("appointment_cancelled", "nl", 1), ("appointment_cancelled", "en", 1),
    ("appointment_reminder", "nl", 1), ("appointment_reminder", "en", 1),
])
def test_sms_segment_cost(kind, language, expected):
    context = ctx(place="Burgemeester de Withstraat 112, Rotterdam", arrival=datetime(2026, 9, 30, 10, 45, tzinfo=TZ))
    text = render("sms", kind, language, context).text
    assert is_gsm7(text), text
    assert segments(text) == expected, (len(text), text)


# A location as staff type it, with typographic quotes and dashes from a word processor.
TYPOGRAPHIC_PLACE = "Burgemeester de Withstraat 112 \u2013 \u201cDe Kaai\u201d\u2026, \u2019s-Hertogenbosch"


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", [k for k in KINDS if k != "appointment_cancelled"])  # these name the place
def test_typographic_characters_from_data_still_cost_one_gsm7_segment(kind, language):
    context = ctx(place=TYPOGRAPHIC_PLACE, arrival=datetime(2026, 9, 30, 10, 45, tzinfo=TZ))
    text = render("sms", kind, language, context).text
    assert is_gsm7(text) and segments(text) == 1, (len(text), text)
    assert 'Burgemeester de Withstraat 112 - "De Kaai"..., \'s-Hertogenbosch' in text


def test_emails_keep_the_typographic_characters():
    rendered = render("email", "appointment_confirmed", "nl", ctx(place=TYPOGRAPHIC_PLACE))
    assert TYPOGRAPHIC_PLACE in rendered.text and "\u2019s-Hertogenbosch" in (rendered.html or "")


def test_one_accented_letter_switches_to_ucs2():
    plain = "a" * 160
    assert segments(plain) == 1 and segments(plain + "a") == 2
    assert segments("ë" + "a" * 69) == 1 and segments("ë" + "a" * 70) == 2
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2  # GSM-7 escape: two septets each


def test_a_place_with_an_accent_costs_ucs2_segments_and_the_test_says_so():
    text = render("sms", "appointment_confirmed", "nl", ctx(place="Poëziehuis, Utrecht")).text
    assert not is_gsm7(text) and segments(text) == 2


def test_email_has_subject_text_and_html_in_the_participants_language():
    rendered = render("email", "appointment_confirmed", "en", ctx())
    assert rendered.subject == "Your appointment on Tuesday 1 December"
    assert rendered.text.startswith("Dear Sanne Mulder,")
    assert "10:00 to 11:30" in rendered.text
    assert rendered.html is not None and "<p>Dear Sanne Mulder,</p>" in rendered.html


def test_html_escapes_what_people_typed():
    rendered = render("email", "appointment_confirmed", "nl", ctx(name="<b>Eve</b>"))
    assert "<b>Eve</b>" not in (rendered.html or "") and "&lt;b&gt;Eve&lt;/b&gt;" in (rendered.html or "")


def test_unknown_language_falls_back_to_dutch_and_languages_are_discovered():
    assert render("sms", "appointment_cancelled", "de", ctx()).text.startswith("Uw afspraak")
    assert languages() == ["en", "nl"]


def test_mediator_email_names_the_case_but_not_the_participants():
    context = dict(event="cancelled", silent=True, start=ctx()["arrival"], end=ctx()["end"], place=None,
                   mode="phone", kind="meeting", reference="HB-2026-0007", name="Anouk")
    rendered = render("email", "mediator_appointment", "nl", context)
    assert rendered.subject == "Afspraak geannuleerd: di 1 dec 10:00 uur (HB-2026-0007)"
    assert "informeer hen persoonlijk" in rendered.text
