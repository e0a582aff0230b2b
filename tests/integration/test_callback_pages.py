"""The staff pages of the callback queue and the duty switch, through the Flask test client.

The rules themselves (claiming, unreachable after three tries over two
working days, who sees what) are telephony.queue's; here the pages must show
them: order and filters, a mediator's narrower view, a refused claim as a
message naming who has it, the duty form refusing a bad number next to the
field, the call button only where it can work, and a 404 page for anything
out of sight. The pages speak Dutch (the default); tests/integration/
test_callback_pages_language.py switches to English and posts without a token.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import select

from app import create_app
from core.models import User
from telephony.models import CallbackAttempt, CallbackCall, CallbackRequest
from tests import factories as f
from tests.conftest import both_databases, with_settings
from tests.integration.ivr_helpers import local

MONDAY_10 = local(2026, 11, 30, 10, 0)
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def at(app: Any):  # type: ignore[no-untyped-def]
    def set_now(moment: Any) -> None:
        app.config["PENDEL_NOW"] = moment
    set_now(MONDAY_10)
    return set_now


def _request(s: Any, number: str, due: Any, **kw: Any) -> int:
    values: dict[str, Any] = dict(number=number, number_typed_in=False, caller_number=number, language="nl",
                                  moment="morning", may_identify=True, wants_confirmation=False, status="open",
                                  window_start=due - timedelta(hours=3), due_at=due)
    values.update(kw)
    row = CallbackRequest(**values)
    s.add(row)
    s.flush()
    return row.id


def _sign_in(client: Any, user: User) -> Any:
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _positions(page: str, ids: list[int]) -> list[int]:
    return [page.find(f'href="/callbacks/{i}"') for i in ids]


def _listed(page: str, ids: list[int]) -> list[int]:
    return [i for i in ids if f'href="/callbacks/{i}"' in page]


@both_databases
def test_queue_is_ordered_by_due_time_and_filtered_by_tab(client: Any, database: Any) -> None:
    with database.write_session() as s:
        me, _ = f.staff(s, "coordinator")
        other, _ = f.staff(s, "coordinator")
        tuesday = _request(s, "+31612340001", local(2026, 12, 1, 12, 0), moment="morning")
        late = _request(s, "+31612340002", local(2026, 11, 30, 9, 30), moment="no_preference", number_typed_in=True,
                        caller_number=None)
        mine = _request(s, "+32470123456", local(2026, 12, 1, 17, 0), status="in_progress", assignee_id=me.id,
                        language="en", may_identify=False, moment="afternoon")
        theirs = _request(s, "+31612340004", local(2026, 12, 2, 12, 0), status="in_progress", assignee_id=other.id)
        done = _request(s, "+31612340005", local(2026, 11, 20, 12, 0), status="done")
        gone = _request(s, "+31612340006", local(2026, 11, 25, 12, 0), status="unreachable")
        s.add(CallbackAttempt(callback_id=mine, at=MONDAY_10, outcome="busy", by_user_id=me.id))
    everything = [tuesday, late, mine, theirs, done, gone]
    _sign_in(client, me)
    page = client.get("/callbacks").get_data(as_text=True)
    assert _listed(page, everything) == [tuesday, late, mine, theirs]
    first, second, third, fourth = _positions(page, [late, tuesday, mine, theirs])
    assert first < second < third < fourth  # soonest due first
    assert page.count('<span class="overdue">te laat</span>') == 1 and page.index("te laat") < second
    assert "06 12340002" in page and "+32 470 12 34 56" in page and "+31612340002" not in page
    assert "identiteit controleren" in page and "niet zeggen wie wij zijn" in page
    assert "geen voorkeur" in page and "middag" in page and ">Engels<" in page and ">Nederlands<" in page
    assert "ma 30 nov, 09:30" in page  # times in the office's zone, in Dutch
    assert page.count(">Oppakken</button>") == 2  # the open, unassigned ones only
    assert f'aria-label="Verzoek {tuesday} oppakken"' in page
    assert _listed(client.get("/callbacks?view=mine").get_data(as_text=True), everything) == [mine]
    assert _listed(client.get("/callbacks?view=unassigned").get_data(as_text=True), everything) == [tuesday, late]
    finished = client.get("/callbacks?view=finished").get_data(as_text=True)
    assert _listed(finished, everything) == [done, gone] and "onbereikbaar" in finished
    assert _positions(finished, [gone])[0] < _positions(finished, [done])[0]  # newest first
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Terugbelverzoeken" in home and "4 open" in home and "1 te laat" in home


def test_mediator_sees_only_requests_linked_to_their_cases(app: Any, client: Any, database: Any) -> None:
    with database.write_session() as s:
        own, stranger = f.mediator(s), f.mediator(s)
        user, _ = f.staff(s, "mediator", own)
        own_case, other_case = f.case(s, [own]), f.case(s, [stranger])
        linked = _request(s, "+31612340011", local(2026, 12, 1, 12, 0), case_id=own_case.id)
        foreign = _request(s, "+31612340012", local(2026, 12, 1, 12, 0), case_id=other_case.id)
        loose = _request(s, "+31612340013", local(2026, 12, 1, 12, 0))
        reference = own_case.reference
    _sign_in(client, user)
    page = client.get("/callbacks").get_data(as_text=True)
    assert _listed(page, [linked, foreign, loose]) == [linked]
    assert f">{reference}<" in page
    # the case's page once the desk has one (scheduler.desk_cases), the reference as text before
    assert (f'href="/cases/{own_case.id}"' in page) == ("desk_cases.show" in app.view_functions)
    for hidden in (foreign, loose):
        response = client.get(f"/callbacks/{hidden}")
        assert response.status_code == 404 and "Niet gevonden" in response.get_data(as_text=True)
        assert client.post(f"/callbacks/{hidden}/claim").status_code == 404
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert _listed(home, [linked, foreign, loose]) == [linked] and "06 12340011" in home


def test_second_claim_shows_who_has_it(app: Any, database: Any) -> None:
    with database.write_session() as s:
        first, _ = f.staff(s, "coordinator")
        second, _ = f.staff(s, "coordinator")
        callback_id = _request(s, "+31612340021", local(2026, 12, 1, 12, 0))
    one, two = _sign_in(app.test_client(), first), _sign_in(app.test_client(), second)
    response = one.post(f"/callbacks/{callback_id}/claim")
    assert response.status_code == 303 and response.headers["Location"] == f"/callbacks/{callback_id}"
    assert "U behandelt dit verzoek nu" in one.get(f"/callbacks/{callback_id}").get_data(as_text=True)
    assert two.post(f"/callbacks/{callback_id}/claim").status_code == 303
    page = two.get(f"/callbacks/{callback_id}").get_data(as_text=True)
    assert f"Niet gelukt: {first.name} behandelt dit verzoek." in page and 'role="alert"' in page
    assert f"Let op: {first.name} behandelt dit verzoek." in page  # the office may still step in
    opens_case = f'href="/cases/new?callback_id={callback_id}"' in page  # no case yet: the office may open one
    assert opens_case == ("desk_cases.new" in app.view_functions)
    with database.session() as s:
        row = s.get(CallbackRequest, callback_id)
        assert row is not None and (row.status, row.assignee_id) == ("in_progress", first.id)


@both_databases
def test_attempts_over_two_working_days_make_a_request_unreachable(client: Any, database: Any, at: Any) -> None:
    with database.write_session() as s:
        me, _ = f.staff(s, "coordinator")
        callback_id = _request(s, "+31612340031", local(2026, 11, 30, 12, 0))
    _sign_in(client, me)
    url = f"/callbacks/{callback_id}"
    client.post(f"{url}/attempts", data={"outcome": "no_answer"})
    at(local(2026, 11, 30, 11, 0))
    client.post(f"{url}/attempts", data={"outcome": "busy"})
    assert "in behandeling" in client.get(url).get_data(as_text=True)
    at(local(2026, 12, 1, 9, 15))
    client.post(f"{url}/attempts", data={"outcome": "no_answer"})
    page = client.get(url).get_data(as_text=True)
    assert "Het verzoek staat nu op onbereikbaar" in page
    assert page.count("geen gehoor") >= 2 and "in gesprek" in page and page.count(me.name) >= 3
    assert "ma 30 nov, 10:00" in page and "di 1 dec, 09:15" in page
    assert "Poging vastleggen" not in page and "Dit verzoek is afgesloten" in page
    client.post(f"{url}/attempts", data={"outcome": "reached"})
    assert "Niet gelukt: dit verzoek is al afgesloten (onbereikbaar)." in client.get(url).get_data(as_text=True)
    with database.session() as s:
        assert s.get(CallbackRequest, callback_id).status == "unreachable"  # type: ignore[union-attr]
        assert len(s.scalars(select(CallbackAttempt)).all()) == 3


def test_close_as_done_or_cancelled(client: Any, database: Any) -> None:
    with database.write_session() as s:
        me, _ = f.staff(s, "coordinator")
        a = _request(s, "+31612340041", local(2026, 12, 1, 12, 0))
        b = _request(s, "+31612340042", local(2026, 12, 1, 12, 0))
    _sign_in(client, me)
    for path, data, error in ((f"/callbacks/{a}/close", {"status": "bogus"}, "Kies afgerond of vervallen."),
                              (f"/callbacks/{a}/attempts", {"outcome": ""}, "Kies hoe de poging ging.")):
        refused = client.post(path, data=data)  # the page again, the message next to the buttons
        text = refused.get_data(as_text=True)
        field = "status" if "close" in path else "outcome"
        assert refused.status_code == 400 and f'<p class="field-error" id="{field}-error">{error}</p>' in text
        assert f'aria-describedby="{field}-error"' in text
    with database.session() as s:
        assert (s.get(CallbackRequest, a).status, s.scalars(select(CallbackAttempt)).all()) == (  # type: ignore[union-attr]
            "open", [])
    client.post(f"/callbacks/{a}/close", data={"status": "done"})
    assert "Verzoek afgesloten: afgerond" in client.get(f"/callbacks/{a}").get_data(as_text=True)
    client.post(f"/callbacks/{b}/close", data={"status": "cancelled"})
    assert _listed(client.get("/callbacks").get_data(as_text=True), [a, b]) == []
    finished = client.get("/callbacks?view=finished").get_data(as_text=True)
    assert _listed(finished, [a, b]) == [a, b] and "vervallen" in finished and "afgerond" in finished
    with database.session() as s:
        assert [(r.status, r.assignee_id) for r in s.scalars(select(CallbackRequest).order_by(CallbackRequest.id))] \
            == [("done", me.id), ("cancelled", me.id)]


def test_duty_form_refuses_a_bad_number_and_saves_a_good_one(client: Any, database: Any) -> None:
    with database.write_session() as s:
        me, _ = f.staff(s, "coordinator")
        mediator_user, _ = f.staff(s, "mediator")
    _sign_in(client, me)
    page = client.get("/duty").get_data(as_text=True)
    assert '<label for="phone">Telefoonnummer</label>' in page and '<label class="inline" for="on_duty"' in page
    assert "Niemand" in page
    bad = client.post("/duty", data={"phone": "12345", "on_duty": "on"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'aria-invalid="true"' in text and 'value="12345"' in text
    assert '<p class="field-error" id="phone-error">Dit is geen geldig telefoonnummer.' in text
    no_phone = client.post("/duty", data={"phone": "", "on_duty": "on"})
    text = no_phone.get_data(as_text=True)
    assert no_phone.status_code == 400 and "phone-error" not in text
    assert '<p class="field-error" id="on_duty-error">Vul eerst een telefoonnummer in' in text
    with database.session() as s:
        assert (s.get(User, me.id).phone, s.get(User, me.id).on_duty) == (None, False)  # type: ignore[union-attr]
    saved = client.post("/duty", data={"phone": "06 1234 5678", "on_duty": "on"})
    assert saved.status_code == 303 and saved.headers["Location"] == "/duty"
    page = client.get("/duty").get_data(as_text=True)
    assert "Opgeslagen" in page and 'value="06 12345678"' in page and "checked" in page
    assert f"{me.name} <span class=\"muted\">(u)</span>" in page
    with database.session() as s:
        assert (s.get(User, me.id).phone, s.get(User, me.id).on_duty) == ("+31612345678", True)  # type: ignore[union-attr]
    client.post("/logout")
    _sign_in(client, mediator_user)
    assert "Nu bereikbaar" not in client.get("/duty").get_data(as_text=True)  # the office's view only


def test_call_button_only_with_twilio_and_a_phone(client: Any, database: Any, settings: Any) -> None:
    with database.write_session() as s:
        me, _ = f.staff(s, "coordinator")
        callback_id = _request(s, "+31612340051", local(2026, 12, 1, 12, 0))
    _sign_in(client, me)
    page = client.get(f"/callbacks/{callback_id}").get_data(as_text=True)
    assert ">Bellen</button>" not in page and "niet ingesteld" in page
    refused = client.post(f"/callbacks/{callback_id}/call", follow_redirects=True).get_data(as_text=True)
    assert "Niet gelukt: bellen via Pendel is niet ingesteld." in refused
    twilio = create_app(with_settings(settings, twilio_account_sid="AC" + "1" * 32,
                                      twilio_phone_number="+31850000000"))
    try:
        twilio.config["PENDEL_NOW"] = MONDAY_10
        web = _sign_in(twilio.test_client(), me)
        page = web.get(f"/callbacks/{callback_id}").get_data(as_text=True)
        assert ">Bellen</button>" not in page and "Vul uw telefoonnummer in om vanaf hier te bellen" in page
        web.post("/duty", data={"phone": "0612345678"})
        assert ">Bellen</button>" in web.get(f"/callbacks/{callback_id}").get_data(as_text=True)
        page = web.post(f"/callbacks/{callback_id}/call", follow_redirects=True).get_data(as_text=True)
        assert "Uw telefoon gaat zo over" in page and "aangevraagd" in page
        with database.write_session() as s:  # let the first call end, then try with the queue away
            s.execute(CallbackCall.__table__.update().values(state="finished"))
        twilio.extensions["pendel"].redis = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
        page = web.post(f"/callbacks/{callback_id}/call", follow_redirects=True).get_data(as_text=True)
        assert "kon niet worden gestart" in page and "queue unavailable" in page
        with database.session() as s:
            assert [c.state for c in s.scalars(select(CallbackCall).order_by(CallbackCall.id))] == [
                "finished", "failed"]
    finally:
        twilio.extensions["pendel"].db.dispose()


def test_unknown_request_is_a_404_page_and_pages_need_sign_in(client: Any, database: Any) -> None:
    assert client.get("/callbacks").headers["Location"].startswith("/login")
    assert client.get("/duty").headers["Location"].startswith("/login")
    with database.write_session() as s:
        me, _ = f.staff(s, "coordinator")
    _sign_in(client, me)
    for response in (client.get("/callbacks/999999"), client.post("/callbacks/999999/close", data={"status": "done"})):
        assert response.status_code == 404 and "Niet gevonden" in response.get_data(as_text=True)
        assert response.mimetype == "text/html"
