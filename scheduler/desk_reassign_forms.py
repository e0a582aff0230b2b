"""The sick-mediator page's form: whose appointments, from which day through which day (local dates)."""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField
from wtforms.validators import InputRequired, ValidationError

from scheduler.models import Mediator

MAX_DAYS = 366  # a preview of a whole year is long enough; a longer absence is planned again later


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ReassignForm(FlaskForm):
    """Shown with GET (the preview needs no token); `ApplyForm` posts the same fields with one."""

    class Meta:
        csrf = False

    mediator_id = SelectField(_l("Mediator who is ill"), coerce=_int_or_none,
                              validators=[InputRequired(message=_l("Choose a mediator."))])
    first_day = DateField(_l("From"), validators=[InputRequired(message=_l("Enter the first day."))])
    last_day = DateField(_l("Through"), validators=[InputRequired(message=_l("Enter the last day."))])

    def __init__(self, mediators: Iterable[Mediator], today: date, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.mediator_id.choices = [("", _l("Choose…"))] + [
            (m.id, m.name if m.active else _l("%(name)s (inactive)", name=m.name)) for m in mediators]

    def validate_mediator_id(self, field: SelectField) -> None:
        if field.data is None:
            raise ValidationError(_l("Choose a mediator."))

    def validate_first_day(self, field: DateField) -> None:
        if field.data is not None and field.data < self.today:
            raise ValidationError(_l("The first day cannot lie in the past."))

    def validate_last_day(self, field: DateField) -> None:
        first = self.first_day.data
        if field.data is None or first is None:
            return
        if field.data < first:
            raise ValidationError(_l("The last day cannot lie before the first day."))
        if (field.data - first).days >= MAX_DAYS:
            raise ValidationError(_l("Choose at most %(days)d days at a time.", days=MAX_DAYS))


class ApplyForm(ReassignForm):
    """"Apply": the same choice, the plan the coordinator saw (`expected`), and the form token."""

    class Meta:
        csrf = True

    expected = HiddenField(validators=[InputRequired()])
