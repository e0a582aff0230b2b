"""Web callback requests (/bel-mij-terug and telephony.web_callbacks) through the Flask test client.

A request from the page joins the phone line's queue the phone line's way: the promised window of the
next working day, one open request per number (a repeat updates it, also one made by phone), visible to
a coordinator at /callbacks. Bad input is refused per field with nothing stored; a bot (honeypot) is
thanked and forgotten; a post too quick is asked again; the limits per address and per number answer
429 in a loop of posts. A confirmation text goes only to a Dutch mobile number, within its limits; every
refusal is logged without the number. The clock is the phone line's (PENDEL_NOW): Monday 30 November 2026.
"""
from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from app import create_app
from core.public_limits import public_limits
from notifications.models import OutboxMessage
from telephony.web_callbacks import request_callback
from tests import factories as f
from tests.conftest import REDIS_TEST_URL, both_databases, with_settings
from tests.integration.ivr_helpers import Caller, at, local, request_rows, requests  # noqa: F401
from tests.integration.sms_helpers import text_in
from tests.support.public_forms import started_stamp

MOBILE = "+31612345678"
PASSWORD = "correct horse battery"
PAGE = "/bel-mij-terug"


def _post(client: Any, app: Any, addr: str = "192.0.2.10", **fields: str) -> Any:
    data = {"number": "06 12 34 56 78", "moment": "morning", "may_identify": "no",
            "started": started_stamp(app), **fields}
    return client.post(PAGE, data=data, environ_base={"REMOTE_ADDR": addr})


def _texts(runtime: Any) -> list[str]:
    with runtime.db.session() as s:
        return list(s.scalars(select(OutboxMessage.to_address).where(OutboxMessage.kind == "callback_confirmation")
                              .order_by(OutboxMessage.id)))


@both_databases
def test_a_web_request_joins_the_phone_queue_and_a_coordinator_sees_it(client: Any, app: Any, runtime: Any,
                                                                      at: Any) -> None:
    response = _post(client, app, moment="afternoon", may_identify="yes")
    assert response.status_code == 303 and "/bel-mij-terug/verstuurd?r=" in response.headers["Location"]
    [row] = request_rows(runtime)
    assert {k: row[k] for k in ("number", "number_typed_in", "caller_number", "call_sid", "language", "moment",
                                "may_identify", "wants_confirmation", "status", "case_id")} == {
        "number": MOBILE, "number_typed_in": True, "caller_number": None, "call_sid": None, "language": "nl",
        "moment": "afternoon", "may_identify": True, "wants_confirmation": False, "status": "open", "case_id": None}
    # Monday 10:00 asks: Tuesday afternoon, 12:00-17:00 (the working-day promise of the phone line).
    assert (row["window_start"], row["due_at"]) == (local(2026, 12, 1, 12, 0), local(2026, 12, 1, 17, 0))
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "dinsdag 1 december tussen 12:00 en 17:00" in done and "030 123 4567" in done
    assert "612345678" not in done.replace(" ", "")  # the page names no number of theirs
    with runtime.db.write_session() as s:
        coordinator, _ = f.staff(s, "coordinator")
    staff = app.test_client()
    assert staff.post("/login", data={"email": coordinator.email, "password": PASSWORD}).status_code == 302
    queue = staff.get("/callbacks").get_data(as_text=True)
    assert f'href="/callbacks/{row["id"]}"' in queue and "06 12345678" in queue
    detail = staff.get(f"/callbacks/{row['id']}").get_data(as_text=True)
    assert "niet telefonisch: gevraagd op een webpagina" in detail and "identiteit" in detail


def test_a_friday_evening_request_is_promised_monday_and_easter_is_skipped(client: Any, app: Any, runtime: Any,
                                                                          at: Any) -> None:
    at(local(2026, 12, 4, 19, 30))  # Friday evening
    _post(client, app, moment="no_preference")
    at(local(2027, 3, 26, 16, 0))  # Good Friday: Easter Monday 29 March is a day off, so Tuesday 30 March
    _post(client, app, number="020 123 4567", moment="morning", addr="192.0.2.11")
    rows = request_rows(runtime)
    assert [(r["window_start"], r["due_at"]) for r in rows] == [
        (local(2026, 12, 7, 9, 0), local(2026, 12, 7, 17, 0)), (local(2027, 3, 30, 9, 0), local(2027, 3, 30, 12, 0))]


