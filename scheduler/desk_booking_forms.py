"""The forms of the desk's booking pages: the slot search, a picked slot, another time, a cancellation.

One form class carries a whole booking step: the search fields (mode,
duration, mediator, participant, place, joining link), a picked `slot` or
another time (`day`, `at`, with "book anyway" and its reason), so every POST
is validated whole and an invalid one changes nothing. The search itself is a
GET (no token: it changes nothing); a pick, a confirmation and a
cancellation are POSTs with the form's CSRF token. Choices that depend on the
case (mediators, participants, locations, rooms) are filled in by the view.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l, ngettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, StringField, TimeField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from core.db import utcnow
from core.problems import InvalidInput
from core.runtime import current
from core.web import label
from scheduler.models import APPOINTMENT_MODES
from scheduler.policy import OVERRIDE_REASONS
from scheduler.rules import MAX_VIDEO_URL, check_video_url
from scheduler.schemas_appointments import CancelReason

DURATIONS = (30, 45, 60, 75, 90, 120, 150, 180)
CANCEL_REASONS: tuple[str, ...] = CancelReason.__args__  # type: ignore[attr-defined]
REGION = "region"  # the mediator choice "any free mediator of the case's region"
# What a search carries from page to page (hidden in each pick, in the "later" link).
SEARCH_FIELDS = ("mode", "duration", "mediator", "participant_id", "location_id", "video_url")


def duration_words(minutes: int) -> str:
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def https_link(form: Any, field: Any) -> None:
    """A video appointment's joining link: https only (the booking engine's own check)."""
    if form.mode.data != "video" or not field.data:
        return
    try:
        check_video_url(field.data)
    except InvalidInput:
        raise ValidationError(_l("Enter a link that starts with https://")) from None


def _refuse(field: Any, message: Any) -> bool:
    field.errors = [*field.errors, message]
    return False


def parse_after(value: str | None) -> datetime | None:
    """The "later" page's start: an aware ISO time, or None for "from now"."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


class SlotSearchForm(FlaskForm):
    """What the picker searches for; shared by planning an intake and rescheduling."""

    mode = RadioField(_l("How"), choices=[(m, m) for m in APPOINTMENT_MODES],
                      validators=[InputRequired(message=_l("Choose how the appointment takes place."))])
    duration = SelectField(_l("Duration"), coerce=int, choices=[(d, str(d)) for d in DURATIONS],
                           validate_choice=True, validators=[InputRequired(message=_l("Choose a duration."))])
    location_id = SelectField(_l("Location"), coerce=str, choices=[], validate_choice=False,
                              validators=[Optional()])
    video_url = StringField(_l("Video link"), validators=[Optional(), Length(max=MAX_VIDEO_URL), https_link],
                            filters=[lambda v: v.strip() if isinstance(v, str) else v])
    after = HiddenField()
    # A pick, or another time:
    slot = HiddenField()
    action = HiddenField()
    day = DateField(_l("Date"), validators=[Optional()])
    at = TimeField(_l("Time"), validators=[Optional()])
    room_id = SelectField(_l("Room"), coerce=str, choices=[], validate_choice=False, validators=[Optional()])
    anyway = BooleanField(_l("Book anyway, outside the offered times"))
    reason = SelectField(_l("Reason"), choices=[("", "")] + [(r, r) for r in OVERRIDE_REASONS], default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mode.choices = [(m, label(m, "mode")) for m in APPOINTMENT_MODES]
        self.duration.choices = [(d, duration_words(d)) for d in DURATIONS]
        self.reason.choices = [("", _l("Choose a reason"))] + [(r, label(r, "override_reason"))
                                                               for r in OVERRIDE_REASONS]

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields, then what depends on several of them (an empty optional field skips its own checks)."""
        valid = super().validate(extra_validators)
        location = self.location_id.data
        if location and location not in {str(value) for value, _label in self.location_id.choices}:
            valid = _refuse(self.location_id, _l("Choose a location from the list."))
        elif self.mode.data == "in_person" and not location:
            valid = _refuse(self.location_id, _l("Choose a location."))
        if self.action.data == "other" and not self.at.errors and (self.day.data is None or self.at.data is None):
            valid = _refuse(self.at, _l("Give a date and a time."))
        today = utcnow().astimezone(current().settings.tz).date()
        if self.day.data is not None and not today <= self.day.data <= today + timedelta(days=2 * 366):
            valid = _refuse(self.day, _l("Choose a date from today up to two years ahead."))
        if self.anyway.data and not self.reason.data:
            valid = _refuse(self.reason, _l("Give the reason for booking anyway."))
        return valid

    def chosen_location(self) -> int | None:
        return int(self.location_id.data) if self.mode.data == "in_person" and (self.location_id.data or "").isdigit() \
            else None

    def chosen_video_url(self) -> str | None:
        return self.video_url.data or None if self.mode.data == "video" else None

    def carried(self) -> dict[str, str]:
        """The search as strings, for hidden fields and the "later" link."""
        out: dict[str, str] = {}
        for name in SEARCH_FIELDS:
            field = getattr(self, name, None)
            if field is not None and field.data not in (None, ""):
                out[name] = str(field.data)
        return out


class PlanForm(SlotSearchForm):
    """Planning an intake: also who (the mediator, or any free one of the region) and with whom."""

    mediator = SelectField(_l("Mediator"), coerce=str, choices=[], validate_choice=True,
                           validators=[InputRequired(message=_l("Choose a mediator."))])
    participant_id = SelectField(_l("With"), coerce=str, choices=[], validate_choice=True,
                                 validators=[InputRequired(message=_l("Choose the participant."))])


class CancelForm(FlaskForm):
    reason = SelectField(_l("Reason"), choices=[(r, r) for r in CANCEL_REASONS], default="participant_request",
                         validators=[InputRequired(message=_l("Choose a reason."))])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = [(r, label(r, "cancel_reason")) for r in CANCEL_REASONS]
