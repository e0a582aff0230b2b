"""Choosing one of the offered times on the participant's page: one booking, whatever happens at once."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

from sqlalchemy import select

from core.db import utcnow
from scheduler import offers
from scheduler.models import Appointment, BusyBlock, MediatorTask, Participant
from scheduler.participant_models import Offer
from tests.integration.participant_helpers import offer_with_link, open_link, settings  # noqa: F401


def _statuses(runtime, ids):  # type: ignore[no-untyped-def]
    with runtime.db.sessions() as s:
        return [s.get(Appointment, i).status for i in ids]


def _offered(html: str) -> list[str]:
    return re.findall(r'name="slot" value="(\d+)"', html)


def test_the_offer_page_lists_the_times_and_choosing_books_one_and_releases_the_rest(client, runtime) -> None:
    world, offer_id, slots, token = offer_with_link(runtime)
    html = open_link(client, token).get_data(as_text=True)
    assert _offered(html) == [str(i) for i in slots]
    confirm = client.get(f"/a/choose?slot={slots[1]}")
    assert confirm.status_code == 200 and _statuses(runtime, slots) == ["held"] * 3  # a GET books nothing
    booked = client.post("/a/choose", data={"slot": slots[1]})
    assert booked.status_code == 200 and "Uw afspraak" in booked.get_data(as_text=True)
    assert _statuses(runtime, slots) == ["cancelled", "confirmed", "cancelled"]
    # The same link now shows the booked appointment; choosing again changes nothing.
    assert "Uw afspraak" in client.get("/a/").get_data(as_text=True)
    client.post("/a/choose", data={"slot": slots[2]})
    assert _statuses(runtime, slots) == ["cancelled", "confirmed", "cancelled"]


def test_a_time_lost_meanwhile_shows_as_gone_with_the_others(client, runtime) -> None:
    world, offer_id, slots, token = offer_with_link(runtime)
    with runtime.db.write_session() as s:  # the mediator fell ill: their calendar is busy over the first time
        first = s.get(Appointment, slots[0])
        s.add(BusyBlock(source_id=1, mediator_id=world.mediator_ids[0], starts_at=first.start, ends_at=first.end))
    html = open_link(client, token).get_data(as_text=True)
    assert _offered(html) == [str(i) for i in slots[1:]] and "niet meer beschikbaar" in html
    refused = client.post("/a/choose", data={"slot": slots[0]})
    assert refused.status_code == 409 and "net niet meer beschikbaar" in refused.get_data(as_text=True)
    assert _statuses(runtime, slots) == ["held"] * 3


def test_two_browsers_choosing_at_once_make_one_booking(app, runtime) -> None:
    world, offer_id, slots, token = offer_with_link(runtime)
    browsers = [app.test_client(), app.test_client()]
    for browser in browsers:
        open_link(browser, token)
    tokens = [b.fetch_token() for b in browsers]
    answers: list[int] = []
    barrier = threading.Barrier(2)

    def choose(i: int) -> None:
        barrier.wait()
        answer = browsers[i].post("/a/choose", data={"slot": slots[i], "csrf_token": tokens[i]})
        answers.append(answer.status_code)

    threads = [threading.Thread(target=choose, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = _statuses(runtime, slots)
    assert statuses.count("confirmed") == 1 and "held" not in statuses
    assert sorted(answers) in ([200, 303], [200, 200])  # the second sees the time the first booked


def test_the_participant_and_a_coordinator_at_once_make_one_booking(client, runtime) -> None:
    world, offer_id, slots, token = offer_with_link(runtime)
    open_link(client, token)
    with runtime.db.write_session() as s:  # the office booked one for them on the phone, just before
        offers.choose(s, offer_id, slots[0], None, utcnow())
    answer = client.post("/a/choose", data={"slot": slots[2]})
    assert answer.status_code == 303  # shown the time that was booked
    assert _statuses(runtime, slots) == ["confirmed", "cancelled", "cancelled"]


def test_when_the_offer_ran_out_the_page_offers_a_callback(client, runtime) -> None:
    world, offer_id, slots, token = offer_with_link(runtime)
    with runtime.db.write_session() as s:
        s.get(Offer, offer_id).expires_at = utcnow() - timedelta(minutes=1)
    html = open_link(client, token).get_data(as_text=True)
    assert not _offered(html) and "Bel mij terug" in html
    refused = client.post("/a/choose", data={"slot": slots[0]})
    assert refused.status_code == 409
    with runtime.db.sessions() as s:
        assert s.scalars(select(MediatorTask)).all() == []  # the periodic sweep gives the task, not a GET


def test_stopping_while_times_are_offered_releases_them_and_closes_the_offer(client, runtime) -> None:
    world, offer_id, slots, token = offer_with_link(runtime)
    open_link(client, token)
    explained = client.get("/a/stop").get_data(as_text=True)
    assert "geen nieuwe afspraken" in explained  # offered times are not their appointments
    expected = re.search(r'name="expected"[^>]*value="([^"]*)"', explained).group(1)
    assert client.post("/a/stop", data={"expected": expected}).status_code == 200
    assert _statuses(runtime, slots) == ["cancelled"] * 3
    with runtime.db.sessions() as s:
        assert s.get(Offer, offer_id).status == "withdrawn"
        assert s.scalars(select(MediatorTask)).all() == []


def test_call_me_puts_their_number_in_the_callback_queue_once_and_lapses_the_offer(client, runtime) -> None:
    from telephony.models import CallbackRequest

    world, offer_id, slots, token = offer_with_link(runtime)
    open_link(client, token)
    assert client.get("/a/call-me").status_code == 200
    with runtime.db.sessions() as s:
        assert s.scalars(select(CallbackRequest)).all() == []  # the GET asked, nothing more
    answer = client.post("/a/call-me")
    assert answer.status_code == 200 and "bellen u op" in answer.get_data(as_text=True)
    client.post("/a/call-me")  # again: the same open request, no second task
    with runtime.db.sessions() as s:
        requests = s.scalars(select(CallbackRequest)).all()
        offer = s.get(Offer, offer_id)
        tasks = s.scalars(select(MediatorTask).where(MediatorTask.kind == "offer_lapsed")).all()
        phone = s.get(Participant, world.participant_ids[0]).phone
    assert [(r.number, r.case_id, r.may_identify) for r in requests] == [(phone, world.case_id, False)]
    assert offer.status == "lapsed" and _statuses(runtime, slots) == ["cancelled"] * 3
    assert len(tasks) == len({t.mediator_id for t in tasks}) >= 1
