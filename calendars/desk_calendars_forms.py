"""The calendars page's forms: an ICS address, a CalDAV calendar, an uploaded file, the feed link.

The forms check only what a form can (present, not too long); the address
itself, the login and the file are checked by calendars.sources (the same
rules as the API), and its refusals come back next to the field they name.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

LABEL_HINT = _l("A name you recognise it by, e.g. \"Outlook work\" (optional).")


def _label() -> StringField:
    return StringField(_l("Name"), validators=[Optional(), Length(max=100)])


def _url() -> StringField:
    return StringField(_l("Address (URL)"), validators=[DataRequired(message=_l("Enter the calendar's address.")),
                                                        Length(max=2048)],
                       render_kw={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"})


class IcsForm(FlaskForm):
    label = _label()
    url = _url()
    all_day_busy = BooleanField(_l("All-day events make the whole day busy"), default=True)


class CaldavForm(FlaskForm):
    label = _label()
    url = _url()
    username = StringField(_l("User name"), validators=[Optional(), Length(max=200)],
                           render_kw={"autocomplete": "off"})
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=500)],
                             render_kw={"autocomplete": "new-password"})
    all_day_busy = BooleanField(_l("All-day events make the whole day busy"), default=True)


class UploadForm(FlaskForm):
    label = _label()
    file = FileField(_l("Calendar file (.ics)"), validators=[FileRequired(message=_l("Choose a file."))],
                     render_kw={"accept": ".ics,text/calendar"})
    all_day_busy = BooleanField(_l("All-day events make the whole day busy"), default=True)


class FeedForm(FlaskForm):
    include_names = BooleanField(_l("Put the participants' names in the events (your own calendar only)"))


class ConfirmForm(FlaskForm):
    """Only the token: a removal is confirmed on its own page."""
