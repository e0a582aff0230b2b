"""The participant's link, from its cookie to the working `Link` (or the one neutral page for every failure).

An unknown, tampered, guessed, expired or revoked token all get the same page with the same status, so
nothing tells them apart. The page is kind: the link no longer works, here is the office's number.
"""
from __future__ import annotations

from datetime import timedelta
from functools import wraps
from typing import Any, Callable, TypeVar

from flask import Blueprint, Response, g, redirect, render_template, request, url_for

from core.auth import from_own_pages, refuse_cross_site
from core.db import utcnow
from core.public_limits import public_limits
from core.runtime import current, db_session
from core.web import LANGUAGE_COOKIE
from scheduler.links import Link, resolve
from scheduler.models import Appointment

participant_bp = Blueprint("participant_page", __name__, template_folder="templates", static_folder="static",
                           static_url_path="/static/participants")

LINK_COOKIE = "pendel_link"
COOKIE_PATH = "/a"
MAX_TOKEN = 64  # longer than any token we issue; anything longer is not kept
F = TypeVar("F", bound=Callable[..., Any])


@participant_bp.get("/a/<token>")
def open_link(token: str) -> Response:
    """The link in a message: keep the token in a cookie and go on to the page; nothing else happens here
    (mail scanners open links too), and every token, good or bad, gets the same answer."""
    response = redirect(url_for(".show"), 303)
    response.set_cookie(LINK_COOKIE, token[:MAX_TOKEN], path=COOKIE_PATH, httponly=True, samesite="Lax",
                        secure=current().settings.public_base_url.startswith("https://"))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def current_link() -> Link | None:
    settings = current().settings
    grace = timedelta(hours=settings.participant_link_hours_after)
    return resolve(db_session(), request.cookies.get(LINK_COOKIE), utcnow(), grace)


def closed_page() -> Any:
    """The one page for a link that does not (or no longer) work, whatever the reason."""
    return render_template("participants/closed.html"), 404


def _guessing_stopped() -> Any:
    """The same kind page, as a 429, once this address asked with LINK_FAILURE_LIMIT_ADDRESS links that do
    not work: with 128-bit tokens guessing is hopeless anyway, but it need not cost a database query each."""
    wait = public_limits().wait_seconds("link_address", request.remote_addr)
    if not wait:
        return None
    return render_template("participants/closed.html"), 429, {"Retry-After": str(wait)}


def with_link(view: F) -> F:
    """The view gets the working link as its first argument; a POST must come from our own pages."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.method == "POST" and not from_own_pages():
            return refuse_cross_site()
        stopped = _guessing_stopped()
        if stopped is not None:
            return stopped
        link = current_link()
        if link is None:
            public_limits().hit("link_address", request.remote_addr)
            return closed_page()
        if request.cookies.get(LANGUAGE_COOKIE) is None:  # their own language, unless they chose another here
            g.language = link.participant.language
        return view(link, *args, **kwargs)
    return wrapper  # type: ignore[return-value]


def appointment_of(link: Link) -> Appointment | None:
    """The appointment the page is about: the link's own, or the time chosen from its offer."""
    if link.appointment is not None:
        return link.appointment
    if link.offer is not None and link.offer.status == "chosen" and link.offer.chosen_appointment_id:
        return db_session().get(Appointment, link.offer.chosen_appointment_id)
    return None

