"""A world for calling every route: one row of every kind, on a mediator's own case and on someone else's.

The route-protection test (test_route_protection.py) fills each rule's URL
parameters from here: `Place.own` holds ids the signed-in mediator may see,
`Place.theirs` ids on a case the mediator is not assigned to (and another
mediator's own things), `MISSING` an id that was never used, for routes that
must refuse before looking anything up.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from calendars.feeds import issue_feed_token
from calendars.models import CalendarSource
from core.db import utcnow
from notifications.outbox import NewMessage, add_message
from scheduler import booking, offers
from scheduler.links import issue
from scheduler.models import MediatorTask, Region
from telephony.models import CallbackRequest
from tests import factories as f
from tests.integration.booking_helpers import POLICY, World, future_start, request
from tests.support.public_forms import started_stamp

PASSWORD = "correct horse battery"
MISSING = 987654321
ROLES = ("admin", "coordinator", "mediator")
# Tables a refused call must leave exactly as they were (whole rows, digested by PostgreSQL): all of them but
# the staff sessions and API tokens, whose "last used" moves on every signed-in call.
UNWATCHED = ("staff_sessions", "api_tokens")
REGISTRATION = {"registrant": "self", "name": "Iemand Anders", "phone": "06 12345678", "email": "", "language": "nl",
                "role": "victim", "kind": "crime", "other_party_known": "yes", "contact_call": "y",
                "moment": "morning", "note": "", "website": ""}


@dataclass
class Place:
    """Everything the routes need, and the callers: bearer headers and signed-in clients per role."""

    own: dict[str, Any]
    theirs: dict[str, Any]
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    sessions: dict[str, Any] = field(default_factory=dict)
    feed_token: str = ""
    link_token: str = ""


def _message(s: Any, participant_id: int, key: str) -> int:
    found = add_message(s, NewMessage(key=key, kind="appointment_confirmed", channel="sms",
                                      recipient_kind="participant", to="+31600000000", language="nl", body="text",
                                      subject=None, participant_id=participant_id), utcnow())
    assert found is not None
    return int(found)


def _side(s: Any, mediator: Any, other_case: int, offer_by: Any, tag: str) -> dict[str, Any]:
    """A case of `mediator` with an appointment, an offer, a task, a message, a calendar source, a callback."""
    loc = f.location(s, rooms=1)
    case = f.case(s, [mediator])
    me, _ = [p.id for p in case.participants]
    world = World([mediator.id], [loc.rooms[0].id], loc.id, case.id, [me], other_case, [])
    start = future_start() + timedelta(hours=0 if tag == "own" else 4)
    appointment = booking.book(s, request(world, start), None, utcnow(), policy=POLICY)
    offer = offers.make_offer(s, offer_by, me, [request(world, start + timedelta(days=1, hours=h)) for h in (0, 2)],
                              utcnow(), policy=POLICY, hours=48)
    task = MediatorTask(mediator_id=mediator.id, case_id=case.id, kind="inform_other_party", participant_id=me)
    source = CalendarSource(mediator_id=mediator.id, kind="upload", label="", status="never_synced", busy_count=0,
                            skipped_events=0)
    now = utcnow()
    callback = CallbackRequest(number=f"+316{55500000 + len(tag)}", number_typed_in=False, caller_number=None,
                               language="nl", moment="morning", may_identify=True, wants_confirmation=False,
                               case_id=case.id, status="open", window_start=now, due_at=now + timedelta(hours=3))
    s.add_all([task, source, callback])
    s.flush()
    return {"case_id": case.id, "participant_id": me, "appointment_id": appointment.id, "offer_id": offer.id,
            "task_id": task.id, "source_id": source.id, "callback_id": callback.id,
            "message_id": _message(s, me, f"route-{tag}"), "mediator_id": mediator.id, "room_id": loc.rooms[0].id,
            "location_id": loc.id}


def build_place(app: Any, runtime: Any) -> Place:
    """Rows of every kind, users of every role (the mediator one linked to `own`'s mediator) and their callers."""
    with runtime.db.write_session() as s:
        m_own, m_other = f.mediator(s), f.mediator(s)
        headers: dict[str, dict[str, str]] = {}
        users: dict[str, Any] = {}
        for role in ROLES:
            users[role], headers[role] = f.staff(s, role, m_own if role == "mediator" else None)
        other_user, _ = f.staff(s, "mediator", m_other)
        own = _side(s, m_own, 0, users["coordinator"], "own")
        theirs = _side(s, m_other, own["case_id"], users["coordinator"], "theirs")
        region = Region(name="Regio Route")
        s.add(region)
        s.flush()
        for side, user in ((own, users["mediator"]), (theirs, other_user)):
            side.update(region_id=region.id, user_id=user.id, owner_id=side["mediator_id"], kind="mediators",
                        call_id=MISSING, turn=1, action="claim", token="garbage-token", filename="nothing.css")
        feed = issue_feed_token(s, mediator_id=m_own.id)
        link = issue(s, own["participant_id"], appointment_id=own["appointment_id"])
        emails = {role: users[role].email for role in ROLES}
    answer = app.test_client().post("/aanmelden", data={**REGISTRATION, "started": started_stamp(app)})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    with runtime.db.sessions() as s:
        registration = s.execute(text("SELECT max(id) FROM registrations")).scalar_one()
    own["registration_id"] = theirs["registration_id"] = registration
    place = Place(own, theirs, headers, feed_token=feed, link_token=link)
    for role in ROLES:
        client = app.test_client()
        signed = client.post("/login", data={"email": emails[role], "password": PASSWORD})
        assert signed.status_code == 302, signed.get_data(as_text=True)
        place.sessions[role] = client
    return place


def snapshot(runtime: Any) -> dict[str, str]:
    """A digest of every watched table's rows, to show a refused call changed nothing."""
    from composition import metadata

    watched = [t.name for t in metadata().sorted_tables if t.name not in UNWATCHED]
    with runtime.db.sessions() as s:
        return {t: s.execute(text(f"SELECT count(*) || ':' || coalesce(md5(string_agg(r::text, ',' ORDER BY r::text)),"
                                  f" '') FROM {t} r")).scalar_one() for t in watched}


def url_for_rule(rule: Any, values: dict[str, Any], static_files: dict[str, str]) -> str:
    """The rule's path with each parameter from `values` (a static rule gets a file its folder really has)."""
    args = {name: values.get(name, MISSING) for name in rule.arguments}
    if "filename" in args:
        args["filename"] = static_files.get(rule.endpoint, "nothing.css")
    path = rule.rule
    for name, value in args.items():
        path = re.sub(rf"<(?:[a-z]+(?:\([^)]*\))?:)?{name}>", str(value), path)
    assert "<" not in path, f"{rule.rule}: a parameter this test does not know how to fill"
    return path


def static_files(app: Any) -> dict[str, str]:
    """One real file per static endpoint (the app's own and each blueprint's)."""
    from pathlib import Path

    found: dict[str, str] = {}
    folders = {"static": app.static_folder}
    folders.update({f"{name}.static": bp.static_folder for name, bp in app.blueprints.items() if bp.static_folder})
    for endpoint, folder in folders.items():
        files = sorted(p for p in Path(folder).rglob("*") if p.is_file()) if folder and Path(folder).is_dir() else []
        if files:
            found[endpoint] = files[0].relative_to(folder).as_posix()
    return found
