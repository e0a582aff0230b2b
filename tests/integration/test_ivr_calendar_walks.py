"""Whole calls on the days that are easy to get wrong: holidays, daylight-saving weekends, the edges of the day.

Each walk asserts what the caller hears (as a person would want it said:
the right weekday, a date only when a weekday alone would be ambiguous) and
exactly what the database then holds: the callback request with its window
in UTC, the call's IVR row, and the confirmation text in the outbox.
Expected days follow the working-day calendar: Koningsdag, Good Friday,
Easter Monday and the configured closure days are not working days.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from notifications.models import OutboxMessage
from telephony.models import IvrCall
from tests.integration.ivr_helpers import Caller, add_staff, at, local, requests  # noqa: F401

CALLER = "+31612345678"
WALK_MORNING = ("2", "1", "1", "1", "1")         # callback, own number, morning, may identify, text please
WALK_AFTERNOON = ("2", "1", "2", "1", "1")
WALK_ANY = ("2", "1", "3", "1", "1")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def settings(settings: Any) -> Any:
    """The office also closes between Christmas and New Year (closure days)."""
    return replace(settings, closure_days=tuple(date(2026, 12, d) for d in (28, 29, 30, 31)))


def _walk(client: Any, keys: tuple[str, ...], number: str = CALLER) -> tuple[Caller, str, str]:
    """(caller, what the menu said, the last thing said)."""
    caller = Caller(client, number)
    menu = caller.dial()
    heard = menu
    for key in keys:
        heard = caller.press(key)
    assert heard.hung_up
    return caller, menu.text, heard.text


def _database(runtime: Any) -> dict[str, Any]:
    """Everything a walk may write, in comparable form."""
    with runtime.db.session() as s:
        calls = [(c.call_sid, c.step, c.language, c.number, c.moment, c.may_identify, c.wants_confirmation,
                  c.callback_id, c.accepted_by_id) for c in s.scalars(select(IvrCall))]
        outbox = [(m.kind, m.channel, m.recipient_kind, m.to_address, m.language, m.status, m.is_reminder, m.body)
                  for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    rows = [(r.number, r.number_typed_in, r.caller_number, r.language, r.moment, r.may_identify,
             r.wants_confirmation, r.status, r.case_id, r.assignee_id, r.window_start, r.due_at)
            for r in requests(runtime)]
    return {"requests": rows, "calls": calls, "outbox": outbox}


def _expect(runtime: Any, caller: Caller, moment: str, window: tuple[datetime, datetime], text: str,
            language: str = "nl") -> None:
    [request] = requests(runtime)
    assert _database(runtime) == {
        "requests": [(CALLER, False, CALLER, language, moment, True, True, "open", None, None, *window)],
        "calls": [(caller.sid, "done", language, CALLER, moment, True, True, request.id, None)],
        "outbox": [("callback_confirmation", "sms", "caller", CALLER, language, "pending", False, text)],
    }


def test_koningsdag_is_closed_and_the_call_is_promised_for_wednesday(client: Any, runtime: Any, at: Any) -> None:
    add_staff(runtime, "+31611110001")  # someone on duty: still no ringing on a holiday
    at(local(2027, 4, 27, 10, 0))  # Tuesday 27 April 2027, Koningsdag
    caller = Caller(client, CALLER)
    menu = caller.dial()
    assert "Wij zijn nu gesloten. De telefoonlijn is weer open woensdag om 9 uur." in menu.text
    assert "Druk dan 1" not in menu.text
    assert caller.press("1").dial is None  # 1 on a closed day is a callback request, no staff ring
    for key in WALK_MORNING[1:]:
        heard = caller.press(key)
    assert heard.text == "Dank u wel. Wij bellen u woensdag tussen 9 en 12 uur. Tot ziens."
    _expect(runtime, caller, "morning", (utc(2027, 4, 28, 7), utc(2027, 4, 28, 10)),
            "Bedankt voor uw verzoek. Wij bellen u terug op wo 28 apr tussen 9:00 en 12:00 uur.")


def test_good_friday_opens_again_on_the_tuesday_after_easter(client: Any, runtime: Any, at: Any) -> None:
    at(local(2026, 4, 3, 14, 0))  # Good Friday 2026; Easter Monday is 6 April
    caller, menu, last = _walk(client, WALK_AFTERNOON)
    assert "De telefoonlijn is weer open dinsdag om 9 uur." in menu
    assert last == "Dank u wel. Wij bellen u dinsdag tussen 12 en 17 uur. Tot ziens."
    _expect(runtime, caller, "afternoon", (utc(2026, 4, 7, 10), utc(2026, 4, 7, 15)),
            "Bedankt voor uw verzoek. Wij bellen u terug op di 7 apr tussen 12:00 en 17:00 uur.")


def test_easter_monday_in_english(client: Any, runtime: Any, at: Any) -> None:
    at(local(2026, 4, 6, 11, 0))
    caller = Caller(client, CALLER)
    assert "weer open dinsdag om 9 uur" in caller.dial().text
    assert "We are closed at the moment. The line opens again Tuesday at 9." in caller.press("9").text
    for key in WALK_ANY:
        heard = caller.press(key)
    assert heard.text == "Thank you. We will call you Tuesday between 9 and 5 pm. Goodbye."
    _expect(runtime, caller, "no_preference", (utc(2026, 4, 7, 7), utc(2026, 4, 7, 15)),
            "Thank you for your request. We will call you back on Tue 7 Apr between 9:00 and 17:00.", "en")


def test_good_friday_before_the_clocks_go_forward(client: Any, runtime: Any, at: Any) -> None:
    at(local(2027, 3, 26, 10, 0))  # Good Friday 2027 in winter time; summer time starts on Easter Sunday
    caller, menu, last = _walk(client, WALK_MORNING)
    assert "weer open dinsdag om 9 uur" in menu and last.endswith("dinsdag tussen 9 en 12 uur. Tot ziens.")
    _expect(runtime, caller, "morning", (utc(2027, 3, 30, 7), utc(2027, 3, 30, 10)),
            "Bedankt voor uw verzoek. Wij bellen u terug op di 30 mrt tussen 9:00 en 12:00 uur.")


@pytest.mark.parametrize("saturday, monday_9_utc, monday", [
    ((2026, 3, 21), utc(2026, 3, 23, 8), "23 mrt"),   # winter time all along
    ((2026, 3, 28), utc(2026, 3, 30, 7), "30 mrt"),   # summer time from Sunday: 9:00 is an hour earlier in UTC
    ((2026, 10, 17), utc(2026, 10, 19, 7), "19 okt"),  # summer time all along
    ((2026, 10, 24), utc(2026, 10, 26, 8), "26 okt"),  # winter time from Sunday
])
def test_a_saturday_call_across_a_daylight_saving_weekend(client: Any, runtime: Any, at: Any,
                                                           saturday: tuple[int, int, int],
                                                           monday_9_utc: datetime, monday: str) -> None:
    at(local(*saturday, 12, 0))
    caller, menu, last = _walk(client, WALK_MORNING)
    assert "weer open maandag om 9 uur" in menu
    assert last == "Dank u wel. Wij bellen u maandag tussen 9 en 12 uur. Tot ziens."
    _expect(runtime, caller, "morning", (monday_9_utc, monday_9_utc + timedelta(hours=3)),
            f"Bedankt voor uw verzoek. Wij bellen u terug op ma {monday} tussen 9:00 en 12:00 uur.")


@pytest.mark.parametrize("moment", [utc(2026, 3, 29, 1, 30),   # 03:30 summer time, just after the jump
                                    utc(2026, 10, 25, 0, 30),  # the first 02:30 (summer time)
                                    utc(2026, 10, 25, 1, 30)])  # the second 02:30 (winter time)
def test_the_night_the_clocks_change(client: Any, runtime: Any, at: Any, moment: datetime) -> None:
    at(moment)
    caller, menu, last = _walk(client, WALK_AFTERNOON)
    assert "weer open maandag om 9 uur" in menu and "maandag tussen 12 en 17 uur" in last
    [request] = requests(runtime)
    day = moment.day + 1
    offset = 2 if moment.month == 3 else 1
    assert (request.window_start, request.due_at) == (utc(2026, moment.month, day, 12 - offset),
                                                      utc(2026, moment.month, day, 17 - offset))


def test_in_hours_on_a_friday_the_call_is_promised_for_monday(client: Any, runtime: Any, at: Any) -> None:
    at(local(2026, 12, 4, 16, 59))
    caller, menu, last = _walk(client, WALK_MORNING)
    assert "Wilt u een medewerker spreken? Druk dan 1." in menu and "gesloten" not in menu
    assert last == "Dank u wel. Wij bellen u maandag tussen 9 en 12 uur. Tot ziens."
    _expect(runtime, caller, "morning", (utc(2026, 12, 7, 8), utc(2026, 12, 7, 11)),
            "Bedankt voor uw verzoek. Wij bellen u terug op ma 7 dec tussen 9:00 en 12:00 uur.")


@pytest.mark.parametrize("moment, is_open", [(local(2026, 12, 4, 8, 59), False), (local(2026, 12, 4, 9, 0), True),
                                             (local(2026, 12, 4, 16, 59), True), (local(2026, 12, 4, 17, 0), False)])
def test_the_edges_of_office_hours(client: Any, at: Any, moment: datetime, is_open: bool) -> None:
    at(moment)
    menu = Caller(client).dial().text
    assert ("Druk dan 1" in menu) is is_open and ("gesloten" in menu) is not is_open


def test_early_in_the_morning_the_line_opens_today(client: Any, runtime: Any, at: Any) -> None:
    at(local(2026, 12, 2, 7, 30))  # Wednesday before opening
    caller, menu, last = _walk(client, WALK_MORNING)
    assert "De telefoonlijn is weer open vandaag om 9 uur." in menu
    assert last == "Dank u wel. Wij bellen u donderdag tussen 9 en 12 uur. Tot ziens."  # the next working day
    _expect(runtime, caller, "morning", (utc(2026, 12, 3, 8), utc(2026, 12, 3, 11)),
            "Bedankt voor uw verzoek. Wij bellen u terug op do 3 dec tussen 9:00 en 12:00 uur.")


def test_after_midnight_local_is_already_the_next_day(client: Any, runtime: Any, at: Any) -> None:
    at(utc(2026, 6, 1, 22, 30))  # Monday 22:30 UTC is Tuesday 00:30 in Amsterdam
    caller, menu, last = _walk(client, WALK_AFTERNOON)
    assert "weer open vandaag om 9 uur" in menu
    assert last == "Dank u wel. Wij bellen u woensdag tussen 12 en 17 uur. Tot ziens."
    _expect(runtime, caller, "afternoon", (utc(2026, 6, 3, 10), utc(2026, 6, 3, 15)),
            "Bedankt voor uw verzoek. Wij bellen u terug op wo 3 jun tussen 12:00 en 17:00 uur.")


def test_a_long_closure_names_the_date(client: Any, runtime: Any, at: Any) -> None:
    at(local(2026, 12, 24, 18, 0))  # Christmas, a weekend, the closure days, New Year, a weekend
    caller, menu, last = _walk(client, WALK_MORNING)
    assert "De telefoonlijn is weer open maandag 4 januari om 9 uur." in menu
    assert last == "Dank u wel. Wij bellen u maandag 4 januari tussen 9 en 12 uur. Tot ziens."
    _expect(runtime, caller, "morning", (utc(2027, 1, 4, 8), utc(2027, 1, 4, 11)),
            "Bedankt voor uw verzoek. Wij bellen u terug op ma 4 jan tussen 9:00 en 12:00 uur.")
