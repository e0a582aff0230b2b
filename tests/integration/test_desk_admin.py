"""Administration pages: regions, mediators, locations and rooms (the office), accounts and roles (admins only).

Each form: the happy path changes what it should (through scheduler.people,
audited); an invalid post answers 400 with the error next to the field and
changes nothing; a role that may not gets 403. Real PostgreSQL, the Flask
test client signed in as staff.
"""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from core.auth import check_password
from core.models import AuditEntry, User
from scheduler import people
from scheduler.models import Location, Mediator, Region, Room
from tests import factories

PASSWORD = "correct horse battery"
HOURS = [{"weekday": 0, "start": "09:00", "end": "12:00"}, {"weekday": 0, "start": "13:00", "end": "17:00"}]


def sign_in(client: Any, user: User) -> None:
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code in (302, 303), response.get_data(as_text=True)


@pytest.fixture
def world(runtime: Any) -> dict[str, Any]:
    with runtime.db.write_session() as s:
        region = Region(name="Utrecht")
        s.add(region)
        mediator = factories.mediator(s, name="Anouk de Vries")
        place = factories.location(s, rooms=1, name="Huis aan de Gracht")
        admin = factories.staff(s, "admin")[0]
        coordinator = factories.staff(s, "coordinator")[0]
        mediator_user = factories.staff(s, "mediator", mediator)[0]
        for user in (admin, coordinator, mediator_user):
            user.language = "en"
        s.flush()
        return {"region": region.id, "mediator": mediator.id, "location": place.id, "room": place.rooms[0].id,
                "admin": admin, "coordinator": coordinator, "mediator_user": mediator_user}


def _one(runtime: Any, model: Any, row_id: int) -> Any:
    with runtime.db.session() as s:
        row = s.get(model, row_id)
        if isinstance(row, Mediator):
            _ = row.region
        return row


def _count(runtime: Any, model: Any) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _audited(runtime: Any, action: str) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)) or 0


def _error(html: str, field_id: str, words: str) -> None:
    marker = f'<p class="field-error" id="{field_id}-error">'
    assert marker in html, html[html.find("<main"):][:3000]
    assert words in html.split(marker, 1)[1].split("</p>", 1)[0]


# --- who may ------------------------------------------------------------------------------------

def test_the_office_opens_the_administration_and_mediators_do_not(client: Any, world: dict[str, Any]) -> None:
    assert client.get("/admin").status_code == 302  # signed out: the sign-in page
    sign_in(client, world["admin"])
    html = client.get("/admin").get_data(as_text=True)
    assert 'href="/admin/users"' in html and "Who does what here" in html and 'href="/admin"' in html
    sign_in(client, world["coordinator"])
    page = client.get("/admin")
    assert page.status_code == 200 and 'href="/admin/users"' not in page.get_data(as_text=True)
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users/new", data={"name": "X"}).status_code == 403
    sign_in(client, world["mediator_user"])
    for path in ("/admin", "/admin/regions", "/admin/mediators", "/admin/locations", "/admin/users",
                 f"/admin/mediators/{world['mediator']}", f"/admin/rooms/{world['room']}"):
        assert client.get(path).status_code == 403, path
    assert client.post("/admin/regions", data={"new-name": "Zwolle"}).status_code == 403
    assert _count_regions(client) == 1
    assert 'href="/admin"' not in client.get("/").get_data(as_text=True)


def _count_regions(client: Any) -> int:
    runtime = client.application.extensions["pendel"]
    return _count(runtime, Region)


