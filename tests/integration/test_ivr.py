"""The phone line through the real app: a caller walks the menu with signed requests.

In and out of office hours, Dutch and English, own number and a keyed-in
one, withheld numbers, wrong keys and silence, replays, a second call from
the same number, a participant calling: the TwiML must always be valid, say
the right thing, and the database must hold exactly one request per number.
"""
from __future__ import annotations

from typing import Any

import pytest

from telephony import twiml_http
from tests import factories
from tests.conftest import both_databases
from tests.integration.ivr_helpers import Caller, counts, ivr_state, local, record_events, request_rows, requests

MONDAY_10 = local(2026, 11, 30, 10, 0)
FRIDAY_EVENING = local(2026, 11, 27, 19, 0)
WITHHELD = ["", "anonymous", "Restricted", "unavailable", "unknown", "private", "+266696687", "+7378742833",
            "+86282452253"]


@pytest.fixture
def at(app: Any):  # type: ignore[no-untyped-def]
    def set_now(moment: Any) -> None:
        app.config["PENDEL_NOW"] = moment
    set_now(MONDAY_10)
    return set_now


@both_databases
def test_in_office_hours_a_caller_asks_for_a_callback_on_their_own_number(client: Any, runtime: Any,
                                                                          at: Any) -> None:
    events = record_events(runtime)
    caller = Caller(client, "+31612345678")
    heard = caller.dial()
    assert heard.says[0] == ("nl-NL", "Bent u in acuut gevaar? Bel dan 112.")
    assert ("en-GB", "For English, press 9.") in heard.says
    assert "medewerker spreken? Druk dan 1" in heard.text and "terugbellen? Druk dan 2" in heard.text
    heard = caller.press("2")
    assert "eindigt op 5 6 7 8" in heard.text and "+31" not in heard.xml and "612345678" not in heard.xml
    assert "'s Ochtends, druk 1" in caller.press("1").text
    assert "zeggen wie wij zijn" in caller.press("1").text
    assert "sms ter bevestiging" in caller.press("2").text
    heard = caller.press("1")
    assert heard.hung_up and heard.text == "Dank u wel. Wij bellen u dinsdag tussen 9 en 12 uur. Tot ziens."
    [row] = requests(runtime)
    assert (row.number, row.number_typed_in, row.caller_number, row.language, row.moment) == (
        "+31612345678", False, "+31612345678", "nl", "morning")
    assert (row.may_identify, row.wants_confirmation, row.status, row.case_id, row.assignee_id) == (
        False, True, "open", None, None)
    assert row.call_sid == caller.sid
    assert (row.window_start, row.due_at) == (local(2026, 12, 1, 9, 0), local(2026, 12, 1, 12, 0))
    assert [(e.callback_id, e.caller_number, e.language, e.wants_confirmation, e.window_start, e.window_end)
            for e in events] == [(row.id, "+31612345678", "nl", True, row.window_start, row.due_at)]


def test_option_1_with_nobody_on_duty_offers_the_callback_at_once(client: Any, at: Any) -> None:
    heard = Caller(client).walk("1")
    assert heard.text.startswith("Er is op dit moment helaas niemand beschikbaar. Wij bellen u graag terug.")
    assert "eindigt op 5 6 7 8" in heard.text and "<Dial" not in heard.xml


def test_outside_hours_in_english_with_a_keyed_in_number(client: Any, runtime: Any, at: Any) -> None:
    at(FRIDAY_EVENING)
    events = record_events(runtime)
    caller = Caller(client, "+31687654321")
    heard = caller.dial()
    assert "weer open maandag om 9 uur" in heard.text and "Druk dan 1" not in heard.text
    heard = caller.press("9")
    assert heard.says[0] == ("en-GB", "Are you in acute danger? Then call 112.")
    assert heard.verbs[0] == "Say"  # the safety line, like the Dutch one, cannot be cut short by a key
    assert heard.says[1] == ("en-GB", "Welcome to Perspectief Herstelbemiddeling.")
    assert "opens again Monday at 9" in heard.text
    assert "ending in 4 3 2 1" in caller.press("2").text
    assert "key in the phone number" in caller.press("2").text
    heard = caller.press("0201234567")
    assert heard.text == ("You keyed in: 0 2 0, 1 2 3, 4 5, 6 7. If that is right, press 1. "
                          "To key in the number again, press 2.")
    assert heard.action and "step=read_back" in heard.action
    assert "For the morning, press 1" in caller.press("1").text
    caller.press("3")
    heard = caller.press("1")
    assert "text message" in heard.text
    heard = caller.press("2")
    assert heard.hung_up and heard.text == "Thank you. We will call you Monday between 9 and 5 pm. Goodbye."
    [row] = requests(runtime)
    assert (row.number, row.number_typed_in, row.caller_number, row.language, row.moment, row.may_identify,
            row.wants_confirmation, row.defaulted) == (
        "+31201234567", True, "+31687654321", "en", "no_preference", True, False, None)
    assert events[0].caller_number == "+31687654321" and events[0].wants_confirmation is False


