"""The public registration form (/aanmelden): what it asks, and what it accepts.

Every refusal is a sentence next to the field it is about (and, on the page, in a summary linking to it), in
the page's language; nothing is stored until every field is right. Phone numbers go through phonenumbers
(scheduler.contact, Dutch numbers may be written nationally), email addresses through the same check as
the desk's. The rules between fields are the ones the office needs to act on it: someone registering
another person leaves their own name and a way to reach them; the person can be reached by phone or email;
each way of contact chosen has its address (a text needs a mobile number).
"""
from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Field, RadioField, StringField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, ValidationError

from core.public_forms import PublicForm
from scheduler.contact import can_receive_texts, normalize_email, normalize_phone
from scheduler.desk_case_forms import EMAIL_INVALID, PHONE_INVALID, Normalized
from scheduler.models import CASE_KINDS
from scheduler.registration_models import MOMENTS, NOTE_MAX, OTHER_PARTY_KNOWN, REGISTRANTS, REGISTRATION_ROLES

WORDS = {
    "registrant": {"self": _l("I am registering myself"), "police": _l("Police"),
                   "victim_support": _l("Victim support"), "lawyer": _l("A lawyer"),
                   "relative": _l("A relative or friend"), "other": _l("Someone else")},
    "role": {"victim": _l("Victim"), "next_of_kin": _l("Next of kin of a victim"),
             "suspect": _l("Suspect or offender"), "causer": _l("Caused it (for example an accident)"),
             "other": _l("Something else")},
    "kind": {"crime": _l("A crime (for example assault, burglary or threats)"),
             "traffic_accident": _l("A traffic accident"), "sexual_abuse": _l("Sexual abuse"),
             "transgressive_behaviour": _l("Transgressive behaviour (for example bullying or harassment)"),
             "other": _l("Something else")},
    "other_party_known": {"yes": _l("Yes"), "no": _l("No"), "unknown": _l("I don't know")},
    "moment": {"morning": _l("In the morning"), "afternoon": _l("In the afternoon"),
               "no_preference": _l("Any time of day")},
}
LANGUAGE_NAMES = [SelectChoice("nl", "Nederlands"), SelectChoice("en", "English")]  # each in its own language
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _one_line(form: PublicForm, field: Field) -> None:
    if field.data and _CONTROL.search(field.data):
        raise ValidationError(_l("Write this on one line."))


def _radio(label: Any, kind: str, values: tuple[str, ...], missing: Any, default: str | None = None) -> RadioField:
    """A radio group: a value off the list is refused with the same sentence as none at all."""
    return RadioField(label, choices=[SelectChoice(v, WORDS[kind][v]) for v in values], default=default, validate_choice=False,
                      validators=[InputRequired(message=missing), AnyOf(values, message=missing)])


def _text(label: Any, max_length: int, **kwargs: Any) -> StringField:
    return StringField(label, filters=[_strip], validators=[Length(max=max_length), _one_line], **kwargs)


def _phone(label: Any, **kwargs: Any) -> TelField:
    return TelField(label, filters=[_strip], render_kw={"autocomplete": "tel", **kwargs.pop("render_kw", {})},
                    validators=[Length(max=40, message=PHONE_INVALID), Normalized(normalize_phone, PHONE_INVALID)])


def _email(label: Any, **kwargs: Any) -> StringField:
    return StringField(label, filters=[_strip], render_kw={"type": "email", "autocomplete": "email", **kwargs},
                       validators=[Length(max=254, message=EMAIL_INVALID), Normalized(normalize_email, EMAIL_INVALID)])


