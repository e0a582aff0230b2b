"""The administration pages' forms: regions, mediators, locations and rooms, staff accounts.

The forms check what a form can (required, lengths, numbers in range, a
phone number or email address through scheduler.contact, times written as
HH:MM-HH:MM); the rules are scheduler.people's (overlapping working hours,
https video links, a unique region, the last admin), and its refusals come
back next to the field they name (`place_problem`).
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from core.models import ROLES
from core.problems import InvalidInput
from scheduler.contact import normalize_email, normalize_phone
from scheduler.labels import WORDS
from scheduler.models import LANGUAGES, Mediator, Region

NONE = ""
WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
            _l("Sunday"))
ROLE_WORDS = {"admin": _l("administrator"), "coordinator": _l("coordinator"), "mediator": _l("mediator")}
assert set(ROLE_WORDS) == set(ROLES)
VIDEO_LINK_ONE_TEXT = 40  # a link this long keeps every appointment text one SMS (tests/unit/test_video_link_...)

_STRETCH = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*[-\u2013\u2014]\s*(\d{1,2})[:.](\d{2})\s*$")
HOURS_EXAMPLE = "09:00-12:00, 13:00-17:00"


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _optional_int(value: Any) -> int | None:
    """A row's id from a select; the empty choice (and anything that is not an id) is None."""
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 10 else None


def _one_line(form: FlaskForm, field: Field) -> None:
    if field.data and any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in field.data):
        raise ValidationError(_l("Write this on one line."))


def _normalized(normalize: Any, message: Any) -> Any:
    """A validator that stores the value as scheduler.contact normalises it (an empty one as None)."""
    def check(form: FlaskForm, field: Field) -> None:
        if not field.data:
            field.data = None
            return
        try:
            field.data = normalize(field.data, field.name)
        except InvalidInput:
            raise ValidationError(message) from None
    return check


PHONE = _normalized(normalize_phone, _l("This is not a valid phone number."))
EMAIL = _normalized(normalize_email, _l("This is not an email address."))