def test_option_1_outside_hours_is_taken_as_a_callback_without_the_transfer_line(client: Any, at: Any) -> None:
    at(FRIDAY_EVENING)
    heard = Caller(client).walk("1")
    assert "Doorverbinden" not in heard.text and "eindigt op" in heard.text


@pytest.mark.parametrize("withheld", WITHHELD)
def test_a_withheld_number_goes_straight_to_keying_in_and_gets_no_text(client: Any, runtime: Any, at: Any,
                                                                       withheld: str) -> None:
    events = record_events(runtime)
    caller = Caller(client, withheld)
    assert "Toets het telefoonnummer" in caller.walk("2").text
    assert caller.press("0612345678").text.startswith("U heeft ingetoetst: 0 6, 1 2, 3 4, 5 6, 7 8. Klopt dat?")
    caller.press("1")
    caller.press("2")
    heard = caller.press("1")  # may say who we are; no confirmation question follows
    assert heard.hung_up and "dinsdag tussen 12 en 17 uur" in heard.text
    [row] = requests(runtime)
    assert (row.number, row.number_typed_in, row.caller_number, row.wants_confirmation) == (
        "+31612345678", True, None, False)
    assert events[0].caller_number is None and events[0].wants_confirmation is False


def test_keying_in_ones_own_number_is_not_a_typed_in_number(client: Any, runtime: Any, at: Any) -> None:
    caller = Caller(client, "+31612345678")
    caller.walk("2", "2", "0612345678", "1", "1", "1", "1")
    [row] = requests(runtime)
    assert row.number_typed_in is False and row.wants_confirmation is True


@pytest.mark.parametrize("bad", ["", "12", "0900123456", "112", "99999999999999999999999", "*31#"])
def test_an_invalid_number_three_times_ends_the_call_politely(client: Any, runtime: Any, at: Any,
                                                              bad: str) -> None:
    caller = Caller(client, "anonymous")
    caller.walk("2")
    for _ in range(2):
        heard = caller.press(bad)
        assert not heard.hung_up and heard.text.startswith("Dat nummer herkennen wij niet.")
        assert "Toets het telefoonnummer" in heard.text
    heard = caller.press(bad)
    assert heard.hung_up and "U kunt ons altijd opnieuw bellen" in heard.text
    assert counts(runtime) == (0, 1)


@pytest.mark.parametrize("number, step_keys", [("+31612345678", ()), ("+31612345678", ("2",)),
                                               ("anonymous", ("2", "0612345678"))])
def test_before_the_number_is_confirmed_wrong_keys_and_silence_are_asked_again_then_goodbye(
        client: Any, runtime: Any, at: Any, number: str, step_keys: tuple[str, ...]) -> None:
    caller = Caller(client, number)
    question = caller.walk(*step_keys)
    for wrong in ("7", ""):
        heard = caller.press(wrong)
        assert heard.text.startswith("Dat hebben wij niet goed ontvangen.") and not heard.hung_up
        assert question.says[-1] == heard.says[-1]  # the same question again
    heard = caller.press("#")
    assert heard.hung_up and heard.text.endswith("Tot ziens.")
    assert counts(runtime) == (0, 1)