def test_who_is_on_duty_is_listed(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    with runtime.db.write_session() as s:
        coordinator = s.get(User, world["coordinator"].id)
        coordinator.phone, coordinator.on_duty = "+31612345678", True
    sign_in(client, world["admin"])
    html = client.get("/admin").get_data(as_text=True)
    assert world["coordinator"].name in html.split("On duty now", 1)[1]
    assert 'href="/duty"' in html


# --- regions -------------------------------------------------------------------------------------

def test_regions_are_added_and_renamed(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["coordinator"])
    assert client.post("/admin/regions", data={"new-name": "  Midden  Nederland "}).status_code == 303
    with runtime.db.session() as s:
        assert sorted(s.scalars(select(Region.name))) == ["Midden Nederland", "Utrecht"]
    assert _audited(runtime, "region.created") == 1
    rid = world["region"]
    assert client.post(f"/admin/regions/{rid}", data={f"r{rid}-name": "Utrecht-Zuid"}).status_code == 303
    assert _one(runtime, Region, rid).name == "Utrecht-Zuid" and _audited(runtime, "region.renamed") == 1


@pytest.mark.parametrize("name, words", [("", "Give the region a name."),
                                         ("utrecht", "There is already a region with this name."),
                                         ("x" * 101, "Field cannot be longer than 100 characters.")])
def test_a_bad_region_name_is_refused_next_to_the_field(client: Any, runtime: Any, world: dict[str, Any],
                                                        name: str, words: str) -> None:
    sign_in(client, world["coordinator"])
    response = client.post("/admin/regions", data={"new-name": name})
    assert response.status_code == 400
    _error(response.get_data(as_text=True), "new-name", words)
    assert _count(runtime, Region) == 1


def test_renaming_to_a_taken_name_changes_nothing(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    with runtime.db.write_session() as s:
        other = Region(name="Zwolle")
        s.add(other)
        s.flush()
        other_id = other.id
    sign_in(client, world["coordinator"])
    response = client.post(f"/admin/regions/{other_id}", data={f"r{other_id}-name": "Utrecht"})
    assert response.status_code == 400
    _error(response.get_data(as_text=True), f"r{other_id}-name", "There is already a region with this name.")
    assert _one(runtime, Region, other_id).name == "Zwolle"


# --- mediators -----------------------------------------------------------------------------------

def _mediator_form(**changes: str) -> dict[str, str]:
    form = {"name": "Bram Jansen", "email": "bram@example.org", "phone": "06 1234 5678", "region": "",
            "language": "en", "video_url": "https://meet.jit.si/pendel-bram", "buffer_minutes": "15",
            "active": "y", "day_0": "09:00-12:00, 13:00-17:00", "day_2": "9.30-16.00"}
    form.update(changes)
    return form


def test_a_mediator_is_added_with_region_hours_language_and_video_link(client: Any, runtime: Any,
                                                                       world: dict[str, Any]) -> None:
    sign_in(client, world["coordinator"])
    assert client.get("/admin/mediators/new").status_code == 200
    response = client.post("/admin/mediators/new", data=_mediator_form(region=str(world["region"])))
    assert response.status_code == 303, response.get_data(as_text=True)
    with runtime.db.session() as s:
        bram = s.scalar(select(Mediator).where(Mediator.name == "Bram Jansen"))
        assert bram is not None and bram.region is not None and bram.region.id == world["region"]
        assert (bram.email, bram.phone, bram.language, bram.video_url, bram.buffer_minutes, bram.active) == (
            "bram@example.org", "+31612345678", "en", "https://meet.jit.si/pendel-bram", 15, True)
        assert bram.working_hours == HOURS + [{"weekday": 2, "start": "09:30", "end": "16:00"}]
    assert _audited(runtime, "mediator.created") == 1
    listing = client.get("/admin/mediators").get_data(as_text=True)
    assert "Bram Jansen" in listing and "Monday: 09:00-12:00, 13:00-17:00" in listing and "Utrecht" in listing


@pytest.mark.parametrize("changes, field_id, words", [
    ({"day_1": "09:00-12:00, 11:00-13:00"}, "day_1", "These times overlap."),
    ({"day_3": "17:00-09:00"}, "day_3", "Each end time must be after its start."),
    ({"day_4": "9 to 5"}, "day_4", "Write the times like 09:00-12:00, 13:00-17:00."),
    ({"day_4": "25:00-26:00"}, "day_4", "Write the times like"),
    ({"video_url": "http://meet.example.org/x"}, "video_url", "Give a link that starts with https://."),
    ({"email": "bram at example"}, "email", "This is not an email address."),
    ({"phone": "12ab"}, "phone", "This is not a valid phone number."),
    ({"name": ""}, "name", "Enter the mediator's name."),
    ({"buffer_minutes": "300"}, "buffer_minutes", "Between 0 and 240 minutes."),
    ({"language": "de"}, "language", "Not a valid choice"),
    ({"region": "999"}, "region", "Not a valid choice"),
])
def test_an_invalid_mediator_is_refused_next_to_the_field_and_nothing_is_added(
        client: Any, runtime: Any, world: dict[str, Any], changes: dict[str, str], field_id: str,
        words: str) -> None:
    sign_in(client, world["coordinator"])
    before = _count(runtime, Mediator)
    response = client.post("/admin/mediators/new", data=_mediator_form(**changes))
    assert response.status_code == 400
    _error(response.get_data(as_text=True), field_id, words)
    assert _count(runtime, Mediator) == before and _audited(runtime, "mediator.created") == 0


def test_a_mediator_is_changed_and_an_invalid_change_changes_nothing(client: Any, runtime: Any,
                                                                     world: dict[str, Any]) -> None:
    sign_in(client, world["coordinator"])
    path = f"/admin/mediators/{world['mediator']}"
    page = client.get(path).get_data(as_text=True)
    assert 'value="Anouk de Vries"' in page and 'value="09:00-17:00"' in page  # the form as the row is
    bad = client.post(path, data=_mediator_form(name="Anouk", day_0="08:00-18:00, 17:00-19:00"))
    assert bad.status_code == 400
    _error(bad.get_data(as_text=True), "day_0", "These times overlap.")
    unchanged = _one(runtime, Mediator, world["mediator"])
    assert unchanged.name == "Anouk de Vries" and unchanged.language == "nl" and unchanged.region is None
    good = client.post(path, data=_mediator_form(name="Anouk", region=str(world["region"]), active=""))
    assert good.status_code == 303
    changed = _one(runtime, Mediator, world["mediator"])
    assert (changed.name, changed.language, changed.active, changed.region.id) == (
        "Anouk", "en", False, world["region"])
    assert client.get("/admin/mediators/999999").status_code == 404


# --- locations and rooms ---------------------------------------------------------------------------

def test_a_location_and_its_rooms(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["coordinator"])
    created = client.post("/admin/locations/new", data={"name": "Het Pand", "address": "Oudegracht 1",
                                                        "city": "Utrecht"})
    assert created.status_code == 303
    with runtime.db.session() as s:
        place = s.scalar(select(Location).where(Location.name == "Het Pand"))
    assert created.headers["Location"].endswith(f"/admin/locations/{place.id}")
    room = client.post(f"/admin/locations/{place.id}/rooms/new",
                       data={"name": "Kamer 1", "capacity": "6", "separate_waiting_area": "y", "active": "y"})
    assert room.status_code == 303
    with runtime.db.session() as s:
        kamer = s.scalar(select(Room).where(Room.name == "Kamer 1"))
        assert (kamer.location_id, kamer.capacity, kamer.separate_waiting_area, kamer.accessible, kamer.active) == (
            place.id, 6, True, False, True)
    changed = client.post(f"/admin/rooms/{kamer.id}", data={"name": "Kamer 1", "capacity": "6", "accessible": "y"})
    assert changed.status_code == 303
    kamer = _one(runtime, Room, kamer.id)
    assert (kamer.accessible, kamer.active, kamer.separate_waiting_area) == (True, False, False)
    renamed = client.post(f"/admin/locations/{place.id}", data={"name": "Het Pand", "address": "Oudegracht 2",
                                                                "city": "Utrecht"})
    assert renamed.status_code == 303 and _one(runtime, Location, place.id).address == "Oudegracht 2"
    assert "Kamer 1" in client.get("/admin/locations").get_data(as_text=True)
    assert {_audited(runtime, a) for a in ("location.created", "room.created", "room.updated",
                                           "location.updated")} == {1}


@pytest.mark.parametrize("data, field_id, words", [
    ({"name": "", "capacity": "4"}, "name", "Give the room a name."),
    ({"name": "Kamer 2", "capacity": "0"}, "capacity", "Between 1 and 200 seats."),
    ({"name": "Kamer 2", "capacity": ""}, "capacity", "Give the number of seats."),
])
def test_an_invalid_room_changes_nothing(client: Any, runtime: Any, world: dict[str, Any], data: dict[str, str],
                                         field_id: str, words: str) -> None:
    sign_in(client, world["coordinator"])
    response = client.post(f"/admin/locations/{world['location']}/rooms/new", data=data)
    assert response.status_code == 400
    _error(response.get_data(as_text=True), field_id, words)
    assert _count(runtime, Room) == 1
    edit = client.post(f"/admin/rooms/{world['room']}", data=data)
    assert edit.status_code == 400 and _one(runtime, Room, world["room"]).capacity == 4


def test_an_invalid_location_changes_nothing(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["coordinator"])
    response = client.post(f"/admin/locations/{world['location']}", data={"name": "X", "address": "", "city": "U"})
    assert response.status_code == 400
    _error(response.get_data(as_text=True), "address", "Enter the address.")
    assert _one(runtime, Location, world["location"]).name == "Huis aan de Gracht"


# --- accounts and roles -----------------------------------------------------------------------------

def _account(**changes: str) -> dict[str, str]:
    form = {"name": "Chris Bakker", "email": "Chris@Example.org", "role": "mediator", "mediator": "",
            "language": "nl", "password": "a long first password"}
    form.update(changes)
    return form


def test_an_admin_makes_an_account_linked_to_a_mediator(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    with runtime.db.write_session() as s:
        free = factories.mediator(s, name="Chris Bakker")
        free_id = free.id
    sign_in(client, world["admin"])
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert "Chris Bakker" in page and "Anouk de Vries" not in page.split('id="mediator"', 1)[1].split("</select>")[0]
    response = client.post("/admin/users/new", data=_account(mediator=str(free_id)))
    assert response.status_code == 303, response.get_data(as_text=True)
    with runtime.db.session() as s:
        chris = s.scalar(select(User).where(User.email == "chris@example.org"))
        assert chris is not None and chris.role == "mediator" and chris.active and chris.language == "nl"
        assert check_password(chris, "a long first password")
        assert s.get(Mediator, free_id).user_id == chris.id
    assert _audited(runtime, "user.created") == 1 and _audited(runtime, "user.linked") == 1
    assert "chris@example.org" in client.get("/admin/users").get_data(as_text=True)


@pytest.mark.parametrize("changes, field_id, words", [
    ({"password": "too short"}, "password", "At least 10 characters."),
    ({"email": "nobody"}, "email", "This is not an email address."),
    ({"name": ""}, "name", "Enter the person's name."),
    ({"role": "owner"}, "role", "Not a valid choice"),
])
def test_an_invalid_account_is_refused_next_to_the_field(client: Any, runtime: Any, world: dict[str, Any],
                                                         changes: dict[str, str], field_id: str, words: str) -> None:
    sign_in(client, world["admin"])
    before = _count(runtime, User)
    response = client.post("/admin/users/new", data=_account(**changes))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    _error(html, field_id, words)
    assert "a long first password" not in html  # a password is never sent back
    assert _count(runtime, User) == before


def test_an_email_in_use_is_refused_and_nothing_is_made(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["admin"])
    before = _count(runtime, User)
    response = client.post("/admin/users/new", data=_account(email=world["coordinator"].email.upper()))
    assert response.status_code == 400
    _error(response.get_data(as_text=True), "email", "There is already an account with this email address.")
    assert _count(runtime, User) == before


def test_an_admin_changes_a_role_links_and_deactivates(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["admin"])
    uid = world["coordinator"].id
    assert client.post(f"/admin/users/{uid}", data={"role": "admin", "active": "y", "mediator": ""}).status_code == 303
    assert _one(runtime, User, uid).role == "admin"
    # Deactivated: signing in fails, the account goes off duty.
    with runtime.db.write_session() as s:
        s.get(User, uid).phone, s.get(User, uid).on_duty = "+31612345678", True
    assert client.post(f"/admin/users/{uid}", data={"role": "admin", "mediator": ""}).status_code == 303
    gone = _one(runtime, User, uid)
    assert (gone.active, gone.on_duty) == (False, False)
    assert _audited(runtime, "user.role_changed") == 1 and _audited(runtime, "user.deactivated") == 1
    other = client.application.test_client()
    refused = other.post("/login", data={"email": world["coordinator"].email, "password": PASSWORD})
    assert refused.status_code not in (302, 303)


def test_an_admin_cannot_lock_the_office_out(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["admin"])
    uid = world["admin"].id
    own = client.post(f"/admin/users/{uid}", data={"role": "admin", "mediator": ""})  # deactivate themselves
    assert own.status_code == 400
    _error(own.get_data(as_text=True), "active", "You cannot deactivate your own account.")
    demote = client.post(f"/admin/users/{uid}", data={"role": "coordinator", "active": "y", "mediator": ""})
    assert demote.status_code == 400
    _error(demote.get_data(as_text=True), "role", "The office needs at least one active administrator.")
    assert (_one(runtime, User, uid).role, _one(runtime, User, uid).active) == ("admin", True)


def test_a_mediator_with_an_account_cannot_be_linked_twice(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["admin"])
    uid = world["coordinator"].id
    response = client.post(f"/admin/users/{uid}", data={"role": "coordinator", "active": "y",
                                                        "mediator": str(world["mediator"])})
    assert response.status_code == 400  # not offered: another account signs in as this mediator
    assert _one(runtime, Mediator, world["mediator"]).user_id == world["mediator_user"].id


# --- the services the pages call (scheduler.people), for every caller -------------------------------

def test_people_services_keep_their_rules(runtime: Any, world: dict[str, Any]) -> None:
    from core.problems import Conflict, Forbidden, InvalidInput

    with runtime.db.write_session() as s:
        admin = s.get(User, world["admin"].id)
        coordinator = s.get(User, world["coordinator"].id)
        with pytest.raises(InvalidInput) as overlap:
            people.update_mediator(s, admin, world["mediator"], {"working_hours": [
                {"weekday": 4, "start": "09:00", "end": "12:00"}, {"weekday": 4, "start": "11:59", "end": "13:00"}]})
        assert overlap.value.errors[0]["weekday"] == "4" and overlap.value.errors[0]["code"] == "overlap"
        with pytest.raises(InvalidInput):
            people.update_mediator(s, admin, world["mediator"], {"language": "fr"})
        with pytest.raises(InvalidInput):
            people.update_mediator(s, admin, world["mediator"], {"video_url": "javascript:alert(1)"})
        with pytest.raises(InvalidInput):
            people.update_mediator(s, admin, world["mediator"], {"region_id": 999999})
        with pytest.raises(Forbidden):
            people.create_account(s, coordinator, "x@example.org", "X", "admin", "long enough password")
        with pytest.raises(Forbidden):
            people.change_role(s, coordinator, coordinator.id, "admin")
        with pytest.raises(Conflict):
            people.create_region(s, admin, " UTRECHT ")
        m = people.update_mediator(s, admin, world["mediator"], {"video_url": " https://video.example.org/a ",
                                                                  "region_id": world["region"]})
        assert m.video_url == "https://video.example.org/a" and m.region.name == "Utrecht"
        assert people.update_mediator(s, admin, world["mediator"], {"region_id": None}).region is None


def test_the_pages_are_dutch_by_default(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    with runtime.db.write_session() as s:
        s.get(User, world["admin"].id).language = "nl"
    sign_in(client, world["admin"])
    html = client.get("/admin").get_data(as_text=True)
    assert "Beheer" in html and "Wie doet hier wat" in html and "Nu bereikbaar" in html and "Who does" not in html
    html = client.get(f"/admin/mediators/{world['mediator']}").get_data(as_text=True)
    assert "Werktijden" in html and "Maandag" in html and "Vaste videolink" in html
