"""The case pages' forms: filters, opening a case, a participant, the case's details.

The forms check what a form can (a choice from the list, a length, a phone
number through scheduler.contact, the same check the API's models use); the
rules between fields (texts need a mobile number, a mediator with
appointments ahead stays) are casework's, and its refusals come back next
to the field they name (`service_error`).
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from flask_babel import LazyString, get_translations, gettext, lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import BooleanField, Field, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import Select, html_params

from core.problems import InvalidInput
from scheduler.contact import normalize_email, normalize_phone
from scheduler.labels import WORDS
from scheduler.models import CASE_KINDS, CASE_STATUSES, LANGUAGES, PARTICIPANT_ROLES, Mediator, Region

NONE = ""  # the empty choice of an optional select


class QuickSelect(Select):
    """WTForms' select, the same HTML written in one loop.

    The case pages' selects hold every mediator: WTForms writes each option
    through html_params and Markup, most of a filter bar's cost. Options with
    attributes of their own (render_kw) go the usual way; these forms have
    neither those nor option groups.
    """

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        for name in self.validation_attrs:
            if name not in kwargs and getattr(field.flags, name):
                kwargs[name] = getattr(field.flags, name)
        options, catalog = [], get_translations()
        for choice in field.iter_choices():
            if choice.render_kw:
                options.append(self.render_option(choice))
                continue
            value = str(choice.value) if isinstance(choice.value, bool) else choice.value
            label = translated(choice.label, catalog) or choice.value
            options.append(f'<option {"selected " if choice.selected else ""}value="{escape(value)}">'
                           f'{escape(label)}</option>')
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{''.join(options)}</select>")


def translated(words: Any, catalog: Any) -> Any:
    """A lazy_gettext msgid in this page's catalog (looked up once for a whole select or history), as markup
    like Flask-Babel's own lazy strings are. One with variables (a mediator's name) becomes plain text, to be
    escaped: Flask-Babel would pass the name into the page unescaped. Anything else as it is."""
    if isinstance(words, LazyString) and words._func is gettext and len(words._args) == 1:
        if words._kwargs:
            return str(words)
        return Markup(catalog.ugettext(words._args[0]))
    return words


def _select(label: Any, **kwargs: Any) -> SelectField:
    return SelectField(label, widget=QuickSelect(), **kwargs)


def _choices(kind: str, values: Iterable[str], empty: Any = None) -> list[SelectChoice]:
    first = [SelectChoice(NONE, empty)] if empty is not None else []
    return first + [SelectChoice(value, WORDS[kind][value]) for value in values]


def _optional_int(value: Any) -> int | None:
    """A row's id from a select; the empty choice is None (and so is anything that is not a number)."""
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 10 else None


def mediator_choices(mediators: Iterable[Mediator], empty: Any) -> list[SelectChoice]:
    return [SelectChoice(NONE, empty)] + [
        SelectChoice(str(m.id), m.name if m.active else _l("%(name)s (inactive)", name=m.name)) for m in mediators]


def region_choices(regions: Iterable[Region], empty: Any) -> list[SelectChoice]:
    return [SelectChoice(NONE, empty)] + [SelectChoice(str(r.id), r.name) for r in regions]


class Normalized:
    """Checked and normalised by scheduler.contact, as the API's models do (a phone number to E.164, an address
    trimmed); empty means none."""

    def __init__(self, normalize: Callable[[str, str], str], message: Any) -> None:
        self.normalize, self.message = normalize, message

    def __call__(self, form: FlaskForm, field: Field) -> None:
        raw = (field.data or "").strip()
        if not raw:
            field.data = None
            return
        try:
            field.data = self.normalize(raw, field.name)
        except InvalidInput:
            raise ValidationError(self.message) from None


PHONE_INVALID = _l("This is not a valid phone number.")
EMAIL_INVALID = _l("This is not an email address.")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


_ONE_LINE = re.compile(r"^[^\x00-\x1f\x7f]*$")


def _one_line(form: FlaskForm, field: Field) -> None:
    if field.data and not _ONE_LINE.match(field.data):
        raise ValidationError(_l("Write this on one line."))


class CaseFilterForm(FlaskForm):
    """The case list's filters (a GET form: no token)."""

    class Meta:
        csrf = False

    status = _select(_l("Status"), choices=_choices("case_status", CASE_STATUSES, _l("any status")),
                         default=NONE)
    kind = _select(_l("Kind"), choices=_choices("case_kind", CASE_KINDS, _l("any kind")), default=NONE)
    mediator = _select(_l("Mediator"), coerce=_optional_int, validate_choice=True)
    region = _select(_l("Region"), coerce=_optional_int, validate_choice=True)
    overdue = BooleanField(_l("Only overdue"))