@pytest.mark.parametrize("step_keys, kept, defaulted", [
    (("2", "1"), ("no_preference", False, False), "moment,may_identify,wants_confirmation"),
    (("2", "1", "1"), ("morning", False, False), "may_identify,wants_confirmation"),
    (("2", "1", "1", "1"), ("morning", True, False), "wants_confirmation"),
])
def test_after_the_number_is_confirmed_silence_keeps_the_request_with_the_safe_defaults(
        client: Any, runtime: Any, at: Any, step_keys: tuple[str, ...], kept: tuple[Any, ...],
        defaulted: str) -> None:
    events = record_events(runtime)
    caller = Caller(client)
    question = caller.walk(*step_keys)
    for wrong in ("7", ""):
        heard = caller.press(wrong)
        assert heard.text.startswith("Dat hebben wij niet goed ontvangen.") and question.says[-1] == heard.says[-1]
    last_try = caller.last
    heard = caller.press("")
    window = "tussen 9 en 17 uur" if kept[0] == "no_preference" else "tussen 9 en 12 uur"
    assert heard.hung_up and heard.text == ("Dat hebben wij niet goed ontvangen. Uw terugbelverzoek is toch genoteerd. "
                                            f"Dank u wel. Wij bellen u dinsdag {window}. Tot ziens.")
    [row] = requests(runtime)
    assert (row.number, row.number_typed_in, row.status) == ("+31612345678", False, "open")
    assert (row.moment, row.may_identify, row.wants_confirmation) == kept
    assert row.defaulted == defaulted and row.defaulted_answers == defaulted.split(",")
    assert [(e.callback_id, e.wants_confirmation) for e in events] == [(row.id, False)]
    before = request_rows(runtime)
    again = caller.press("", action=last_try.action)  # Twilio retries the last webhook: the closing, nothing new
    assert again.hung_up and again.text == f"Dank u wel. Wij bellen u dinsdag {window}. Tot ziens."
    assert request_rows(runtime) == before and len(events) == 1


def test_a_keyed_in_number_is_read_back_and_can_be_keyed_in_again(client: Any, runtime: Any, at: Any) -> None:
    caller = Caller(client, "anonymous")
    caller.walk("2")
    heard = caller.press("0612345679")
    assert heard.text == ("U heeft ingetoetst: 0 6, 1 2, 3 4, 5 6, 7 9. Klopt dat? Druk dan 1. "
                          "Wilt u het nummer opnieuw intoetsen? Druk dan 2.")
    assert requests(runtime) == []  # not confirmed yet: nothing taken
    assert caller.press("2").text.startswith("Toets het telefoonnummer")
    assert caller.press("0201234567").text.startswith("U heeft ingetoetst: 0 2 0, 1 2 3, 4 5, 6 7.")
    for wrong in ("7", ""):
        assert caller.press(wrong).text.startswith("Dat hebben wij niet goed ontvangen. U heeft ingetoetst: 0 2 0")
    assert caller.press("1").text.startswith("Wanneer komt het u het best uit?")
    # A whole number said aloud is never kept among the remembered TwiML answers (telephony.twiml_http).
    assert not any("5 6, 7 9" in xml or "4 5, 6 7" in xml for xml in twiml_http._XML.values())
    [row] = requests(runtime)  # confirmed: the request stands from here on, with the defaults so far
    assert (row.number, row.number_typed_in, row.caller_number, row.moment, row.may_identify,
            row.wants_confirmation, row.defaulted) == ("+31201234567", True, None, "no_preference", False, False,
                                                       "moment,may_identify")


def test_a_keyed_in_number_never_confirmed_is_never_taken(client: Any, runtime: Any, at: Any) -> None:
    caller = Caller(client, "anonymous")
    caller.walk("2", "0612345678")
    for _ in range(3):
        heard = caller.press("9")
    assert heard.hung_up and "U kunt ons altijd opnieuw bellen" in heard.text
    assert counts(runtime) == (0, 1)


@pytest.mark.parametrize("junk", ["*", "#", "0", "99", "abc", "<x>&'\"", "1" * 60, "é"])
def test_nothing_the_caller_presses_breaks_the_line(client: Any, at: Any, junk: str) -> None:
    for keys in ((), ("2",), ("2", "2"), ("2", "2", "0612345678"), ("2", "1"), ("2", "1", "1"), ("2", "1", "1", "1")):
        caller = Caller(client)
        caller.walk(*keys)
        caller.press(junk)  # parse() asserts 200, text/xml, a <Response> root


def test_unsigned_or_wrongly_signed_requests_are_refused_and_change_nothing(client: Any, runtime: Any,
                                                                            at: Any) -> None:
    caller = Caller(client)
    for kw in ({"signed": False}, {"token": "not-the-token"}):
        response = caller.post("https://pendel.test/telephony/voice", **kw)
        assert response.status_code == 403 and response.get_data(as_text=True) == "Forbidden"
    assert counts(runtime) == (0, 0)
    caller.walk("2", "1", "1", "1")
    before = ivr_state(runtime, caller.sid), request_rows(runtime)
    response = caller.post(caller.last.action or "", {"Digits": "1"}, signed=False)
    assert response.status_code == 403
    assert (ivr_state(runtime, caller.sid), request_rows(runtime)) == before


