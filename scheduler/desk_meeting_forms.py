"""The forms of the joint-meeting page and of a participant's withdrawal ("stopt") and its undo.

`meeting_form` builds one form per case: who takes part, one or two mediators,
how and where, the date, start and duration, and for each participant their
own arrival as minutes after the start (a field per participant, so the form
is made per case). The rules themselves (keep-apart, the office's calendar,
who may override) are the booking engine's; the form only checks that the
fields are filled in and well-formed, so an invalid post changes nothing.
"""
from __future__ import annotations

from typing import Any, Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, RadioField, SelectField,
                     SelectMultipleField, StringField, TimeField)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from scheduler.desk_booking_forms import https_link
from scheduler.policy import OVERRIDE_REASONS
from scheduler.rules import MAX_VIDEO_URL

DURATIONS = (60, 90, 120, 150, 180, 240)
MODES = ("in_person", "video", "phone")  # a joint meeting is not a home visit
LATEST_ARRIVAL = 235  # minutes after the start; the engine checks it lies within the meeting


class CheckboxesField(SelectMultipleField):
    """A list of checkboxes (one choice each) instead of a multiple select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MeetingForm(FlaskForm):
    participant_ids = CheckboxesField(_l("Who takes part"), coerce=int, validate_choice=True)
    mediator_ids = CheckboxesField(_l("Mediators"), coerce=int, validate_choice=True)
    mode = RadioField(_l("How"), choices=[(m, m) for m in MODES], default="in_person",
                      validators=[InputRequired(message=_l("Choose how the meeting takes place."))])
    room_id = SelectField(_l("Room"), coerce=str, choices=[], validate_choice=True, validators=[Optional()])
    video_url = StringField(_l("Video link"), validators=[Optional(), Length(max=MAX_VIDEO_URL), https_link],
                            filters=[lambda v: v.strip() if isinstance(v, str) else v])
    day = DateField(_l("Date"), validators=[Optional()])
    start_time = TimeField(_l("Start"), validators=[Optional()])
    duration = SelectField(_l("Duration"), coerce=int, choices=[(d, str(d)) for d in DURATIONS], default=120,
                           validators=[InputRequired(message=_l("Choose a duration."))])
    # Coordinators only (the engine refuses anyone else): a room without a separate waiting area, or a time
    # outside the office's calendar, each with a reason code.
    waiting_area_override = BooleanField(_l("Use this room anyway, although it has no separate waiting area"))
    waiting_area_reason = SelectField(_l("Reason for the room"), choices=[("", "")] + [(r, r) for r in OVERRIDE_REASONS],
                                      validators=[Optional()])
    outside_hours = SelectField(_l("Book outside the office's hours anyway, because"),
                                choices=[("", "")] + [(r, r) for r in OVERRIDE_REASONS], validators=[Optional()])
    action = HiddenField()
    slot = HiddenField()
    after = HiddenField()

    def arrival_fields(self) -> list[tuple[int, Any]]:
        """(participant id, field) of each participant's arrival, in the order of the case."""
        return [(int(name.removeprefix("arrival_")), field) for name, field in self._fields.items()
                if name.startswith("arrival_")]


def meeting_form(participant_ids: Iterable[int], **kwargs: Any) -> MeetingForm:
    """The form for a case: one arrival field ("minutes after the start") per participant."""
    fields = {f"arrival_{pid}": IntegerField(
        _l("Arrives, minutes after the start"),
        validators=[Optional(), NumberRange(min=0, max=LATEST_ARRIVAL,
                                            message=_l("Between 0 and %(max)d minutes.", max=LATEST_ARRIVAL))])
        for pid in participant_ids}
    form_class = type("CaseMeetingForm", (MeetingForm,), fields)
    return form_class(**kwargs)


class ConfirmForm(FlaskForm):
    """A confirmation: the plan it confirms, so a change meanwhile is noticed instead of carried out."""

    expected = HiddenField()
