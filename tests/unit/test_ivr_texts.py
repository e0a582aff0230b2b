"""The phone line's spoken texts: all there in both languages, and the days and times said right.

The opening-time phrase is what a caller outside office hours hears; it is
computed from the one working-day calendar, so long weekends, Easter and
Christmas must come out as a person would say them.
"""
from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from core.config import Settings
from core.officehours import OfficeHours
from core.workdays import WorkingDayCalendar
from telephony.callbacks import callback_window
from telephony.ivr_prompts import LineContext
from telephony.speech import LANGUAGES, environment, say, template_names

AMS = ZoneInfo("Europe/Amsterdam")
SAMPLE = {
    "opening": {"relative": "weekday", "weekday": 0, "day": 30, "month": 11, "hour": 9, "minute": 0},
    "start": {"relative": "weekday", "weekday": 1, "day": 1, "month": 12, "hour": 9, "minute": 0},
    "end": {"relative": "weekday", "weekday": 1, "day": 1, "month": 12, "hour": 12, "minute": 0},
    "last_four": ["4", "5", "6", "7"],
    "groups": [["0", "6"], ["1", "2"], ["3", "4"], ["5", "6"], ["7", "8"]],
    "number_typed_in": False,
    "may_identify": False,
    "english": True,
}


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS).astimezone(timezone.utc)


def opening_phrase(now: datetime, language: str) -> str:
    """What the closed-line menu says about when the line opens, as heard."""
    ctx = LineContext(Settings(), WorkingDayCalendar(), now)
    from core.officehours import next_opening

    opening = next_opening(now, ctx.calendar, ctx.hours, AMS)
    return say("menu_closed", language, opening=ctx.spoken(opening))


def test_there_are_templates_for_every_step() -> None:
    assert {"safety", "greeting", "english_offer", "menu_open", "menu_closed", "connecting", "nobody_available", "staff_screen", "confirm_number",
            "enter_number", "invalid_number", "moment", "identify", "confirmation", "not_understood", "closing",
            "goodbye"} <= set(template_names())


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", template_names())
def test_every_text_renders_in_both_languages(name: str, language: str) -> None:
    environment().get_template(f"voice/{name}.{language}.txt")  # exists, not a fallback
    text = say(name, language, **SAMPLE)
    assert text and "{" not in text and "  " not in text and "\n" not in text


def test_dutch_is_dutch_and_english_is_english() -> None:
    assert say("safety", "nl") == "Bent u in acuut gevaar? Bel dan 112."
    assert "112" in say("safety", "en") and "danger" in say("safety", "en")
    assert say("english_offer", "en") == "For English, press 9."


def test_the_number_is_read_back_as_its_last_four_digits_only() -> None:
    text = say("confirm_number", "nl", last_four=["4", "5", "6", "7"])
    assert "4 5 6 7" in text and "+31" not in text


@pytest.mark.parametrize("now, nl, en", [
    (local(2026, 11, 27, 18, 30), "maandag om 9 uur", "Monday at 9"),        # Friday evening
    (local(2026, 11, 30, 7, 45), "vandaag om 9 uur", "today at 9"),          # Monday, early
    (local(2027, 3, 27, 11, 0), "dinsdag om 9 uur", "Tuesday at 9"),         # Saturday before Easter Monday
    (local(2027, 3, 26, 10, 0), "dinsdag om 9 uur", "Tuesday at 9"),         # Good Friday itself
    (local(2026, 12, 24, 17, 0), "maandag om 9 uur", "Monday at 9"),         # Christmas Eve, closing time
    (local(2027, 4, 26, 20, 0), "woensdag om 9 uur", "Wednesday at 9"),      # eve of Koningsdag
    (local(2026, 3, 28, 12, 0), "maandag om 9 uur", "Monday at 9"),          # DST weekend
])
def test_the_line_opens_again_phrase(now: datetime, nl: str, en: str) -> None:
    assert f"weer open {nl}." in opening_phrase(now, "nl")
    assert f"opens again {en}." in opening_phrase(now, "en")


def test_a_long_closure_names_the_date_too() -> None:
    closures = [datetime(2026, 12, d).date() for d in (28, 29, 30, 31)]
    ctx = LineContext(Settings(closure_days=tuple(closures)), WorkingDayCalendar(closures), local(2026, 12, 24, 18, 0))
    from core.officehours import next_opening

    opening = next_opening(ctx.now, ctx.calendar, ctx.hours, AMS)
    assert "maandag 4 januari om 9 uur" in say("menu_closed", "nl", opening=ctx.spoken(opening))
    assert "Monday 4 January at 9" in say("menu_closed", "en", opening=ctx.spoken(opening))


@pytest.mark.parametrize("moment, nl, en", [
    ("morning", "dinsdag tussen 9 en 12 uur", "Tuesday between 9 and 12"),
    ("afternoon", "dinsdag tussen 12 en 17 uur", "Tuesday between 12 and 5 pm"),
    ("no_preference", "dinsdag tussen 9 en 17 uur", "Tuesday between 9 and 5 pm"),
])
def test_the_promised_window_is_the_next_working_day(moment: str, nl: str, en: str) -> None:
    now = local(2026, 11, 30, 10, 0)  # Monday morning
    ctx = LineContext(Settings(), WorkingDayCalendar(), now)
    window = callback_window(now, moment, ctx.calendar, OfficeHours(time(9), time(17)), AMS)
    start, end = ctx.spoken(window.start), ctx.spoken(window.end)
    assert say("closing", "nl", start=start, end=end) == f"Dank u wel. Wij bellen u {nl}. Tot ziens."
    assert say("closing", "en", start=start, end=end) == f"Thank you. We will call you {en}. Goodbye."


def test_the_window_after_easter_skips_easter_monday() -> None:
    now = local(2027, 3, 26, 15, 0)  # Good Friday
    window = callback_window(now, "morning", WorkingDayCalendar(), OfficeHours(), AMS)
    assert window.start == local(2027, 3, 30, 9, 0) and window.end == local(2027, 3, 30, 12, 0)
