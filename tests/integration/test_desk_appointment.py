"""The desk's appointment pages through the Flask test client, on PostgreSQL and the real clock.

The appointment's page, reschedule and cancel with a reason, a mediator on
someone else's case (404 everywhere), and invalid input that changes nothing.
The times are whatever the search offers from now on, so the tests hold on
any day they run.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from scheduler.desk_picker import parse_slot
from tests.integration.desk_booking_helpers import (_evening, appointments, book_via_service, desk,  # noqa: F401
                                                    held_id, pick, plan_url, search, sign_in, slots_of)


# --- the appointment, reschedule, cancel ---------------------------------------------------------

@pytest.fixture
def booked(client: Any, runtime: Any, desk: dict[str, Any]) -> int:
    sign_in(client, desk["coordinator"])
    first = slots_of(client.get(f"{plan_url(desk)}?{urlencode(search(desk, mode='video'))}").get_data(as_text=True))[0]
    held = held_id(pick(client, desk, first, mode="video"))
    assert client.post(f"/appointments/{held}/confirm", data={}).status_code == 303
    return held


def test_the_appointment_page_shows_what_there_is_to_know(client: Any, booked: int) -> None:
    html = client.get(f"/appointments/{booked}").get_data(as_text=True)
    assert "via video" in html and "https://meet.example.org/anna" in html  # the mediator's standing link
    assert f'href="/appointments/{booked}/reschedule"' in html and f'href="/appointments/{booked}/cancel"' in html


def test_a_video_link_of_its_own_and_a_bad_one(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    link = "https://video.example.org/intake-7"
    first = slots_of(client.get(f"{plan_url(desk)}?{urlencode(search(desk, mode='video'))}").get_data(as_text=True))[0]
    bad = pick(client, desk, first, mode="video", video_url="http://video.example.org/x")
    assert bad.status_code == 400 and 'id="video_url-error"' in bad.get_data(as_text=True)
    assert appointments(runtime) == []
    held = held_id(pick(client, desk, first, mode="video", video_url=link))
    client.post(f"/appointments/{held}/confirm", data={})
    assert appointments(runtime)[0].video_url == link
    assert link in client.get(f"/appointments/{held}").get_data(as_text=True)


def test_reschedule_through_the_same_picker(client: Any, runtime: Any, desk: dict[str, Any], booked: int) -> None:
    before = appointments(runtime)[0]
    page = client.get(f"/appointments/{booked}/reschedule")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    target = slots_of(html)[-1]
    values = {"mode": "video", "duration": "60", "video_url": ""}
    confirm_page = client.post(f"/appointments/{booked}/reschedule", data={**values, "action": "pick",
                                                                           "slot": target})
    assert confirm_page.status_code == 200 and appointments(runtime)[0].start == before.start
    moved = client.post(f"/appointments/{booked}/reschedule", data={**values, "action": "move", "slot": target})
    assert moved.status_code == 303 and moved.headers["Location"] == f"/appointments/{booked}"
    after = appointments(runtime)[0]
    assert after.start == parse_slot(target)[0] and after.version == before.version + 1  # type: ignore[index]


def test_reschedule_to_a_time_taken_meanwhile_says_so(client: Any, runtime: Any, desk: dict[str, Any],
                                                      booked: int) -> None:
    target = slots_of(client.get(f"/appointments/{booked}/reschedule").get_data(as_text=True))[-1]
    book_via_service(runtime, desk, target)
    before = appointments(runtime)[0]
    response = client.post(f"/appointments/{booked}/reschedule",
                           data={"mode": "video", "duration": "60", "action": "move", "slot": target})
    assert response.status_code == 409 and "net bezet" in response.get_data(as_text=True)
    assert appointments(runtime)[0].start == before.start


def test_cancel_with_a_reason(client: Any, runtime: Any, booked: int) -> None:
    page = client.get(f"/appointments/{booked}/cancel")
    assert page.status_code == 200 and "op verzoek van de deelnemer" in page.get_data(as_text=True)
    bad = client.post(f"/appointments/{booked}/cancel", data={"reason": "because"})
    assert bad.status_code == 400 and appointments(runtime)[0].status == "confirmed"
    done = client.post(f"/appointments/{booked}/cancel", data={"reason": "mediator_unavailable"})
    assert done.status_code == 303
    row = appointments(runtime)[0]
    assert row.status == "cancelled" and row.cancel_reason == "mediator_unavailable"
    assert "bemiddelaar niet beschikbaar" in client.get(f"/appointments/{booked}").get_data(as_text=True)


# --- sight, and input that changes nothing -------------------------------------------------------

def test_a_mediator_on_someone_elses_case_gets_404_everywhere(client: Any, runtime: Any, desk: dict[str, Any],
                                                              booked: int) -> None:
    client.post("/logout", data={})
    sign_in(client, desk["outsider"])
    for path in (plan_url(desk), f"/appointments/{booked}", f"/appointments/{booked}/reschedule",
                 f"/appointments/{booked}/cancel", f"/appointments/{booked}/held"):
        assert client.get(path).status_code == 404, path
    for path in (plan_url(desk), f"/appointments/{booked}/cancel", f"/appointments/{booked}/confirm",
                 f"/appointments/{booked}/release", f"/appointments/{booked}/reschedule"):
        assert client.post(path, data={"reason": "other", "action": "move"}).status_code == 404, path
    assert appointments(runtime)[0].status == "confirmed"


def test_invalid_input_changes_nothing(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    bad_duration = client.get(f"{plan_url(desk)}?{urlencode(search(desk, duration=7))}")
    assert bad_duration.status_code == 400 and 'id="duration-error"' in bad_duration.get_data(as_text=True)
    first = slots_of(client.get(f"{plan_url(desk)}?{urlencode(search(desk))}").get_data(as_text=True))[0]
    assert pick(client, desk, first, duration=7).status_code == 400
    assert pick(client, desk, "not a slot").status_code == 400
    assert pick(client, desk, first, mode="in_person").status_code == 400  # no location chosen
    assert client.raw_post(plan_url(desk), data={**search(desk), "action": "pick", "slot": first}).status_code == 400
    far = pick(client, desk, "9999-12-31T23:00:00+00:00|%d|" % desk["anna"])
    assert far.status_code == 400
    past = client.post(plan_url(desk), data={**search(desk), "action": "other", "day": "2020-01-06", "at": "10:00"})
    assert past.status_code == 400 and 'id="day-error"' in past.get_data(as_text=True)
    assert client.get(f"{plan_url(desk)}?{urlencode(search(desk, after='9999-12-31T00:00:00+00:00'))}").status_code == 200
    assert appointments(runtime) == []


def test_the_mediator_sees_and_moves_their_own_appointment(client: Any, runtime: Any, desk: dict[str, Any],
                                                           booked: int) -> None:
    client.post("/logout", data={})
    sign_in(client, desk["mediator"])
    assert client.get(f"/appointments/{booked}").status_code == 200
    page = client.get(f"/appointments/{booked}/reschedule").get_data(as_text=True)
    assert slots_of(page) and 'name="anyway"' not in page
    evening = _evening(runtime)
    refused = client.post(f"/appointments/{booked}/reschedule", data={
        "mode": "video", "duration": "60", "action": "other", "day": evening.date().isoformat(),
        "at": evening.strftime("%H:%M"), "anyway": "y", "reason": "urgent"})
    assert refused.status_code == 403
    assert appointments(runtime)[0].outside_hours_reason is None


def test_a_coordinator_moves_anyway_to_an_evening(client: Any, runtime: Any, desk: dict[str, Any], booked: int) -> None:
    evening = _evening(runtime)
    values = {"mode": "video", "duration": "60", "action": "other", "day": evening.date().isoformat(),
              "at": evening.strftime("%H:%M")}
    assert client.post(f"/appointments/{booked}/reschedule", data=values).status_code == 422
    moved = client.post(f"/appointments/{booked}/reschedule", data={**values, "anyway": "y", "reason": "accessibility"})
    assert moved.status_code == 303
    row = appointments(runtime)[0]
    assert row.start == evening and row.outside_hours_reason == "accessibility"
