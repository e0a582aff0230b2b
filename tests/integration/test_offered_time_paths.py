"""An offered time is booked only by choosing it (scheduler.offers.choose): every other confirming path refuses.

Confirming one offered time on its own would book it and leave the offer's other times held; the writers
of a confirmation are scheduler.booking.confirm's callers: the desk's confirm button, the JSON API, and
offers.choose (the participant's page and the desk's "book this time for them").
"""
from __future__ import annotations

from sqlalchemy import select

from scheduler.models import Appointment
from scheduler.participant_models import Offer
from tests import factories as f
from tests.integration.desk_booking_helpers import sign_in
from tests.integration.participant_helpers import offer_with_link, open_link, settings  # noqa: F401


def _statuses(runtime, ids):  # type: ignore[no-untyped-def]
    with runtime.db.sessions() as s:
        return [s.get(Appointment, i).status for i in ids]


def test_the_api_refuses_to_confirm_an_offered_time(client, runtime) -> None:
    world, offer_id, slots, token = offer_with_link(runtime)
    with runtime.db.write_session() as s:
        _, headers = f.staff(s, "coordinator")
    answer = client.post(f"/api/v1/appointments/{slots[0]}/confirm", headers=headers)
    assert answer.status_code == 409 and "offered" in answer.get_json()["detail"]
    assert _statuses(runtime, slots) == ["held"] * 3


def test_the_desks_confirm_button_sends_the_office_to_the_offered_times_and_releases_nothing(client, runtime) -> None:
    world, offer_id, slots, token = offer_with_link(runtime)
    with runtime.db.write_session() as s:
        user, _ = f.staff(s, "coordinator")
        email = user.email
    sign_in(client, email)
    answer = client.post(f"/appointments/{slots[0]}/confirm")
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/cases/{world.case_id}#offers")
    assert _statuses(runtime, slots) == ["held"] * 3


def test_choosing_still_books_it(client, runtime) -> None:
    world, offer_id, slots, token = offer_with_link(runtime)
    open_link(client, token)
    assert client.post("/a/choose", data={"slot": slots[0]}).status_code == 200
    assert _statuses(runtime, slots) == ["confirmed", "cancelled", "cancelled"]
    with runtime.db.sessions() as s:
        assert s.scalar(select(Offer.status)) == "chosen"