class ParticipantFields(FlaskForm):
    """A participant's details, channels and consent (adding and changing alike)."""

    name = StringField(_l("Name"), filters=[_strip],
                       validators=[DataRequired(message=_l("Enter the participant's name.")), Length(max=200),
                                   _one_line])
    role = _select(_l("Role"), choices=_choices("participant_role", PARTICIPANT_ROLES))
    phone = StringField(_l("Phone"), filters=[_strip],
                        validators=[Length(max=40), Normalized(normalize_phone, PHONE_INVALID)])
    email = StringField(_l("Email"), filters=[_strip],
                        validators=[Length(max=254), Normalized(normalize_email, EMAIL_INVALID)])
    address = StringField(_l("Address"), filters=[_strip], validators=[Length(max=300), _one_line])
    language = _select(_l("Language"), choices=_choices("language", LANGUAGES), default="nl")
    sms_allowed = BooleanField(_l("Texts (SMS) allowed"))
    email_allowed = BooleanField(_l("Emails allowed"))
    full_text_opt_in = BooleanField(_l("Messages may name the mediation"))

    def values(self) -> dict[str, Any]:
        """The service's field names and values (empty text as None)."""
        return {"name": self.name.data, "role": self.role.data, "phone": self.phone.data or None,
                "email": self.email.data or None, "address": self.address.data or None,
                "language": self.language.data, "sms_allowed": bool(self.sms_allowed.data),
                "email_allowed": bool(self.email_allowed.data),
                "full_text_opt_in": bool(self.full_text_opt_in.data)}


class NewCaseForm(ParticipantFields):
    """A new case and, optionally (always when it comes from a callback request), its first participant."""

    kind = _select(_l("Kind of case"), choices=_choices("case_kind", CASE_KINDS))
    region = _select(_l("Region"), coerce=_optional_int, validate_choice=True)
    mediator_1 = _select(_l("Mediator"), coerce=_optional_int, validate_choice=True)
    mediator_2 = _select(_l("Second mediator"), coerce=_optional_int, validate_choice=True)

    def __init__(self, *args: Any, participant_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.participant_required = participant_required

    def wants_participant(self) -> bool:
        return self.participant_required or any(
            (getattr(self, name).data or "").strip() for name in ("name", "phone", "email", "address"))

    def validate(self, extra_validators: Any = None) -> bool:
        if not self.wants_participant():  # no participant yet: their fields need nothing
            self.name.validators = [Optional()]
        ok = super().validate(extra_validators)
        return _check_two_mediators(self) and ok

    def case_values(self) -> dict[str, Any]:
        return {"kind": self.kind.data, "region_id": self.region.data,
                "mediator_ids": [m for m in (self.mediator_1.data, self.mediator_2.data) if m is not None]}


class CaseForm(FlaskForm):
    """A coordinator's changes to a case: kind, status, region and its one or two mediators."""

    kind = _select(_l("Kind of case"), choices=_choices("case_kind", CASE_KINDS))
    status = _select(_l("Status"), choices=_choices("case_status", CASE_STATUSES))
    region = _select(_l("Region"), coerce=_optional_int, validate_choice=True)
    mediator_1 = _select(_l("Mediator"), coerce=_optional_int, validate_choice=True)
    mediator_2 = _select(_l("Second mediator"), coerce=_optional_int, validate_choice=True)

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        return _check_two_mediators(self) and ok

    def case_values(self) -> dict[str, Any]:
        return {"kind": self.kind.data, "status": self.status.data, "region_id": self.region.data,
                "mediator_ids": [m for m in (self.mediator_1.data, self.mediator_2.data) if m is not None]}


def _check_two_mediators(form: Any) -> bool:
    first, second = form.mediator_1.data, form.mediator_2.data
    if second is not None and second == first:
        form.mediator_2.errors = list(form.mediator_2.errors) + [_l("Choose another mediator, or none.")]
        return False
    if second is not None and first is None:  # the second without a first: move it up
        form.mediator_1.data, form.mediator_2.data = second, None
    return True


# casework's refusals (English, for the API) as sentences for the page: the first whose words the message holds.
SERVICE_MESSAGES: tuple[tuple[str, Any], ...] = (
    ("needs a phone number", _l("Texts need a phone number.")),
    ("needs an email address", _l("Emails need an email address.")),
    ("needs a mobile number", _l("Texts need a mobile number: this number cannot receive them.")),
    ("cannot receive texts", _l("This number cannot receive texts, which the participant allows: "
                                "use a mobile number or turn texts off.")),
    ("phone number", PHONE_INVALID),
    ("is not an email address", EMAIL_INVALID),
    ("the case is closed", _l("The case is closed: reopen it first.")),
    ("lists a mediator twice", _l("Choose another mediator, or none.")),
    ("at most", _l("A case has at most two mediators.")),
    ("is not active", _l("This mediator is no longer active.")),
    ("no mediator with id", _l("Choose a mediator from the list.")),
    ("no region with id", _l("Choose a region from the list.")),
    ("the case still has appointments ahead", _l("The case still has appointments ahead: cancel them before "
                                                 "closing it.")),
    ("has appointments ahead", _l("This mediator has appointments ahead in this case: reassign or cancel "
                                  "them first.")),
)
# The service's field names on the forms.
SERVICE_FIELDS = {"mediator_ids": "mediator_1", "region_id": "region"}


def service_message(message: str) -> Any:
    for words, sentence in SERVICE_MESSAGES:
        if words in message:
            return sentence
    return _l("This value was not accepted.")


def service_error(form: FlaskForm, errors: list[dict[str, str]], detail: str) -> Any:
    """Put a refusal of casework next to the field it names; return what has no field of its own (or None)."""
    unplaced = None
    for error in errors or [{"field": "", "message": detail}]:
        name = SERVICE_FIELDS.get(error.get("field", ""), error.get("field", ""))
        sentence = service_message(error.get("message", ""))
        field = getattr(form, name, None) if name else None
        if isinstance(field, Field):
            field.errors = list(field.errors) + [sentence]
        else:
            unplaced = sentence
    return unplaced
