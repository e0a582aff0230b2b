"""Administration: regions, mediators, locations and rooms, staff accounts, and who is on duty.

Who may do what (also said on the page):
- the office (admins and coordinators) keeps regions, mediators (region,
  working hours, language of their emails, standing video link) and
  locations with their rooms;
- only an admin manages staff accounts: creates them, changes roles,
  deactivates them and links an account to a mediator (a coordinator could
  otherwise make themselves an admin);
- mediators see none of it (403).

Every write goes through scheduler.people (which checks the rules and
leaves an audit entry), in one write transaction: a refused post changes
nothing and shows the refusal next to the field it names.
"""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wtforms import Field

from core.auth import login_required
from core.models import User
from core.problems import Problem
from core.runtime import db_session
from scheduler import people
from scheduler.api import writing
from scheduler.desk_admin_forms import (HOURS_EXAMPLE, ROLE_WORDS, VIDEO_LINK_ONE_TEXT, WEEKDAYS, AccountForm,
                                        LocationForm, MediatorForm, NewAccountForm, RegionForm, RoomForm,
                                        mediator_choices, region_choices, show_stretches)
from scheduler.models import Location, Mediator, Region, Room

desk_admin = Blueprint("desk_admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static",
                       static_url_path="/static/desk_admin")

OFFICE = ("admin", "coordinator")

# A refusal of scheduler.people, by field and message, in words; the form field it belongs to.
SERVICE_FIELDS = {"region_id": "region", "mediator_id": "mediator"}
SERVICE_WORDS = {
    ("video_url", "must be an https:// link"): _l("Give a link that starts with https://."),
    ("video_url", f"must be one link of at most {people.VIDEO_URL_MAX} characters"):
        _l("Give one link of at most %(num)d characters, without spaces.", num=people.VIDEO_URL_MAX),
    ("name", "is already in use"): _l("There is already a region with this name."),
    ("email", "is already in use"): _l("There is already an account with this email address."),
    ("role", "is the last active admin"): _l("The office needs at least one active administrator."),
    ("active", "is the last active admin"): _l("The office needs at least one active administrator."),
    ("active", "is your own account"): _l("You cannot deactivate your own account."),
    ("mediator_id", "is linked to another account"): _l("This mediator already signs in with another account."),
    ("password", "password must be at least 10 characters"): _l("At least 10 characters."),
    ("name", "is required"): _l("Fill this in."),
    ("email", "email is not an email address"): _l("This is not an email address."),
}
HOURS_WORDS = {"overlap": _l("These times overlap."), "time_order": _l("Each end time must be after its start."),
               "format": _l("Write the times like %(example)s.", example=HOURS_EXAMPLE)}


def place_problem(form: FlaskForm, exc: Problem) -> None:
    """A service's refusal next to the field it names; what names no field of the form goes to a flash."""
    for error in exc.errors or [{"field": "", "message": exc.detail}]:
        name, message = error.get("field", ""), error.get("message", "")
        if name == "working_hours":
            weekday = error.get("weekday")
            name = f"day_{weekday}" if weekday is not None else "day_0"
            sentence: Any = HOURS_WORDS.get(error.get("code", ""), HOURS_WORDS["format"])
        else:
            sentence = SERVICE_WORDS.get((name, message), _l("This value was not accepted."))
            name = SERVICE_FIELDS.get(name, name)
        field = getattr(form, name, None) if name else None
        if isinstance(field, Field):
            field.errors = list(field.errors) + [str(sentence)]
        else:
            flash(str(sentence), "error")


def _save(form: FlaskForm, write: Callable[[Session, User], Any]) -> bool:
    """Run one write through the services; False (nothing changed, errors on the form) when refused."""
    try:
        with writing() as (session, actor):
            write(session, actor)
    except Problem as exc:
        place_problem(form, exc)
        return False
    return True


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(f"scheduler/desk/admin/{template}", **context), status