@both_databases
def test_a_repeat_from_the_same_number_updates_the_open_request_also_one_made_by_phone(
        client: Any, app: Any, runtime: Any, at: Any) -> None:
    assert Caller(client, MOBILE).walk("2", "1", "1", "1", "2").hung_up  # by phone: morning, may say who we are
    [by_phone] = request_rows(runtime)
    _post(client, app, number="+31 6 1234 5678", moment="afternoon", may_identify="no")
    _post(client, app, number="0031612345678", moment="no_preference", may_identify="no")
    [row] = request_rows(runtime)
    assert row["id"] == by_phone["id"] and (row["moment"], row["may_identify"], row["number_typed_in"]) == (
        "no_preference", False, True)
    assert row["caller_number"] is None and row["call_sid"] is None  # the latest request's: from the web


@pytest.mark.parametrize(("fields", "named"), [
    ({"number": ""}, "number"), ({"number": "call me"}, "number"), ({"number": "06 1234"}, "number"),
    ({"number": "0900 1234567"}, "number"), ({"number": "0" * 40}, "number"),
    ({"moment": "midnight"}, "moment"), ({"may_identify": "maybe"}, "may_identify"),
])
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_stored(client: Any, app: Any, runtime: Any,
                                                                      fields: dict[str, str], named: str) -> None:
    response = _post(client, app, **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{named}-error"' in page and f'href="#{named}"' in page
    assert requests(runtime) == [] and _texts(runtime) == []


def test_a_filled_honeypot_is_thanked_and_forgotten(client: Any, app: Any, runtime: Any, at: Any,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    response = _post(client, app, website="http://spam.example", wants_confirmation="y")
    assert response.status_code == 303 and "/bel-mij-terug/verstuurd" in response.headers["Location"]
    assert "dinsdag 1 december" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert requests(runtime) == [] and _texts(runtime) == []
    assert "612345678" not in caplog.text


@pytest.mark.parametrize("started", ["quick", "forged", "missing"])
def test_too_quick_or_forged_is_asked_again_kindly(client: Any, app: Any, runtime: Any, started: str) -> None:
    stamp = {"quick": started_stamp(app, seconds_ago=0), "forged": "abc.def", "missing": ""}[started]
    response = _post(client, app, started=stamp)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "opnieuw op" in page and 'role="alert"' in page
    assert requests(runtime) == []


def test_a_get_changes_nothing(client: Any, app: Any, runtime: Any) -> None:
    for path in (PAGE, PAGE + "?number=0612345678&moment=morning&started=x", "/bel-mij-terug/verstuurd",
                 "/bel-mij-terug/verstuurd?r=forged"):
        assert client.get(path, environ_base={"REMOTE_ADDR": "192.0.2.20"}).status_code == 200
    assert requests(runtime) == [] and _texts(runtime) == []
    with app.app_context():
        assert public_limits().wait_seconds("form_address", "192.0.2.20") == 0


def test_the_page_is_in_english_after_the_language_switch(client: Any, app: Any, runtime: Any, at: Any) -> None:
    client.post("/language", data={"language": "en", "next": PAGE})
    page = client.get(PAGE).get_data(as_text=True)
    assert "Call me back" in page and "Dutch mobile number" in page
    response = _post(client, app, wants_confirmation="y")
    [row] = requests(runtime)
    assert row.language == "en"
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tuesday 1 December between 09:00 and 12:00" in done and "You will receive a text message" in done


def test_a_dutch_mobile_gets_one_confirmation_text(client: Any, app: Any, runtime: Any, at: Any) -> None:
    response = _post(client, app, wants_confirmation="y")
    [row] = requests(runtime)
    assert row.wants_confirmation and row.caller_number is None
    assert _texts(runtime) == [MOBILE]
    assert "U krijgt een sms" in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("number", ["020 123 4567", "+32 470 12 34 56", "+49 151 12345678", "0970 12345678"])
def test_no_text_to_a_landline_foreign_or_machine_number_and_the_log_names_none(
        client: Any, app: Any, runtime: Any, at: Any, number: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    response = _post(client, app, number=number, wants_confirmation="y")
    [row] = requests(runtime)
    assert not row.wants_confirmation and _texts(runtime) == []
    assert "not_dutch_mobile" in caplog.text
    digits = row.number.lstrip("+")
    assert digits[-7:] not in caplog.text and digits not in caplog.text
    assert "Nederlands mobiel nummer" in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("number", ["+319001234567", "+319091234567", "+31842123456", "+31881234567"])
def test_the_guard_refuses_premium_and_shared_cost_numbers_even_when_called_directly(
        app: Any, runtime: Any, number: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with app.app_context(), runtime.db.write_session() as s:
        request_callback(s, runtime.settings, number=number, language="nl", moment="morning", may_identify=False,
                         wants_confirmation=True, now=local(2026, 11, 30, 10, 0), address="192.0.2.30")
    assert _texts(runtime) == [] and number[3:] not in caplog.text and "not_dutch_mobile" in caplog.text


def test_no_text_to_a_number_that_texted_stop(client: Any, app: Any, runtime: Any, at: Any,
                                              caplog: pytest.LogCaptureFixture) -> None:
    text_in(client, MOBILE, "STOP")
    caplog.set_level(logging.INFO)
    _post(client, app, wants_confirmation="y")
    assert _texts(runtime) == [] and "opted_out" in caplog.text and "612345678" not in caplog.text


def test_request_callback_links_a_known_case_and_returns_the_request(app: Any, runtime: Any) -> None:
    with runtime.db.write_session() as s:
        mediator = f.mediator(s)
        case_id = f.case(s, [mediator]).id
    with app.app_context(), runtime.db.write_session() as s:
        first = request_callback(s, runtime.settings, number=MOBILE, language="en", moment="no_preference",
                                 may_identify=True, wants_confirmation=False, now=local(2026, 11, 30, 10, 0),
                                 case_id=case_id)
    with app.app_context(), runtime.db.write_session() as s:
        again = request_callback(s, runtime.settings, number=MOBILE, language="en", moment="morning",
                                 may_identify=True, wants_confirmation=False, now=local(2026, 11, 30, 11, 0))
    [row] = requests(runtime)
    assert first == again == row.id and row.case_id == case_id and row.moment == "morning"


def _limited_app(settings: Any, **limits: str) -> Any:
    return create_app(with_settings(settings, **limits))


@pytest.mark.parametrize("redis_url", [None, REDIS_TEST_URL], ids=["memory", "redis"])
def test_the_address_limit_holds_under_a_loop_of_posts(settings: Any, redis_url: str | None) -> None:
    import secrets
    app = _limited_app(settings, redis_url=redis_url, public_form_limit_address="5 per hour",
                       secret_key=secrets.token_hex(8))
    # Addresses of this run only: in Redis the windows of earlier runs may still be open.
    x, y = secrets.randbelow(65536), secrets.randbelow(65535)
    client, addr = app.test_client(), f"2001:db8:{x:x}:{y:x}::1"
    codes = [_post(client, app, addr=addr, number=f"06 1234 56{i:02d}").status_code for i in range(12)]
    assert codes == [303] * 5 + [429] * 7
    with app.extensions["pendel"].db.session() as s:
        assert len(list(s.scalars(select(OutboxMessage.id)))) == 0
    page = _post(client, app, addr=addr)
    assert "Probeer het later nog eens" in page.get_data(as_text=True) and int(page.headers["Retry-After"]) > 0
    assert _post(client, app, addr=f"2001:db8:{x:x}:{y + 1:x}::1").status_code == 303  # another /64 is not held up
    assert _post(client, app, addr=f"2001:db8:{x:x}:{y:x}::7").status_code == 429  # the same /64 is
    app.extensions["pendel"].db.dispose()


def test_the_number_and_text_limits_hold_under_a_loop_of_posts(client: Any, app: Any, runtime: Any,
                                                               at: Any) -> None:
    # Defaults: 3 requests per number a day; 2 texts per number and 5 per address a day. Each request asks
    # another window, so each would be a new text (the same window again is the same text: no second one).
    moments = ["morning", "afternoon", "no_preference"] * 2
    codes = [_post(client, app, addr=f"192.0.2.{40 + i}", moment=moment, wants_confirmation="y").status_code
             for i, moment in enumerate(moments)]
    assert codes == [303, 303, 303, 429, 429, 429]
    assert _texts(runtime) == [MOBILE, MOBILE]  # the third request was taken without a text
    [row] = requests(runtime)
    assert not row.wants_confirmation
    # One address, many numbers: five texts, then requests without.
    for i in range(8):
        _post(client, app, addr="192.0.2.99", number=f"06 2000 00{i:02d}", wants_confirmation="y")
    assert len(_texts(runtime)) == 2 + 5
