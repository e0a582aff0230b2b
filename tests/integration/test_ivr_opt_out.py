"""A number that texted STOP is not offered a confirmation text: the line never promises one the outbox skips.

The opt-outs are notifications' (keyed hashes, honoured under earlier
SECRET_KEYs too); the phone line asks through the check the app hands it.
Such a caller hears that texts are off for the number instead of the text
question, and the request is taken without a text; after START they are
offered one again.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select

from notifications.models import OutboxMessage
from tests.conftest import both_databases
from tests.integration.ivr_helpers import Caller, at, local, record_events, requests  # noqa: F401
from tests.integration.sms_helpers import text_in

OWN = "+31612345678"
TEXTS_OFF = ("Dit nummer is bij ons afgemeld voor sms, dus u krijgt geen sms ter bevestiging. "
             "Dank u wel. Wij bellen u dinsdag tussen 9 en 12 uur. Tot ziens.")


def confirmations(runtime: Any) -> list[str]:
    with runtime.db.session() as s:
        return list(s.scalars(select(OutboxMessage.to_address).where(OutboxMessage.kind == "callback_confirmation")))


@both_databases
def test_a_number_that_texted_stop_is_told_texts_are_off_and_promised_none(client: Any, runtime: Any,
                                                                         at: Any) -> None:
    events = record_events(runtime)
    text_in(client, OWN, "STOPPEN")
    heard = Caller(client, OWN).walk("2", "1", "1", "1")  # callback, own number, morning, may say who we are
    assert heard.hung_up and heard.text == TEXTS_OFF
    assert "sms ter bevestiging op het nummer" not in heard.text  # the question was never asked
    [row] = requests(runtime)
    assert (row.wants_confirmation, row.defaulted) == (False, None)  # not asked, so nothing defaulted
    assert [e.wants_confirmation for e in events] == [False] and confirmations(runtime) == []


def test_in_english_too(client: Any, runtime: Any, at: Any) -> None:
    text_in(client, OWN, "STOP")
    heard = Caller(client, OWN).walk("9", "2", "1", "2", "2")
    assert heard.hung_up and heard.text == (
        "This number has opted out of our text messages, so you will not get a text to confirm. "
        "Thank you. We will call you Tuesday between 12 and 5 pm. Goodbye.")
    assert confirmations(runtime) == []


def test_after_start_the_text_is_offered_again(client: Any, runtime: Any, at: Any) -> None:
    text_in(client, OWN, "STOPPEN")
    text_in(client, OWN, "START")
    caller = Caller(client, OWN)
    assert caller.walk("2", "1", "1", "1").text.startswith("Wilt u een sms ter bevestiging")
    assert caller.press("1").hung_up
    assert confirmations(runtime) == [OWN]


def test_another_numbers_stop_changes_nothing_for_this_caller(client: Any, runtime: Any, at: Any) -> None:
    text_in(client, "+31687654321", "STOPPEN")
    assert Caller(client, OWN).walk("2", "1", "1", "1").text.startswith("Wilt u een sms ter bevestiging")


def test_a_stop_recorded_under_the_previous_secret_key_still_holds(client: Any, runtime: Any) -> None:
    from app import create_app

    text_in(client, OWN, "STOPPEN")
    settings = runtime.settings
    app = create_app(replace(settings, secret_key="a-new-secret", previous_secret_keys=(settings.secret_key,)))
    try:
        app.config["PENDEL_NOW"] = local(2026, 11, 30, 10, 0)
        heard = Caller(app.test_client(), OWN).walk("2", "1", "1", "1")
        assert heard.hung_up and heard.text == TEXTS_OFF
    finally:
        app.extensions["pendel"].db.dispose()