def _for(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Signed in (else the sign-in page), and one of `roles` (else 403 with a sentence)."""
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if g.user.role not in roles:
                return _page("forbidden.html", 403, admin_only=roles == ("admin",))
            return view(*args, **kwargs)
        return login_required(guarded)
    return decorate


office = _for(*OFFICE)
admin_only = _for("admin")


def _get(model: Any, row_id: int) -> Any:
    row = db_session().get(model, row_id)
    if row is None:
        abort(404)
    return row


def _regions(session: Session) -> list[Region]:
    return list(session.scalars(select(Region).order_by(Region.name)))


# --- the overview ------------------------------------------------------------------------------

@desk_admin.get("")
@office
def index() -> Any:
    session = db_session()
    count = lambda model: session.scalar(select(func.count()).select_from(model)) or 0  # noqa: E731
    on_duty = list(session.scalars(select(User).where(User.on_duty.is_(True), User.active.is_(True),
                                                      User.phone.is_not(None)).order_by(User.name)))
    duty_url = url_for("callback_pages.duty") if "callback_pages.duty" in current_app.view_functions else None
    return _page("index.html", counts={"regions": count(Region), "mediators": count(Mediator),
                                       "locations": count(Location), "rooms": count(Room), "users": count(User)},
                 on_duty=on_duty, duty_url=duty_url)


# --- regions -----------------------------------------------------------------------------------

def _regions_page(add: RegionForm | None = None, rename: tuple[int, RegionForm] | None = None,
                  status: int = 200) -> Any:
    session = db_session()
    regions = _regions(session)
    forms = {r.id: RegionForm(formdata=None, prefix=f"r{r.id}", name=r.name) for r in regions}
    if rename is not None:
        forms[rename[0]] = rename[1]
    members = dict(session.execute(select(Region.id, func.count(Mediator.id)).join(Mediator.region)
                                   .group_by(Region.id)).all())
    return _page("regions.html", status, regions=regions, forms=forms, members=members,
                 add=add or RegionForm(formdata=None, prefix="new"))


@desk_admin.route("/regions", methods=["GET", "POST"])
@office
def regions() -> Any:
    form = RegionForm(prefix="new")
    if form.is_submitted():
        if form.validate() and _save(form, lambda s, actor: people.create_region(s, actor, form.name.data)):
            flash(_("Region %(name)s added.", name=form.name.data), "success")
            return redirect(url_for(".regions"), 303)
        return _regions_page(add=form, status=400)
    return _regions_page()


@desk_admin.post("/regions/<int:region_id>")
@office
def rename_region(region_id: int) -> Any:
    _get(Region, region_id)
    form = RegionForm(prefix=f"r{region_id}")
    if form.validate() and _save(form, lambda s, actor: people.rename_region(s, actor, region_id, form.name.data)):
        flash(_("Region renamed to %(name)s.", name=form.name.data), "success")
        return redirect(url_for(".regions"), 303)
    return _regions_page(rename=(region_id, form), status=400)


# --- mediators ---------------------------------------------------------------------------------

@desk_admin.get("/mediators")
@office
def mediators() -> Any:
    session = db_session()
    rows = list(session.scalars(select(Mediator).order_by(Mediator.active.desc(), Mediator.name)))
    accounts = dict(session.execute(select(User.id, User.name).where(
        User.id.in_({m.user_id for m in rows if m.user_id}))).all())
    def hours_of(m: Mediator) -> list[tuple[Any, str]]:
        return [(WEEKDAYS[day], text) for day in range(7) if (text := show_stretches(m.working_hours or [], day))]

    return _page("mediators.html", mediators=rows, accounts=accounts, hours_of=hours_of)


def _mediator_form(session: Session, mediator: Mediator | None) -> MediatorForm:
    form = MediatorForm()
    form.region.choices = region_choices(_regions(session))
    if mediator is not None and not form.is_submitted():
        form.fill(mediator)
    return form


def _mediator_page(form: MediatorForm, mediator: Mediator | None, status: int = 200) -> Any:
    return _page("mediator.html", status, form=form, mediator=mediator, hours_example=HOURS_EXAMPLE,
                 one_text=VIDEO_LINK_ONE_TEXT)


@desk_admin.route("/mediators/new", methods=["GET", "POST"])
@office
def new_mediator() -> Any:
    form = _mediator_form(db_session(), None)
    if form.is_submitted():
        created: list[Mediator] = []
        if form.validate() and _save(form, lambda s, actor: created.append(
                people.create_mediator(s, actor, form.values()))):
            flash(_("Mediator %(name)s added.", name=form.name.data), "success")
            return redirect(url_for(".mediators"), 303)
        return _mediator_page(form, None, 400)
    return _mediator_page(form, None)


@desk_admin.route("/mediators/<int:mediator_id>", methods=["GET", "POST"])
@office
def mediator(mediator_id: int) -> Any:
    found = _get(Mediator, mediator_id)
    form = _mediator_form(db_session(), found)
    if form.is_submitted():
        if form.validate() and _save(form, lambda s, actor: people.update_mediator(
                s, actor, mediator_id, form.values())):
            flash(_("The changes to %(name)s are saved.", name=form.name.data), "success")
            return redirect(url_for(".mediators"), 303)
        return _mediator_page(form, found, 400)
    return _mediator_page(form, found)


# --- locations and rooms -------------------------------------------------------------------------

@desk_admin.get("/locations")
@office
def locations() -> Any:
    rows = list(db_session().scalars(select(Location).order_by(Location.city, Location.name)))
    return _page("locations.html", locations=rows)


@desk_admin.route("/locations/new", methods=["GET", "POST"])
@office
def new_location() -> Any:
    form = LocationForm()
    if form.is_submitted():
        created: list[Location] = []
        if form.validate() and _save(form, lambda s, actor: created.append(
                people.create_location(s, actor, form.values()))):
            flash(_("Location %(name)s added: add its rooms below.", name=form.name.data), "success")
            return redirect(url_for(".location", location_id=created[0].id), 303)
        return _page("location.html", 400, form=form, location=None)
    return _page("location.html", form=form, location=None)


@desk_admin.route("/locations/<int:location_id>", methods=["GET", "POST"])
@office
def location(location_id: int) -> Any:
    found = _get(Location, location_id)
    form = LocationForm(obj=found)
    if form.is_submitted():
        if form.validate() and _save(form, lambda s, actor: people.update_location(
                s, actor, location_id, form.values())):
            flash(_("The changes to %(name)s are saved.", name=form.name.data), "success")
            return redirect(url_for(".location", location_id=location_id), 303)
        return _page("location.html", 400, form=form, location=found)
    return _page("location.html", form=form, location=found)


@desk_admin.route("/locations/<int:location_id>/rooms/new", methods=["GET", "POST"])
@office
def new_room(location_id: int) -> Any:
    place = _get(Location, location_id)
    form = RoomForm()
    if form.is_submitted():
        if form.validate() and _save(form, lambda s, actor: people.create_room(
                s, actor, {**form.values(), "location_id": location_id})):
            flash(_("Room %(name)s added.", name=form.name.data), "success")
            return redirect(url_for(".location", location_id=location_id), 303)
        return _page("room.html", 400, form=form, room=None, location=place)
    return _page("room.html", form=form, room=None, location=place)


@desk_admin.route("/rooms/<int:room_id>", methods=["GET", "POST"])
@office
def room(room_id: int) -> Any:
    found = _get(Room, room_id)
    form = RoomForm(obj=found)
    if form.is_submitted():
        if form.validate() and _save(form, lambda s, actor: people.update_room(s, actor, room_id, form.values())):
            flash(_("The changes to %(name)s are saved.", name=form.name.data), "success")
            return redirect(url_for(".location", location_id=found.location_id), 303)
        return _page("room.html", 400, form=form, room=found, location=found.location)
    return _page("room.html", form=form, room=found, location=found.location)


# --- staff accounts (admins only) ----------------------------------------------------------------

def _linkable(session: Session, user_id: int | None) -> list[Mediator]:
    """Mediators without an account, and the one this account signs in as."""
    return list(session.scalars(select(Mediator).where(
        (Mediator.user_id.is_(None)) | (Mediator.user_id == user_id)).order_by(Mediator.name)))


@desk_admin.get("/users")
@admin_only
def users() -> Any:
    session = db_session()
    rows = list(session.scalars(select(User).order_by(User.active.desc(), User.name)))
    linked = dict(session.execute(select(Mediator.user_id, Mediator.name).where(Mediator.user_id.is_not(None))).all())
    return _page("users.html", users=rows, linked=linked, role_words=ROLE_WORDS)


@desk_admin.route("/users/new", methods=["GET", "POST"])
@admin_only
def new_user() -> Any:
    session = db_session()
    form = NewAccountForm()
    form.mediator.choices = mediator_choices(_linkable(session, None))
    if form.is_submitted():
        def create(s: Session, actor: User) -> None:
            user = people.create_account(s, actor, form.email.data, form.name.data, form.role.data,
                                         form.password.data, form.language.data)
            if form.mediator.data is not None:
                people.link_account(s, actor, user.id, form.mediator.data)

        if form.validate() and _save(form, create):
            flash(_("Account for %(name)s made. Give them their first password in person.", name=form.name.data),
                  "success")
            return redirect(url_for(".users"), 303)
        form.password.data = ""  # never sent back
        return _page("new_user.html", 400, form=form)
    return _page("new_user.html", form=form)


@desk_admin.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def user(user_id: int) -> Any:
    session = db_session()
    account = _get(User, user_id)
    current = session.scalar(select(Mediator.id).where(Mediator.user_id == user_id))
    form = AccountForm(data={"role": account.role, "active": account.active, "mediator": current})
    form.mediator.choices = mediator_choices(_linkable(session, user_id))
    if form.is_submitted():
        def change(s: Session, actor: User) -> None:
            if form.role.data != account.role:
                people.change_role(s, actor, user_id, form.role.data)
            if bool(form.active.data) != account.active:
                people.set_account_active(s, actor, user_id, bool(form.active.data))
            if form.mediator.data != current:
                people.link_account(s, actor, user_id, form.mediator.data)

        if form.validate() and _save(form, change):
            flash(_("The changes to %(name)s are saved.", name=account.name), "success")
            return redirect(url_for(".users"), 303)
        return _page("user.html", 400, form=form, account=account, role_words=ROLE_WORDS)
    return _page("user.html", form=form, account=account, role_words=ROLE_WORDS)
