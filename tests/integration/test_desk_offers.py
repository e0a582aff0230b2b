"""The desk's side of offered times through the Flask test client, on PostgreSQL and the real clock.

Offer ticked times from the intake's picker (held, on the case page, in the week as "offered"), the
refusals on the intake page next to what they are about, withdraw, book one for the participant (and
the participant choosing first), and who may do it: a mediator of another case gets the same 404 as
for an unknown id. The times are whatever the picker offers from now on.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from core.db import utcnow
from notifications.models import OutboxMessage
from scheduler import offers
from scheduler.desk_picker import parse_slot
from scheduler.models import Appointment, BusyBlock, Participant
from scheduler.participant_models import Offer
from scheduler.week_layout import week_code
from tests.integration.desk_booking_helpers import (book_via_service, desk, plan_url, search, sign_in,  # noqa: F401
                                                    slots_of)

OFFER_BOX = re.compile(r'name="offer" value="([^"]+)"')


def _offer_url(desk: dict[str, Any]) -> str:
    return f"/cases/{desk['case']}/offers"


def _apart(slots: list[str], count: int = 3) -> list[str]:
    """`count` of the picker's times at least two hours apart (an hour's intake each)."""
    chosen: list[str] = []
    for value in slots:
        start = parse_slot(value)[0]  # type: ignore[index]
        if all(abs((start - parse_slot(c)[0]).total_seconds()) >= 7200 for c in chosen):  # type: ignore[index]
            chosen.append(value)
        if len(chosen) == count:
            return chosen
    raise AssertionError("the picker shows too few times")


def _ticks(client: Any, desk: dict[str, Any], **kw: Any) -> list[str]:
    html = client.get(plan_url(desk) + "?" + "&".join(f"{k}={v}" for k, v in search(desk, **kw).items())) \
        .get_data(as_text=True)
    return OFFER_BOX.findall(html)


def _offer(client: Any, desk: dict[str, Any], ticked: list[str], **kw: Any) -> Any:
    return client.post(_offer_url(desk), data={**search(desk, **kw), "action": "pick", "offer": ticked})


def _offers(runtime: Any) -> list[Offer]:
    with runtime.db.session() as s:
        rows = list(s.scalars(select(Offer).order_by(Offer.id)))
        for row in rows:
            _ = [(a.status, a.start, a.mediators) for a in row.slots]
        s.expunge_all()
        return rows


def _offered(client: Any, runtime: Any, desk: dict[str, Any], count: int = 3) -> Offer:
    ticked = _apart(_ticks(client, desk), count)
    response = _offer(client, desk, ticked)
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    assert response.headers["Location"] == f"/cases/{desk['case']}#offers"
    [offer] = _offers(runtime)
    return offer


# --- offering from the picker -----------------------------------------------------------------------

def test_offer_three_ticked_times_from_the_picker(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    page = client.get(plan_url(desk)).get_data(as_text=True)
    assert f'formaction="/cases/{desk["case"]}/offers"' in page  # the second button of the picker's own form
    assert "Aangevinkte tijden aanbieden" in page
    ticks = OFFER_BOX.findall(page)
    assert ticks == slots_of(page)  # a tick box for each time shown
    offer = _offered(client, runtime, desk)
    assert offer.status == "open" and offer.participant_id == desk["people"][0]
    assert [a.status for a in offer.slots] == ["held"] * 3
    assert {a.hold_expires_at for a in offer.slots} == {offer.expires_at}
    shown = client.get(f"/cases/{desk['case']}").get_data(as_text=True)
    assert "3 tijden zijn aangeboden aan" in shown  # the flash
    assert 'id="offers"' in shown and "Aangeboden tijden" in shown and "wacht op keuze" in shown
    assert shown.count('name="appointment_id"') == 3
    assert f'action="/offers/{offer.id}/withdraw"' in shown
    # The intake page now says an offer is open, and offers no tick boxes for this participant.
    again = client.get(plan_url(desk)).get_data(as_text=True)
    assert "zijn al tijden aangeboden" in again and not OFFER_BOX.findall(again)


def test_a_mediator_offers_on_their_own_case(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["mediator"])
    offer = _offered(client, runtime, desk, count=2)
    assert len(offer.slots) == 2
    with runtime.db.session() as s:
        anna_only = {m.id for a in s.get(Offer, offer.id).slots for m in a.mediators}
    assert anna_only == {desk["anna"]}


def _error_next_to(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]+)</p>', html)
    assert found, html[-3000:]
    return found.group(1)


def test_refusals_come_back_on_the_intake_page(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    ticks = _ticks(client, desk)
    one = _offer(client, desk, ticks[:1])
    assert one.status_code == 422 and "Vink twee tot vier" in one.get_data(as_text=True)
    five = _offer(client, desk, _apart(ticks, 5))
    assert five.status_code == 422 and "Vink twee tot vier" in five.get_data(as_text=True)
    bad = _offer(client, desk, [ticks[0], "not-a-time"])
    assert bad.status_code == 422
    overlapping = _offer(client, desk, ticks[:2])  # half an hour apart, an hour each
    assert overlapping.status_code == 422 and "overlappen" in overlapping.get_data(as_text=True)
    assert _offers(runtime) == []
    # Every refusal keeps the search and shows the free times again.
    assert slots_of(overlapping.get_data(as_text=True))


def test_region_times_of_another_mediator_are_refused(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    bram = _apart(_ticks(client, desk, mediator=desk["bram"]), 2)
    refused = _offer(client, desk, bram)  # Bram's times posted with the case's mediator chosen: still Bram's
    assert refused.status_code == 422
    assert "eigen bemiddelaars" in _error_next_to(refused.get_data(as_text=True), "mediator")
    assert _offers(runtime) == []


def test_a_participant_without_texts_or_emails_cannot_be_offered_times(client: Any, runtime: Any,
                                                                       desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    ticks = _apart(_ticks(client, desk), 2)
    with runtime.db.write_session() as s:
        person = s.get(Participant, desk["people"][0])
        person.sms_allowed, person.email_allowed = False, False
    page = client.get(plan_url(desk)).get_data(as_text=True)
    assert "wil geen van beide ontvangen" in page and not OFFER_BOX.findall(page)
    assert slots_of(page)  # booking a time stays possible
    refused = _offer(client, desk, ticks)
    assert refused.status_code == 422
    assert "geen sms en geen e-mail" in _error_next_to(refused.get_data(as_text=True), "participant_id")
    assert _offers(runtime) == []


def test_a_second_offer_or_one_to_a_participant_who_stopped_is_refused(client: Any, runtime: Any,
                                                                       desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    first = _offered(client, runtime, desk, count=2)
    ticks = [t for t in _apart(_ticks(client, desk, participant_id=desk["people"][1]), 4)
             if t not in {_value(a) for a in first.slots}][:2]
    again = _offer(client, desk, ticks)
    assert again.status_code == 409
    assert "al tijden aangeboden" in _error_next_to(again.get_data(as_text=True), "participant_id")
    with runtime.db.write_session() as s:
        s.get(Participant, desk["people"][1]).withdrawn_at = utcnow()
    stopped = _offer(client, desk, ticks, participant_id=desk["people"][1])
    assert stopped.status_code == 400  # a participant who stopped is not among the choices at all
    assert len(_offers(runtime)) == 1


def _value(appointment: Appointment) -> str:
    from scheduler.desk_picker import slot_value

    return slot_value(appointment.start, [m.id for m in appointment.mediators], appointment.room_id)


def test_a_time_taken_meanwhile_offers_nothing(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    ticks = _apart(_ticks(client, desk), 3)
    book_via_service(runtime, desk, ticks[1])  # the other participant got the second time meanwhile
    refused = _offer(client, desk, ticks)
    assert refused.status_code == 409
    assert "Anna Bakker" in refused.get_data(as_text=True)  # the sentence names who is no longer free
    assert _offers(runtime) == []
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Appointment)) == 1


# --- on the case page: withdraw, book one for them ------------------------------------------------------

def test_withdraw_the_offer(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["mediator"])
    offer = _offered(client, runtime, desk)
    response = client.post(f"/offers/{offer.id}/withdraw")
    assert response.status_code == 303 and response.headers["Location"] == f"/cases/{desk['case']}#offers"
    [after] = _offers(runtime)
    assert after.status == "withdrawn" and {a.status for a in after.slots} == {"cancelled"}
    page = client.get(f"/cases/{desk['case']}").get_data(as_text=True)
    assert "Het aanbod is ingetrokken" in page and "vrijgegeven" in page and 'name="appointment_id"' not in page
    history = page.split('id="history"', 1)[-1]  # the case's history names both, for whom
    assert "Tijden aangeboden om uit te kiezen" in history and "Aangeboden tijden ingetrokken" in history
    twice = client.post(f"/offers/{offer.id}/withdraw")
    assert twice.status_code == 303
    assert "Dit aanbod is ingetrokken" in client.get(f"/cases/{desk['case']}").get_data(as_text=True)


def test_book_one_of_the_times_for_them(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    offer = _offered(client, runtime, desk)
    second = offer.slots[1].id
    response = client.post(f"/offers/{offer.id}/choose", data={"appointment_id": str(second)})
    assert response.status_code == 303 and response.headers["Location"] == f"/appointments/{second}"
    [after] = _offers(runtime)
    assert after.status == "chosen" and after.chosen_appointment_id == second
    assert [a.status for a in after.slots] == ["cancelled", "confirmed", "cancelled"]
    with runtime.db.session() as s:
        confirmation = s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.appointment_id == second, OutboxMessage.participant_id == desk["people"][0])) or 0
    assert confirmation >= 1
    assert "Geboekt op" in client.get(response.headers["Location"]).get_data(as_text=True)
    page = client.get(f"/cases/{desk['case']}").get_data(as_text=True)
    assert "gekozen" in page and f'href="/appointments/{second}"' in page
    assert "een andere aangeboden tijd is gekozen" in page and "offer_chosen" not in page  # the released ones


def test_the_participant_chose_meanwhile(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    offer = _offered(client, runtime, desk)
    first, second = offer.slots[0].id, offer.slots[1].id
    with runtime.db.write_session() as s:  # on their own page, a moment before
        offers.choose(s, offer.id, first, None, utcnow())
    response = client.post(f"/offers/{offer.id}/choose", data={"appointment_id": str(second)})
    assert response.status_code == 303 and response.headers["Location"] == f"/cases/{desk['case']}#offers"
    page = client.get(f"/cases/{desk['case']}").get_data(as_text=True)
    assert "De deelnemer heeft intussen zelf een tijd gekozen" in page
    with runtime.db.session() as s:
        assert s.get(Appointment, first).status == "confirmed" and s.get(Appointment, second).status == "cancelled"


def test_a_time_lost_since_shows_as_gone(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    offer = _offered(client, runtime, desk)
    lost = offer.slots[0]
    with runtime.db.write_session() as s:
        s.add(BusyBlock(source_id=1, mediator_id=desk["anna"], starts_at=lost.start, ends_at=lost.end, uid="x-1"))
    page = client.get(f"/cases/{desk['case']}").get_data(as_text=True)
    assert "niet meer vrij" in page and page.count('name="appointment_id"') == 2
    response = client.post(f"/offers/{offer.id}/choose", data={"appointment_id": str(lost.id)})
    assert response.status_code == 303
    assert "Die tijd is niet meer vrij" in client.get(f"/cases/{desk['case']}").get_data(as_text=True)
    assert _offers(runtime)[0].status == "open"


# --- who may -------------------------------------------------------------------------------------------

def test_a_mediator_of_another_case_gets_not_found(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    ticks = _apart(_ticks(client, desk), 2)
    offer = _offered(client, runtime, desk, count=2)
    client.post("/logout")
    sign_in(client, desk["outsider"])
    assert _offer(client, desk, ticks, participant_id=desk["people"][1]).status_code == 404
    assert client.post(f"/offers/{offer.id}/withdraw").status_code == 404
    assert client.post(f"/offers/{offer.id}/choose", data={"appointment_id": str(offer.slots[0].id)}).status_code == 404
    unknown = client.post("/offers/999999/withdraw")
    assert unknown.status_code == 404
    assert _offers(runtime)[0].status == "open" and len(_offers(runtime)) == 1
    assert client.post(f"/offers/{offer.id}/choose", data={"appointment_id": "x"}).status_code == 404


def test_signed_out_is_sent_to_sign_in(client: Any, desk: dict[str, Any]) -> None:
    for url in (_offer_url(desk), "/offers/1/withdraw", "/offers/1/choose"):
        response = client.post(url, data=search(desk))
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the week ------------------------------------------------------------------------------------------

def test_the_week_shows_offered_times(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    offer = _offered(client, runtime, desk, count=2)
    first = offer.slots[0]
    week = week_code(first.start.astimezone(runtime.settings.tz).date())
    html = client.get(f"/mediators/{desk['anna']}/week?week={week}").get_data(as_text=True)
    assert 'class="item offered"' in html and "aangeboden (vastgehouden tot de deelnemer kiest)" in html
    assert 'class="item hold"' not in html
    client.post(f"/offers/{offer.id}/choose", data={"appointment_id": str(first.id)})
    after = client.get(f"/mediators/{desk['anna']}/week?week={week}").get_data(as_text=True)
    assert 'class="item offered"' not in after
    assert 'class="item appointment"' in after and 'class="item appointment cancelled"' not in after
    client.post("/logout")
    sign_in(client, desk["outsider"])  # another mediator does not see Anna's week at all
    assert client.get(f"/mediators/{desk['anna']}/week?week={week}").status_code == 404


def test_the_tasks_offers_and_answers_make_read_well(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    from scheduler.models import MediatorTask

    with runtime.db.write_session() as s:
        for kind in (offers.OFFER_LAPSED, "participant_cannot_come"):
            s.add(MediatorTask(mediator_id=desk["anna"], case_id=desk["case"], kind=kind,
                               participant_id=desk["people"][0], created_at=utcnow()))
    sign_in(client, desk["mediator"])
    page = client.get(f"/cases/{desk['case']}").get_data(as_text=True)
    assert "aangeboden tijden verlopen: spreek een tijd af met de deelnemer" in page
    assert "deelnemer kan niet komen: bel over een andere tijd" in page
    assert "offer_lapsed" not in page and "participant_cannot_come" not in page