def parse_stretches(text: str | None) -> list[tuple[str, str]]:
    """"09:00-12:00, 13:00-17:00" as [("09:00", "12:00"), ("13:00", "17:00")]; ValueError if not written so."""
    stretches = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        found = _STRETCH.match(part)
        if found is None:
            raise ValueError(part)
        h1, m1, h2, m2 = (int(x) for x in found.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(part)
        stretches.append((f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"))
    return stretches


def show_stretches(hours: Iterable[dict[str, Any]], weekday: int) -> str:
    return ", ".join(f"{h['start']}-{h['end']}" for h in sorted(hours, key=lambda h: str(h["start"]))
                     if h.get("weekday") == weekday)


def _hours(form: FlaskForm, field: Field) -> None:
    try:
        parse_stretches(field.data)
    except ValueError:
        raise ValidationError(_l("Write the times like %(example)s.", example=HOURS_EXAMPLE)) from None


def _choices(words: dict[str, Any], values: Iterable[str]) -> list[SelectChoice]:
    return [SelectChoice(value, words[value]) for value in values]


def region_choices(regions: Iterable[Region]) -> list[SelectChoice]:
    return [SelectChoice(NONE, _l("no region"))] + [SelectChoice(str(r.id), r.name) for r in regions]


def mediator_choices(mediators: Iterable[Mediator]) -> list[SelectChoice]:
    return [SelectChoice(NONE, _l("none"))] + [SelectChoice(str(m.id), m.name) for m in mediators]


def _name(message: Any, maximum: int = 200) -> list[Any]:
    return [DataRequired(message=message), Length(max=maximum), _one_line]


class RegionForm(FlaskForm):
    name = StringField(_l("Name of the region"), filters=[_strip],
                       validators=_name(_l("Give the region a name."), 100))


class MediatorForm(FlaskForm):
    name = StringField(_l("Name"), filters=[_strip], validators=_name(_l("Enter the mediator's name.")))
    email = StringField(_l("Email"), filters=[_strip],
                        validators=[DataRequired(message=_l("Enter an email address.")), Length(max=254),
                                    EMAIL])
    phone = StringField(_l("Phone"), filters=[_strip], validators=[Length(max=40), PHONE])
    region = SelectField(_l("Region"), coerce=_optional_int, validate_choice=True)
    language = SelectField(_l("Language of their emails"), choices=_choices(WORDS["language"], LANGUAGES),
                           default="nl")
    video_url = StringField(_l("Standing video link"), filters=[_strip], validators=[Length(max=500), _one_line])
    buffer_minutes = IntegerField(_l("Minutes kept free after each appointment"), default=0,
                                  validators=[InputRequired(message=_l("Give a number of minutes (0 for none).")),
                                              NumberRange(min=0, max=240,
                                                          message=_l("Between 0 and 240 minutes."))])
    active = BooleanField(_l("Active (can be booked)"), default=True)
    day_0 = StringField(WEEKDAYS[0], filters=[_strip], validators=[Length(max=200), _hours])
    day_1 = StringField(WEEKDAYS[1], filters=[_strip], validators=[Length(max=200), _hours])
    day_2 = StringField(WEEKDAYS[2], filters=[_strip], validators=[Length(max=200), _hours])
    day_3 = StringField(WEEKDAYS[3], filters=[_strip], validators=[Length(max=200), _hours])
    day_4 = StringField(WEEKDAYS[4], filters=[_strip], validators=[Length(max=200), _hours])
    day_5 = StringField(WEEKDAYS[5], filters=[_strip], validators=[Length(max=200), _hours])
    day_6 = StringField(WEEKDAYS[6], filters=[_strip], validators=[Length(max=200), _hours])

    def day_fields(self) -> list[Field]:
        return [getattr(self, f"day_{d}") for d in range(7)]

    def fill(self, mediator: Mediator) -> None:
        """The form as the mediator is now (a GET of the edit page)."""
        self.name.data, self.email.data, self.phone.data = mediator.name, mediator.email, mediator.phone or ""
        self.region.data = mediator.region.id if mediator.region else None
        self.language.data, self.video_url.data = mediator.language, mediator.video_url or ""
        self.buffer_minutes.data, self.active.data = mediator.buffer_minutes, mediator.active
        for day, field in enumerate(self.day_fields()):
            field.data = show_stretches(mediator.working_hours or [], day)

    def values(self) -> dict[str, Any]:
        """The service's field names (scheduler.people.MEDIATOR_FIELDS)."""
        hours = [{"weekday": day, "start": start, "end": end}
                 for day, field in enumerate(self.day_fields()) for start, end in parse_stretches(field.data)]
        return {"name": self.name.data, "email": self.email.data, "phone": self.phone.data or None,
                "region_id": self.region.data, "language": self.language.data,
                "video_url": self.video_url.data or None, "buffer_minutes": self.buffer_minutes.data,
                "active": bool(self.active.data), "working_hours": hours}


class LocationForm(FlaskForm):
    name = StringField(_l("Name"), filters=[_strip], validators=_name(_l("Give the location a name.")))
    address = StringField(_l("Street and number"), filters=[_strip],
                          validators=_name(_l("Enter the address."), 300))
    city = StringField(_l("City"), filters=[_strip], validators=_name(_l("Enter the city."), 100))

    def values(self) -> dict[str, Any]:
        return {"name": self.name.data, "address": self.address.data, "city": self.city.data}


class RoomForm(FlaskForm):
    name = StringField(_l("Name"), filters=[_strip], validators=_name(_l("Give the room a name.")))
    capacity = IntegerField(_l("Seats"), default=4,
                            validators=[InputRequired(message=_l("Give the number of seats.")),
                                        NumberRange(min=1, max=200, message=_l("Between 1 and 200 seats."))])
    separate_waiting_area = BooleanField(_l("Separate waiting area (parties arrive apart)"))
    accessible = BooleanField(_l("Accessible (wheelchair)"))
    active = BooleanField(_l("Active (can be booked)"), default=True)

    def values(self) -> dict[str, Any]:
        return {"name": self.name.data, "capacity": self.capacity.data,
                "separate_waiting_area": bool(self.separate_waiting_area.data),
                "accessible": bool(self.accessible.data), "active": bool(self.active.data)}


class _RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=_choices(ROLE_WORDS, ROLES), default="mediator")
    mediator = SelectField(_l("Signs in as mediator"), coerce=_optional_int, validate_choice=True)


class AccountForm(_RoleForm):
    """An account's role, the mediator it signs in as, and whether it may sign in."""

    active = BooleanField(_l("Active (can sign in)"), default=True)


class NewAccountForm(_RoleForm):
    name = StringField(_l("Name"), filters=[_strip], validators=_name(_l("Enter the person's name.")))
    email = StringField(_l("Email (to sign in)"), filters=[_strip],
                        validators=[DataRequired(message=_l("Enter an email address.")), Length(max=254),
                                    EMAIL])
    language = SelectField(_l("Language of their pages"), choices=_choices(WORDS["language"], LANGUAGES),
                           default="nl")
    password = PasswordField(_l("First password"), validators=[
        DataRequired(message=_l("Give a first password.")),
        Length(min=10, max=200, message=_l("At least 10 characters."))])