class RegistrationForm(PublicForm):
    registrant = _radio(_l("Who is filling in this form?"), "registrant", REGISTRANTS,
                        _l("Choose who is filling in this form."), default="self")
    registrant_name = _text(_l("Your name"), 200, render_kw={"autocomplete": "name"})
    registrant_organisation = _text(_l("Your organisation (if any)"), 200,
                                    render_kw={"autocomplete": "organization"})
    registrant_phone = _phone(_l("Your phone number"))
    registrant_email = _email(_l("Your email address"))

    name = _text(_l("Name"), 200)
    phone = _phone(_l("Phone number"))
    email = _email(_l("Email address"))
    language = RadioField(_l("Language for our calls and messages"), choices=LANGUAGE_NAMES, validate_choice=False,
                          validators=[InputRequired(message=_l("Choose a language.")),
                                      AnyOf(("nl", "en"), message=_l("Choose a language."))])
    role = _radio(_l("Their part in what happened"), "role", REGISTRATION_ROLES,
                  _l("Choose the part in what happened."))

    kind = _radio(_l("What is it about?"), "kind", CASE_KINDS, _l("Choose what it is about."))
    other_party_known = _radio(_l("Is it known who the other party is?"), "other_party_known", OTHER_PARTY_KNOWN,
                               _l("Choose yes, no or I don't know."))

    contact_call = BooleanField(_l("Phone call"))
    contact_sms = BooleanField(_l("Text message (SMS)"))
    contact_email = BooleanField(_l("Email"))
    contact_letter = BooleanField(_l("Letter by post"))
    address = _text(_l("Postal address (only for a letter)"), 300, render_kw={"autocomplete": "street-address"})
    moment = _radio(_l("When may we call?"), "moment", MOMENTS, _l("Choose when we may call."),
                    default="no_preference")
    may_identify = BooleanField(_l("If someone else answers the phone, we may say that we are calling from the "
                                   "mediation office"))
    note = TextAreaField(_l("Anything else we should know? (optional)"), filters=[_strip],
                         render_kw={"maxlength": NOTE_MAX, "rows": 4},
                         validators=[Length(max=NOTE_MAX, message=_l("Please keep this to %(max)d characters.",
                                                                     max=NOTE_MAX))])

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        return self._between_fields() and ok

    def _refuse(self, field: Field, message: Any) -> bool:
        if not field.errors:
            field.errors = list(field.errors) + [message]
        return False

    def _between_fields(self) -> bool:
        ok = True
        if self.registrant.data not in (None, "self"):
            if not self.registrant_name.data:
                ok = self._refuse(self.registrant_name, _l("Enter your own name, so we know who registered."))
            if not (self.registrant_phone.data or self.registrant_email.data or self.registrant_phone.errors
                    or self.registrant_email.errors):
                ok = self._refuse(self.registrant_phone, _l("Enter your phone number or email address, so we can "
                                                            "ask you a question."))
        if not self.name.data:
            ok = self._refuse(self.name, _l("Enter the name of the person it is about."))
        if not (self.phone.data or self.email.data or self.phone.errors or self.email.errors):
            ok = self._refuse(self.phone, _l("Enter a phone number or an email address."))
        if not (self.contact_call.data or self.contact_sms.data or self.contact_email.data or self.contact_letter.data):
            ok = self._refuse(self.contact_call, _l("Choose at least one way we may contact them."))
        if (self.contact_call.data or self.contact_sms.data) and not self.phone.data and not self.phone.errors:
            ok = self._refuse(self.phone, _l("A call or a text needs a phone number."))
        if self.contact_sms.data and self.phone.data and not self.phone.errors \
                and not can_receive_texts(self.phone.data):
            ok = self._refuse(self.contact_sms, _l("This number cannot receive texts: choose a call, or give a "
                                                   "mobile number."))
        if self.contact_email.data and not self.email.data and not self.email.errors:
            ok = self._refuse(self.email, _l("An email needs an email address."))
        if self.contact_letter.data and not self.address.data:
            ok = self._refuse(self.address, _l("A letter needs a postal address."))
        return ok

    def values(self) -> dict[str, Any]:
        """What scheduler.registrations.submit stores (empty text as None; the registrant's details only when
        registering someone else; the address only for a letter)."""
        behalf = self.registrant.data != "self"
        return {
            "registrant": self.registrant.data,
            "registrant_name": self.registrant_name.data or None if behalf else None,
            "registrant_organisation": self.registrant_organisation.data or None if behalf else None,
            "registrant_phone": self.registrant_phone.data or None if behalf else None,
            "registrant_email": self.registrant_email.data or None if behalf else None,
            "name": self.name.data, "phone": self.phone.data or None, "email": self.email.data or None,
            "address": self.address.data or None if self.contact_letter.data else None,
            "language": self.language.data, "role": self.role.data, "kind": self.kind.data,
            "other_party_known": self.other_party_known.data, "contact_call": bool(self.contact_call.data),
            "contact_sms": bool(self.contact_sms.data), "contact_email": bool(self.contact_email.data),
            "contact_letter": bool(self.contact_letter.data), "moment": self.moment.data,
            "may_identify": bool(self.may_identify.data), "note": self.note.data or None,
        }
