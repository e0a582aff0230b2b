"""A participant's personal data on the staff desk: the file of what we hold, and erasure, coordinators only.

The pages speak Dutch, the office's language, unless a user chose English."""
from __future__ import annotations

import json

from sqlalchemy import select

from core.models import AuditEntry
from scheduler import withdrawal
from scheduler.erasure import ERASED_NAME
from scheduler.models import Mediator, Participant
from tests import factories as f
from tests.integration.desk_cases_helpers import sign_in
from tests.integration.erasure_helpers import callback_request, details_of
from tests.integration.participant_helpers import book_with_link, settings  # noqa: F401 - the fixture


def _people(runtime):  # type: ignore[no-untyped-def]
    """A booked joint meeting, a coordinator, a mediator on the case and one who is not."""
    booked = book_with_link(runtime, joint=True)
    with runtime.db.write_session() as s:
        coordinator = f.staff(s, "coordinator")[0].email
        on_case = f.staff(s, "mediator", s.get(Mediator, booked.world.mediator_ids[0]))[0].email
        elsewhere = f.staff(s, "mediator", f.mediator(s))[0].email
        callback_request(s, s.get(Participant, booked.participant_id).phone, booked.world.case_id)
    return booked, coordinator, on_case, elsewhere


def test_the_file_holds_their_data_and_nothing_of_the_other_party(client, runtime) -> None:
    booked, coordinator, _, _ = _people(runtime)
    sign_in(client, coordinator)
    page = client.get(f"/participants/{booked.participant_id}/erase")
    assert page.status_code == 200 and "Hun gegevens downloaden" in page.get_data(as_text=True)
    answer = client.post(f"/participants/{booked.participant_id}/export")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.headers["Content-Disposition"].startswith(f'attachment; filename="pendel-deelnemer-{booked.participant_id}-')
    assert "no-store" in answer.headers["Cache-Control"]
    text = answer.get_data(as_text=True)
    data = json.loads(text)
    with runtime.db.sessions() as s:
        me = s.get(Participant, booked.participant_id)
        assert data["participant"]["name"] == me.name and data["participant"]["phone"] == me.phone
        theirs = details_of(s, booked.other_id)
    assert [a["kind"] for a in data["appointments"]] == ["meeting"]
    assert data["appointments"][0]["your_arrival"] and data["case"]["kind"] == "crime"
    assert data["messages_to_you"] and all(m["kind"] for m in data["messages_to_you"])
    assert any(m["text"] and "/a/" in m["text"] for m in data["messages_to_you"])  # their own link, as sent
    assert [c["number"] for c in data["callback_requests"]] == [me.phone]
    assert not [d for d in theirs if d.lower() in text.lower()], "the other party's details are in the file"
    with runtime.db.sessions() as s:
        assert [(a.object_id, a.detail) for a in s.scalars(select(AuditEntry)
                                                           .where(AuditEntry.action == "participant.exported"))] \
            == [(booked.participant_id, "")]


def test_erasure_waits_until_they_stopped_then_takes_their_data(client, runtime) -> None:
    booked, coordinator, _, _ = _people(runtime)
    sign_in(client, coordinator)
    page = client.get(f"/participants/{booked.participant_id}/erase").get_data(as_text=True)
    assert "doet nog mee" in page and f"/participants/{booked.participant_id}/withdraw" in page
    assert "Ja, wis" not in page
    refused = client.post(f"/participants/{booked.participant_id}/erase")
    assert refused.status_code == 400
    with runtime.db.sessions() as s:
        assert s.get(Participant, booked.participant_id).erased_at is None
    with runtime.db.write_session() as s:
        withdrawal.withdraw(s, booked.participant_id, None, booked.start)
    page = client.get(f"/participants/{booked.participant_id}/erase").get_data(as_text=True)
    assert "Ja, wis" in page and "niet ongedaan" in page
    done = client.post(f"/participants/{booked.participant_id}/erase")
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/cases/{booked.world.case_id}")
    case_page = client.get(f"/cases/{booked.world.case_id}").get_data(as_text=True)
    assert "gegevens gewist op" in case_page and f"/participants/{booked.participant_id}/edit" not in case_page
    with runtime.db.sessions() as s:
        assert s.get(Participant, booked.participant_id).name == ERASED_NAME
    again = client.get(f"/participants/{booked.participant_id}/erase").get_data(as_text=True)
    assert "zijn gewist op" in again and "Ja, wis" not in again


def test_a_mediator_gets_the_office_page_and_a_stranger_the_unknown_one(client, runtime) -> None:
    booked, _, on_case, elsewhere = _people(runtime)
    with runtime.db.write_session() as s:
        withdrawal.withdraw(s, booked.participant_id, None, booked.start)
    sign_in(client, on_case)
    assert client.get(f"/participants/{booked.participant_id}/erase").status_code == 403
    assert client.post(f"/participants/{booked.participant_id}/erase").status_code == 403
    assert client.post(f"/participants/{booked.participant_id}/export").status_code == 403
    client.get("/logout")
    sign_in(client, elsewhere)
    assert client.get(f"/participants/{booked.participant_id}/erase").status_code == 404
    assert client.post(f"/participants/{booked.participant_id}/export").status_code == 404
    with runtime.db.sessions() as s:
        assert s.get(Participant, booked.participant_id).erased_at is None
        assert not s.scalars(select(AuditEntry).where(AuditEntry.action == "participant.exported")).all()
