"""The participant's forms: every action a POST with CSRF (Flask-WTF), after a confirmation step."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from scheduler.responses import MAX_REASON


class ConfirmForm(FlaskForm):
    """An action with nothing to fill in ("I'll come", "call me"): the button is the confirmation."""


class CannotComeForm(FlaskForm):
    reason = TextAreaField(_l("What is in the way? (you may leave this empty)"),
                           validators=[Optional(), Length(max=MAX_REASON)])
    moments = SelectMultipleField(_l("Which moments would suit you?"), choices=[],
                                  widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                  validate_choice=True)


class StopForm(FlaskForm):
    # What the confirmation page showed would be cancelled: if that changed meanwhile, ask again.
    expected = HiddenField()


class ChooseForm(FlaskForm):
    slot = IntegerField(validators=[DataRequired(), NumberRange(min=1, max=2**31 - 1)])