def test_a_replayed_answer_creates_no_second_request(client: Any, runtime: Any, at: Any) -> None:
    events = record_events(runtime)
    caller = Caller(client)
    caller.walk("2", "1", "1", "1")
    last_question = caller.last
    first = caller.press("1")
    again = caller.press("1", action=last_question.action)  # Twilio retries the same webhook
    assert again.text == first.text and again.hung_up
    assert caller.dial().text == first.text  # even the first webhook, replayed
    assert len(requests(runtime)) == 1 and len(events) == 1


def test_a_replayed_wrong_key_is_not_counted_twice(client: Any, runtime: Any, at: Any) -> None:
    caller = Caller(client)
    menu = caller.dial()
    caller.press("7")
    caller.press("7", action=menu.action)  # retry of the same webhook: asks again, no second strike
    caller.press("7")
    assert not caller.last.hung_up  # two strikes so far
    assert caller.press("2").text.startswith("Wij kunnen u terugbellen")


def test_a_second_call_from_the_same_number_updates_the_open_request(client: Any, runtime: Any, at: Any) -> None:
    events = record_events(runtime)
    Caller(client, "+31612345678").walk("2", "1", "1", "1", "1")
    at(local(2026, 11, 30, 14, 0))
    Caller(client, "+31612345678").walk("9", "2", "1", "2", "2", "2")
    [row] = requests(runtime)
    assert (row.language, row.moment, row.may_identify, row.wants_confirmation) == ("en", "afternoon", False, False)
    assert [e.callback_id for e in events] == [row.id, row.id]
    with runtime.db.write_session() as s:
        s.get(type(row), row.id).status = "done"
    Caller(client, "+31612345678").walk("2", "1", "1", "1", "1")
    assert len(requests(runtime)) == 2  # a closed request is history; the new call opens a new one


def test_a_participant_calling_is_linked_to_their_open_case_and_hears_nothing_of_it(client: Any, runtime: Any,
                                                                                   at: Any) -> None:
    with runtime.db.write_session() as s:
        mediator = factories.mediator(s)
        closed = factories.case(s, [mediator], roles=("victim",), status="closed")
        case = factories.case(s, [mediator])
        closed.participants[0].phone = case.participants[0].phone
        phone, reference, name = case.participants[0].phone, case.reference, case.participants[0].name
        case_id = case.id
    participant, stranger = Caller(client, phone), Caller(client, "+31687650000")
    heard_p = [participant.dial()] + [participant.press(k) for k in ("2", "1", "2", "1", "1")]
    heard_s = [stranger.dial()] + [stranger.press(k) for k in ("2", "1", "2", "1", "1")]
    for p, s in zip(heard_p, heard_s):
        assert p.text.replace(" ".join(phone[-4:]), "") == s.text.replace(" ".join("0000"), "")
        assert reference not in p.xml and name not in p.xml
    linked = {r.number: r.case_id for r in requests(runtime)}
    assert linked == {phone: case_id, "+31687650000": None}


def test_the_case_link_of_an_open_request_is_added_by_the_participants_call_and_never_dropped(
        client: Any, runtime: Any, at: Any) -> None:
    with runtime.db.write_session() as s:
        case = factories.case(s, [factories.mediator(s)])
        phone, case_id = case.participants[0].phone, case.id
    national = "0" + phone[3:]
    # A withheld number keying in the participant's number: nothing says it is them, so no link yet.
    Caller(client, "anonymous").walk("2", national, "1", "1", "1")
    assert [(r.number, r.case_id) for r in requests(runtime)] == [(phone, None)]
    # The participant calls from that number: the open request is theirs, and now linked.
    Caller(client, phone).walk("2", "1", "2", "1", "2")
    assert [(r.number, r.case_id, r.moment) for r in requests(runtime)] == [(phone, case_id, "afternoon")]
    # Another withheld call for the same number updates the request but keeps the link.
    Caller(client, "anonymous").walk("2", national, "1", "3", "2")
    assert [(r.number, r.case_id, r.moment) for r in requests(runtime)] == [(phone, case_id, "no_preference")]
