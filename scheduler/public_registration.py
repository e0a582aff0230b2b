"""The public registration page, /aanmelden: anyone may ask the office for mediation, for themselves or for
someone else, without an account and without JavaScript.

A post is guarded in layers before anything is stored: the form token (app-wide), our own pages' origin,
the honeypot (a bot's post is thanked and forgotten: it learns nothing to adapt to), the per-address rate
limit (a kind page saying when to try again), the minimum fill-in time (a person who was quick, or whose page
was served long ago, is kindly asked to send it again) and then every field (a 400 naming each wrong field,
nothing stored). A valid post is stored in one write transaction and answered with a redirect to the page
that says what happens next, so reloading it sends nothing twice.
"""
from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import format_date

from core.auth import from_own_pages, refuse_cross_site
from core.db import utcnow
from core.public_forms import refused_post
from core.runtime import current
from core.web import current_language
from scheduler.public_registration_form import RegistrationForm
from scheduler.registrations import submit

public_registration = Blueprint("public_registration", __name__, template_folder="templates",
                                static_folder="static", static_url_path="/static/public_registration")


def _next_working_day() -> str:
    """The day a coordinator reads a registration sent now, at the latest: "maandag 7 december"."""
    runtime = current()
    today = utcnow().astimezone(runtime.settings.tz).date()
    return format_date(runtime.workdays.next_working_day(today), "EEEE d MMMM")


def _page(form: RegistrationForm, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template("scheduler/public/registration.html", form=form, next_day=_next_working_day(),
                           retention_days=current().settings.retention_days, **context), status


@public_registration.route("/aanmelden", methods=["GET", "POST"])
def form() -> Any:
    if request.method == "POST" and not from_own_pages():
        return refuse_cross_site()
    form = RegistrationForm(language=current_language())
    if request.method == "GET":
        return _page(form)
    refused = refused_post(form, partial(_page, form), lambda: redirect(url_for(".sent"), 303))
    if refused is not None:  # a bot thanked and forgotten, too many posts, too quick, or wrong fields
        return refused
    with current().db.write_session() as write:
        submit(write, form.values(), utcnow())
    return redirect(url_for(".sent"), 303)


@public_registration.get("/aanmelden/verzonden")
def sent() -> Any:
    """What happens next (the same page for everyone: it shows nothing of what was sent)."""
    return render_template("scheduler/public/registration_sent.html", next_day=_next_working_day(),
                           retention_days=current().settings.retention_days)
