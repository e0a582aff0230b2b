"""The participant's personal page: what it shows, what its actions do, and that a bad link tells nothing."""
from __future__ import annotations

import re
from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import func, select

from core.audit import AuditEntry
from scheduler.models import Appointment, Attendance, Case, MediatorTask, Participant
from tests.integration.participant_helpers import (book_with_link, open_link, others_details,
                                                   settings)  # noqa: F401 - the fixture
from tests.support.days import AMS


def _without_form_token(html: str) -> str:
    """The page without its CSRF token (the language switch's form), which carries the second it was made."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


def _attendance(runtime, booked) -> Attendance:  # type: ignore[no-untyped-def]
    with runtime.db.sessions() as s:
        row = s.get(Attendance, (booked.appointment_id, booked.participant_id))
        s.expunge(row)
        return row


def _state(runtime, booked) -> tuple:  # type: ignore[no-untyped-def]
    """Everything an action could change."""
    with runtime.db.sessions() as s:
        att = s.get(Attendance, (booked.appointment_id, booked.participant_id))
        return (att.response, s.get(Participant, booked.participant_id).withdrawn_at,
                s.get(Appointment, booked.appointment_id).status,
                s.scalar(select(func.count()).select_from(MediatorTask)),
                s.scalar(select(func.count()).select_from(AuditEntry)))


def test_the_link_opens_the_participants_own_appointment_and_nothing_of_anyone_else(client, runtime) -> None:
    booked = book_with_link(runtime, joint=True)
    page = open_link(client, booked.token)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Uw afspraak" in html and "Een gesprek" in html
    assert booked.start.astimezone(AMS).strftime("%H:%M") in html  # their own arrival
    assert "Straat 1" in html  # the address of the location
    with runtime.db.sessions() as s:
        other_case = s.get(Case, booked.world.other_case_id)
        secrets = [s.get(Case, booked.world.case_id).reference, other_case.reference]
    for leaked in secrets + others_details(runtime, [booked.other_id, *booked.world.other_participant_ids]):
        assert leaked not in html, leaked
    assert "bemiddeling" not in html.lower()


def test_the_second_party_sees_their_own_later_arrival(client, runtime) -> None:
    booked = book_with_link(runtime, joint=True)
    from scheduler.links import issue

    with runtime.db.write_session() as s:
        token = issue(s, booked.other_id, appointment_id=booked.appointment_id)
    html = open_link(client, token).get_data(as_text=True)
    assert (booked.start + timedelta(minutes=15)).astimezone(AMS).strftime("%H:%M") in html
    for leaked in others_details(runtime, [booked.participant_id]):
        assert leaked not in html


def test_every_bad_link_gets_the_same_neutral_page(client, runtime, app) -> None:
    booked = book_with_link(runtime)
    unknown = client.get("/a/")  # no cookie at all
    answers = [unknown]
    for token in ("A" * 22, booked.token[:-1] + ("A" if booked.token[-1] != "A" else "B"), "short", "x" * 300):
        answers.append(open_link(client, token))
    with runtime.db.write_session() as s:  # cancelled: the link is revoked
        from scheduler.booking import cancel
        from core.db import utcnow

        cancel(s, booked.appointment_id, None, utcnow())
    answers.append(open_link(client, booked.token))
    bodies = {_without_form_token(a.get_data(as_text=True)) for a in answers}
    assert {a.status_code for a in answers} == {404} and len(bodies) == 1
    assert "030 123 4567" in bodies.pop()  # the office's number, kindly


def test_guessing_links_from_one_address_stops_there_and_a_working_link_elsewhere_still_works(
        client, runtime, app) -> None:
    booked = book_with_link(runtime)
    limit = int(runtime.settings.link_failure_limit_address.split()[0])  # "30 per hour"
    for i in range(limit):
        assert open_link(client, f"{i:022d}").status_code == 404
    stopped = open_link(client, booked.token)  # even a real one, from this address, for now
    assert stopped.status_code == 429 and int(stopped.headers["Retry-After"]) > 0
    assert "030 123 4567" in stopped.get_data(as_text=True)  # the same kind page, the office's number
    other = app.test_client()
    page = other.get(f"/a/{booked.token}", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert page.status_code == 303
    assert other.get("/a/", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200


def test_a_link_of_a_withdrawn_participant_or_long_past_appointment_is_closed(client, runtime, app) -> None:
    booked = book_with_link(runtime)
    neutral = client.get("/a/").get_data(as_text=True)
    with runtime.db.write_session() as s:
        s.get(Appointment, booked.appointment_id).end = booked.start - timedelta(days=30)
        s.get(Appointment, booked.appointment_id).start = booked.start - timedelta(days=30, hours=1)
    page = open_link(client, booked.token)
    assert page.status_code == 404 and _without_form_token(page.get_data(as_text=True)) == _without_form_token(neutral)


def test_gets_change_nothing(client, runtime) -> None:
    booked = book_with_link(runtime)
    open_link(client, booked.token)
    before = _state(runtime, booked)
    for path in ("/a/", "/a/coming", "/a/cannot-come", "/a/stop", "/a/calendar.ics", f"/a/{booked.token}"):
        assert client.get(path).status_code in (200, 303), path
    assert _state(runtime, booked) == before


def test_i_will_come_is_recorded_once(client, runtime) -> None:
    booked = book_with_link(runtime)
    open_link(client, booked.token)
    assert client.post("/a/coming").status_code == 200
    assert _attendance(runtime, booked).response == "coming"
    after_first = _state(runtime, booked)
    client.post("/a/coming")
    assert _state(runtime, booked) == after_first
    assert "U komt" in client.get("/a/").get_data(as_text=True) or "komt" in client.get("/a/").get_data(as_text=True)


def test_i_cannot_come_gives_the_mediator_a_task_with_the_reason_and_moments(client, runtime) -> None:
    booked = book_with_link(runtime)
    open_link(client, booked.token)
    form = client.get("/a/cannot-come").get_data(as_text=True)
    moments = re.findall(r'name="moments" value="([^"]+)"', form)
    assert len(moments) == 10
    answer = client.post("/a/cannot-come", data={"reason": "Ik ben dan op vakantie", "moments": moments[:2]})
    assert answer.status_code == 200
    assert _attendance(runtime, booked).response == "cannot_come"
    with runtime.db.sessions() as s:
        tasks = s.scalars(select(MediatorTask).where(MediatorTask.kind == "participant_cannot_come")).all()
    assert [t.mediator_id for t in tasks] == [booked.world.mediator_ids[0]]
    assert "vakantie" in tasks[0].note and tasks[0].note.count("\n- ") == 2
    client.post("/a/cannot-come", data={"reason": "nog steeds"})
    with runtime.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(MediatorTask)) == 1


def test_a_made_up_moment_is_refused_and_changes_nothing(client, runtime) -> None:
    booked = book_with_link(runtime)
    open_link(client, booked.token)
    before = _state(runtime, booked)
    answer = client.post("/a/cannot-come", data={"moments": ["1999-01-01:morning"]})
    assert answer.status_code == 400 and _state(runtime, booked) == before


def test_stopping_is_the_desks_withdrawal_and_closes_the_link(client, runtime) -> None:
    booked = book_with_link(runtime)
    open_link(client, booked.token)
    explained = client.get("/a/stop").get_data(as_text=True)
    assert "vrijwillig" in explained
    done = client.post("/a/stop", data={"expected": str(booked.appointment_id)})
    assert done.status_code == 200
    with runtime.db.sessions() as s:
        assert s.get(Participant, booked.participant_id).withdrawn_at is not None
        assert s.get(Appointment, booked.appointment_id).status == "cancelled"
    assert client.get("/a/").status_code == 404
    again = client.post("/a/stop", data={"expected": str(booked.appointment_id)})
    assert again.status_code == 404


def test_stopping_asks_again_when_the_appointments_changed_meanwhile(client, runtime) -> None:
    booked = book_with_link(runtime)
    open_link(client, booked.token)
    answer = client.post("/a/stop", data={"expected": ""})
    assert answer.status_code == 409
    with runtime.db.sessions() as s:
        assert s.get(Participant, booked.participant_id).withdrawn_at is None


def test_actions_need_the_form_token_and_our_own_origin(client, runtime) -> None:
    booked = book_with_link(runtime)
    open_link(client, booked.token)
    before = _state(runtime, booked)
    assert client.raw_post("/a/coming").status_code == 400
    assert client.post("/a/coming", headers={"Origin": "https://evil.example"}).status_code == 403
    assert _state(runtime, booked) == before


def test_the_calendar_file_is_their_own_arrival_with_the_appointments_uid(client, runtime) -> None:
    booked = book_with_link(runtime, joint=True)
    open_link(client, booked.token)
    answer = client.get("/a/calendar.ics")
    assert answer.mimetype == "text/calendar"
    event = next(iter(Calendar.from_ical(answer.data).walk("VEVENT")))
    assert event.decoded("dtstart") == booked.start.astimezone(AMS)
    assert str(event["uid"]).startswith(f"appointment-{booked.appointment_id}@")
    assert "bemiddeling" not in answer.get_data(as_text=True).lower()


def test_the_page_speaks_the_participants_language(client, runtime) -> None:
    booked = book_with_link(runtime)
    with runtime.db.write_session() as s:
        s.get(Participant, booked.participant_id).language = "en"
    html = open_link(client, booked.token).get_data(as_text=True)
    assert "Your appointment" in html and 'lang="en"' in html


def test_the_token_never_reaches_the_log(client, runtime, caplog) -> None:
    import logging

    booked = book_with_link(runtime)
    werkzeug = logging.getLogger("werkzeug")
    with caplog.at_level(logging.INFO):
        werkzeug.info('%s - - "%s" %s -', "127.0.0.1", f"GET /a/{booked.token} HTTP/1.1", "303")
    assert booked.token not in caplog.text and "/a/***" in caplog.text


def test_the_leak_check_of_every_rendered_page_would_catch_another_participants_name(client, runtime, app) -> None:
    """tests/support/leak_check.py guards every participant page the suite renders: it must be able to fail."""
    import pytest

    booked = book_with_link(runtime, joint=True)
    with runtime.db.write_session() as s:  # a location named after the other party: the page shows it
        other = s.get(Participant, booked.other_id)
        appointment = s.get(Appointment, booked.appointment_id)
        from scheduler.models import Room

        s.get(Room, appointment.room_id).location.name = other.name
    with pytest.raises(AssertionError, match="another participant"):
        open_link(client, booked.token)


def test_links_that_can_never_work_again_are_purged_and_the_others_kept(client, runtime) -> None:
    from scheduler.links import purge_dead
    from scheduler.participant_models import ParticipantLink
    from core.db import utcnow

    live = book_with_link(runtime)
    from scheduler.booking import book
    from scheduler.links import issue
    from tests.integration.booking_helpers import POLICY, request

    with runtime.db.write_session() as s:  # the other party's own appointment, then moved into the past
        past_row = book(s, request(live.world, live.start + timedelta(hours=3), mediator_ids=(live.world.mediator_ids[1],),
                               participant_ids=(live.other_id,)), None, utcnow(), policy=POLICY)
        issue(s, live.other_id, appointment_id=past_row.id)
        past_row.start, past_row.end = utcnow() - timedelta(days=3), utcnow() - timedelta(days=3, hours=-1)
        past = past_row.id
    grace = timedelta(hours=runtime.settings.participant_link_hours_after)
    with runtime.db.sessions() as s:  # the confirmation texts' own links, and ours
        dead = s.scalar(select(func.count()).where(ParticipantLink.appointment_id == past))
    with runtime.db.write_session() as s:
        assert purge_dead(s, utcnow(), grace) == dead >= 1
    with runtime.db.sessions() as s:
        left = set(s.scalars(select(ParticipantLink.appointment_id)).all())
    assert left == {live.appointment_id}
    assert open_link(client, live.token).status_code == 200
