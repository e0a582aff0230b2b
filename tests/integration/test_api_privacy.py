"""The API's side of a participant's personal data: the office erases it or reads the data file; a mediator
cannot, even on their own case."""
from __future__ import annotations

from scheduler.models import Mediator, Participant
from tests import factories as f
from tests.integration.participant_helpers import book_with_link, settings  # noqa: F401 - the fixture


def test_the_office_reads_the_file_and_erases_once_they_stopped(client, runtime) -> None:
    booked = book_with_link(runtime)
    me = booked.participant_id
    with runtime.db.write_session() as s:
        _, office = f.staff(s, "coordinator")
        _, mediator = f.staff(s, "mediator", s.get(Mediator, booked.world.mediator_ids[0]))
        name = s.get(Participant, me).name
    data = client.get(f"/api/v1/participants/{me}/data", headers=office)
    assert data.status_code == 200 and data.json["participant"]["name"] == name
    assert data.json["messages_to_you"] and data.headers["Cache-Control"].startswith("no-store")
    assert client.get(f"/api/v1/participants/{me}/data", headers=mediator).status_code == 403
    refused = client.post(f"/api/v1/participants/{me}/erase", headers=office)
    assert refused.status_code == 409 and "stop first" in refused.get_data(as_text=True)
    assert client.post(f"/api/v1/participants/{me}/withdraw", headers=mediator).status_code == 200
    assert client.post(f"/api/v1/participants/{me}/erase", headers=mediator).status_code == 403
    erased = client.post(f"/api/v1/participants/{me}/erase", headers=office)
    assert erased.status_code == 200, erased.json
    assert (erased.json["name"], erased.json["phone"], erased.json["email"]) == ("—", None, None)
    assert erased.json["erased_at"]
    again = client.post(f"/api/v1/participants/{me}/erase", headers=office)
    assert again.status_code == 409
    assert client.patch(f"/api/v1/participants/{me}", json={"name": "Terug"}, headers=office).status_code == 409
