"""The public page /bel-mij-terug: anyone may ask to be called back, without an account or JavaScript.

A post is guarded in layers before anything is stored, in the order of the registration page
(scheduler.public_registration): the form token (app-wide) and our own pages' origin; the honeypot (a
bot's post is answered as if it worked, and forgotten); the per-address limit on public form posts (a
kind 429 page); the minimum fill-in time (a person who was quick, or whose page was served long ago, is
asked to send it again); every field (a 400 naming it, nothing stored); the per-number limit on callback
requests (429). A valid request joins the phone line's queue (telephony.web_callbacks) in the page's
language, and the answer is a redirect to the page that says what happens next: reloading it sends
nothing twice. That page is told the promised window in a signed value that names no number.
"""
from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import BooleanField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from core.auth import from_own_pages, refuse_cross_site
from core.officehours import OfficeHours
from core.public_forms import PublicForm, refused_post
from core.public_limits import public_limits, too_many
from core.runtime import current
from core.web import current_language
from telephony import clock
from telephony.callbacks import Window, callback_window
from telephony.numbers import office_caller_id, typed_number
from telephony.web_callbacks import take_web_request

public_callback = Blueprint("public_callback", __name__, template_folder="templates",
                            static_folder="static", static_url_path="/static/public_callback")
_DONE_SALT = "pendel-public-callback-done"
_DONE_MAX_AGE = 24 * 3600


class CallbackForm(PublicForm):
    number = StringField(_l("Your phone number"))
    moment = RadioField(_l("When shall we call?"), default="no_preference", validate_choice=False, choices=[
        SelectChoice("morning", _l("Morning")), SelectChoice("afternoon", _l("Afternoon")),
        SelectChoice("no_preference", _l("Either is fine"))])
    may_identify = RadioField(_l("May we say who we are?"), default="no", validate_choice=False, choices=[
        SelectChoice("no", _l("No: only ask for me")),
        SelectChoice("yes", _l("Yes: you may say you are calling from the mediation office"))])
    wants_confirmation = BooleanField(_l("Send me a text message to confirm"))

    def validate_number(self, field: StringField) -> None:
        if typed_number(field.data) is None:
            raise ValidationError(_l("Enter a phone number we can call, for example 06 12345678."))

    def validate_moment(self, field: RadioField) -> None:
        if field.data not in ("morning", "afternoon", "no_preference"):
            raise ValidationError(_l("Choose when we may call."))

    def validate_may_identify(self, field: RadioField) -> None:
        if field.data not in ("yes", "no"):
            raise ValidationError(_l("Choose whether we may say who we are."))

    @property
    def e164(self) -> str:
        number = typed_number(self.number.data)
        assert number is not None, "only after validation"
        return number


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current().settings.secret_key, salt=_DONE_SALT)


def _window(moment: str, now: datetime) -> Window:
    runtime = current()
    settings = runtime.settings
    return callback_window(now, moment, runtime.workdays, OfficeHours(settings.office_opens, settings.office_closes),
                           settings.tz)


def _done(window: Window, text: str) -> Any:
    """To the next-steps page: the window and what became of the text (wanted and going, refused, not wanted)."""
    token = _serializer().dumps([window.start.isoformat(), window.end.isoformat(), text])
    return redirect(url_for(".done", r=token), 303)


def _moment_of(form: CallbackForm) -> str:
    """The part of the day a post asked for, or none when it asked nothing valid."""
    return form.moment.data if form.moment.data in ("morning", "afternoon") else "no_preference"


def _page(form: CallbackForm, status: int = 200, **context: Any) -> tuple[str, int]:
    settings = current().settings
    return render_template("telephony/public/callback.html", form=form, retention_days=settings.retention_days,
                           opens=settings.office_opens.strftime("%H:%M"),
                           closes=settings.office_closes.strftime("%H:%M"), **context), status


@public_callback.route("/bel-mij-terug", methods=["GET", "POST"])
def form() -> Any:
    if request.method == "POST" and not from_own_pages():
        return refuse_cross_site()
    form = CallbackForm()
    if request.method == "GET":
        return _page(form)
    refused = refused_post(form, partial(_page, form), lambda: _done(_window(_moment_of(form), clock.now()), "none"))
    if refused is not None:
        return refused
    number, limits = form.e164, public_limits()
    if not limits.hit("callback_number", number):
        return too_many(limits.wait_seconds("callback_number", number))
    runtime = current()
    with runtime.db.write_session() as write:
        taken = take_web_request(write, runtime.settings, number=number, language=current_language(),
                                 moment=form.moment.data, may_identify=form.may_identify.data == "yes",
                                 wants_confirmation=bool(form.wants_confirmation.data), now=clock.now(),
                                 address=request.remote_addr, limits=limits)
    text = "sent" if taken.texted else (taken.text_refused or "none")
    return _done(taken.window, text)


@public_callback.get("/bel-mij-terug/verstuurd")
def done() -> Any:
    """What happens next: when we call, which number it shows, whether a text comes. Shows no number of
    theirs; without a valid value it says the same in general words."""
    window, text = None, "none"
    try:
        start, end, text = _serializer().loads(request.args.get("r", ""), max_age=_DONE_MAX_AGE)
        window = Window(datetime.fromisoformat(start), datetime.fromisoformat(end))
    except (BadSignature, ValueError, TypeError):
        pass
    settings = current().settings
    return render_template("telephony/public/callback_done.html", window=window, text=text,
                           shown_number=office_caller_id(settings.twilio_phone_number, settings.office_phone),
                           retention_days=settings.retention_days)
