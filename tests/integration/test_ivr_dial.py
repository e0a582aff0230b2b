"""Option 1 during office hours: the staff on duty ring together, screened, through the real app.

The caller's answer is a `<Dial>` of every on-duty phone; each staff leg hears
"press 1" first, so only a person (never a voicemail) takes the call. Who
took it is recorded on the caller's IVR row; when the ringing is over the
caller is either done or offered a callback — whatever DialCallStatus says.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from app import create_app
from tests.integration.ivr_helpers import (BASE, Caller, StaffPhone, add_staff, at, ivr_row,  # noqa: F401
                                           ivr_state, local, requests)

SCREEN = BASE + "/telephony/voice/screen"
OFFICE_ID = "+31301234567"  # the test settings' office_phone "030 123 4567" in E.164
ANNA, BERT = "+31611110001", "+31611110002"
CONNECTING = "Een ogenblik, ik verbind u met een medewerker."
NOBODY = "Er is op dit moment helaas niemand beschikbaar. Wij bellen u graag terug."


def _staff(runtime: Any) -> dict[str, int]:
    """Two on duty; one off duty, one on duty without a phone, one inactive: only the first two ring."""
    return {"anna": add_staff(runtime, ANNA), "bert": add_staff(runtime, BERT),
            "off": add_staff(runtime, "+31611110003", on_duty=False),
            "nophone": add_staff(runtime, None), "gone": add_staff(runtime, "+31611110005", active=False)}


def _ringing(client: Any, runtime: Any) -> tuple[Caller, dict[str, int]]:
    staff = _staff(runtime)
    caller = Caller(client, "+31612345678")
    heard = caller.walk("1")
    assert heard.dial is not None
    return caller, staff


def test_key_1_rings_exactly_the_staff_on_duty_showing_the_office_number(client: Any, runtime: Any,
                                                                          at: Any) -> None:
    _staff(runtime)
    caller = Caller(client, "+31612345678")
    caller.dial()
    heard = caller.press("1")
    assert heard.text == CONNECTING and heard.verbs == ("Say", "Dial")
    dial = heard.dial
    assert dial is not None and dial.phones == [ANNA, BERT]
    row = ivr_row(runtime, caller.sid)
    assert row.step == "dialling" and row.accepted_by_id is None
    assert dial.attrs == {"timeout": "20", "callerId": OFFICE_ID, "method": "POST",
                          "action": f"{BASE}/telephony/voice/dialled/{row.turn}"}
    assert [attrs for _, attrs in dial.numbers] == [{"url": SCREEN, "method": "POST"}] * 2
    assert "612345678" not in heard.xml  # the staff phones never see (or keep) the caller's number
    assert requests(runtime) == []


def test_the_twilio_number_is_shown_when_one_is_configured(settings: Any, runtime: Any) -> None:
    add_staff(runtime, ANNA)
    app = create_app(replace(settings, twilio_phone_number="+3197010000001"))
    try:
        app.config["PENDEL_NOW"] = local(2026, 11, 30, 10, 0)
        heard = Caller(app.test_client()).walk("1")
        assert heard.dial is not None and heard.dial.attrs["callerId"] == "+3197010000001"
    finally:
        app.extensions["pendel"].db.dispose()


def test_without_an_office_number_to_show_nobody_is_rung(settings: Any, runtime: Any) -> None:
    add_staff(runtime, ANNA)  # Twilio would show the caller's own number on the staff phone
    app = create_app(replace(settings, office_phone=None, twilio_phone_number=None))
    try:
        app.config["PENDEL_NOW"] = local(2026, 11, 30, 10, 0)
        heard = Caller(app.test_client()).walk("1")
        assert heard.dial is None and heard.text.startswith(NOBODY)
    finally:
        app.extensions["pendel"].db.dispose()


def test_the_staff_phone_hears_press_1_and_silence_hangs_up(client: Any, runtime: Any, at: Any) -> None:
    caller, _ = _ringing(client, runtime)
    phone = StaffPhone(client, ANNA, parent=caller.sid)
    heard = phone.pick_up(SCREEN)
    assert heard.text == "Een beller op de lijn van het bureau. Druk 1 om het gesprek aan te nemen."
    assert heard.verbs == ("Gather", "Hangup") and heard.action == SCREEN + "/answer"
    assert heard.says[0][0] == "nl-NL"
    phone.stay_silent()
    assert ivr_row(runtime, caller.sid).accepted_by_id is None


def test_the_staff_phone_hears_that_the_caller_chose_english(client: Any, runtime: Any, at: Any) -> None:
    _staff(runtime)
    caller = Caller(client, "+31612345678")
    assert caller.walk("9", "1").dial is not None
    heard = StaffPhone(client, ANNA, parent=caller.sid).pick_up(SCREEN)
    assert heard.text == ("Een beller op de lijn van het bureau. De beller heeft voor Engels gekozen. "
                          "Druk 1 om het gesprek aan te nemen.")
    assert {language for language, _ in heard.says} == {"nl-NL"}  # the office works in Dutch


def test_any_other_key_hangs_up_that_phone_only(client: Any, runtime: Any, at: Any) -> None:
    caller, _ = _ringing(client, runtime)
    before = ivr_state(runtime, caller.sid)
    for key in ("2", "0", "*", "#", "11", ""):
        phone = StaffPhone(client, BERT, parent=caller.sid)
        phone.pick_up(SCREEN)
        heard = phone.press(key)
        assert heard.verbs == ("Hangup",) and heard.text == ""
    assert ivr_state(runtime, caller.sid) == before and ivr_row(runtime, caller.sid).accepted_by_id is None


def test_pressing_1_takes_the_call_and_the_caller_is_then_done(client: Any, runtime: Any, at: Any) -> None:
    caller, staff = _ringing(client, runtime)
    anna, bert = StaffPhone(client, ANNA, parent=caller.sid), StaffPhone(client, BERT, parent=caller.sid)
    anna.pick_up(SCREEN)
    heard = anna.press("1")
    assert heard.verbs == ("Say",) and heard.text == "U wordt nu verbonden."  # Twilio bridges the legs now
    bert.pick_up(SCREEN)
    bert.press("1")  # a second press a moment later: Twilio bridges only the first; the record stays
    assert ivr_row(runtime, caller.sid).accepted_by_id == staff["anna"]
    heard = caller.dial_over("completed", child=anna.sid)
    assert heard.verbs == ("Hangup",) and heard.text == ""
    row = ivr_row(runtime, caller.sid)
    assert (row.step, row.accepted_by_id, row.callback_id) == ("ended", staff["anna"], None)
    assert requests(runtime) == []


def test_a_replayed_dial_action_changes_nothing(client: Any, runtime: Any, at: Any) -> None:
    caller, staff = _ringing(client, runtime)
    dialled = caller.last
    anna = StaffPhone(client, ANNA, parent=caller.sid)
    anna.pick_up(SCREEN)
    anna.press("1")
    first = caller.dial_over("completed", child=anna.sid)
    before = ivr_state(runtime, caller.sid)
    again = caller.dial_over("completed", child=anna.sid, action=dialled.dial.attrs["action"])
    assert again.xml == first.xml and ivr_state(runtime, caller.sid) == before
    assert caller.dial().xml == first.xml  # even the incoming-call webhook, replayed
    assert requests(runtime) == []


def test_nobody_pressing_1_offers_the_callback_and_the_walk_takes_it(client: Any, runtime: Any, at: Any) -> None:
    caller, _ = _ringing(client, runtime)
    dialled = caller.last
    anna, bert = StaffPhone(client, ANNA, parent=caller.sid), StaffPhone(client, BERT, parent=caller.sid)
    anna.pick_up(SCREEN)
    anna.stay_silent()
    bert.pick_up(SCREEN)
    bert.press("2")
    heard = caller.dial_over("no-answer")
    assert heard.text.startswith(NOBODY) and "eindigt op 5 6 7 8" in heard.text and not heard.hung_up
    state = ivr_state(runtime, caller.sid)
    replay = caller.dial_over("no-answer", action=dialled.dial.attrs["action"])
    assert ivr_state(runtime, caller.sid) == state and replay.action == heard.action
    assert "'s Ochtends, druk 1" in caller.press("1", action=heard.action).text
    caller.press("2")
    caller.press("1")
    heard = caller.press("1")
    assert heard.hung_up and heard.text == "Dank u wel. Wij bellen u dinsdag tussen 12 en 17 uur. Tot ziens."
    [request] = requests(runtime)
    assert (request.number, request.number_typed_in, request.moment, request.may_identify,
            request.wants_confirmation, request.status, request.call_sid) == (
        "+31612345678", False, "afternoon", True, True, "open", caller.sid)
    row = ivr_row(runtime, caller.sid)
    assert (row.step, row.accepted_by_id, row.callback_id) == ("done", None, request.id)


def test_a_voicemail_picking_up_counts_as_nobody(client: Any, runtime: Any, at: Any) -> None:
    caller, _ = _ringing(client, runtime)
    voicemail = StaffPhone(client, ANNA, parent=caller.sid)
    voicemail.pick_up(SCREEN)
    voicemail.stay_silent()
    # Twilio may well report the Dial "completed" (a leg did answer): only a pressed 1 counts.
    heard = caller.dial_over("completed", child=voicemail.sid)
    assert heard.text.startswith(NOBODY) and ivr_row(runtime, caller.sid).step == "confirm_number"


def test_an_english_caller_hears_english_and_the_staff_hear_dutch(client: Any, runtime: Any, at: Any) -> None:
    _staff(runtime)
    caller = Caller(client, "+31612345678")
    heard = caller.walk("9", "1")
    assert heard.dial is not None
    assert heard.says == [("en-GB", "One moment, I am connecting you with a member of staff.")]
    staff = StaffPhone(client, ANNA, parent=caller.sid)
    assert staff.pick_up(SCREEN).says[0][0] == "nl-NL"
    heard = caller.dial_over("no-answer")
    assert {language for language, _ in heard.says} == {"en-GB"} and "ending in 5 6 7 8" in heard.text
    assert heard.text.startswith("Unfortunately nobody is available right now. We will gladly call you back.")


def test_at_most_ten_phones_ring(client: Any, runtime: Any, at: Any) -> None:
    phones = [f"+316222200{n:02d}" for n in range(12)]
    for phone in phones:
        add_staff(runtime, phone)
    heard = Caller(client).walk("1")
    assert heard.dial is not None and heard.dial.phones == phones[:10]


def test_outside_office_hours_key_1_rings_nobody(client: Any, runtime: Any, at: Any) -> None:
    _staff(runtime)
    at(local(2026, 11, 27, 19, 0))  # a Friday evening
    heard = Caller(client).walk("1")
    assert heard.dial is None and "eindigt op" in heard.text and CONNECTING not in heard.text
    assert NOBODY not in heard.text  # closed is not "nobody available"


def test_a_screen_answer_for_an_unknown_call_or_phone_records_nothing(client: Any, runtime: Any,
                                                                      at: Any) -> None:
    caller, _ = _ringing(client, runtime)
    stranger = StaffPhone(client, "+31699999999", parent=caller.sid)  # no account has this phone
    stranger.pick_up(SCREEN)
    assert stranger.press("1").verbs == ("Say",)
    orphan = StaffPhone(client, ANNA, parent="CA" + "f" * 32)  # the caller's state is gone
    orphan.pick_up(SCREEN)
    assert orphan.press("1").verbs == ("Say",)
    assert ivr_row(runtime, caller.sid).accepted_by_id is None
    response = StaffPhone(client, ANNA).post(SCREEN + "/answer", {"Digits": "1"})  # no ParentCallSid
    assert response.status_code == 400
