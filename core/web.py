"""What every page of Pendel shares: language, forms, security headers, static files, words, times.

`install_web(app, packages)` is called once by app.py before any blueprint:
- Flask-Babel with each package's Dutch catalog (core/i18n.py); the language
  is the signed-in user's choice, else the browser's `pendel_lang` cookie,
  else Dutch. A participant-facing view sets `g.language` to the
  participant's own language, which wins over both.
- Flask-WTF's CSRF protection on every POST of a page; the JSON API (bearer
  tokens) and the provider webhooks (signed) are exempted by their packages
  through `csrf_exempt`.
- Security headers on every response (see `_security_headers`).
- Stored values shown as words (`label` filter, filled by the packages) and
  times in the office's zone (`fmt_*` filters).
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Mapping

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request
from flask_babel import Babel, get_locale, get_translations, gettext
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.wrappers import Response

from core.auth import signed_in_user
from core.i18n import DEFAULT_LANGUAGE, LANGUAGES, PackageCatalogs
from core.models import User
from core.navigation import safe_next
from core.runtime import current
from core.web_words import (date_words, datetime_words, day_words, install_fast_words, label_words,
                             time_words)

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE_COOKIE = "pendel_lang"

web_bp = Blueprint("web", __name__, static_folder="static", static_url_path="/static/core",
                   template_folder="templates")


class _PendelBabel(Babel):
    def __init__(self, catalogs: PackageCatalogs) -> None:
        self._catalogs = catalogs
        super().__init__()

    @property
    def domain_instance(self) -> PackageCatalogs:  # type: ignore[override]
        return self._catalogs


def current_language() -> str:
    chosen = g.get("language")
    if chosen in LANGUAGES:
        return str(chosen)
    user = g.get("user")
    if user is not None and getattr(user, "language", None) in LANGUAGES:
        return str(user.language)
    cookie = request.cookies.get(LANGUAGE_COOKIE) if request else None
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE


def install_web(app: Flask, packages: Iterable[str] = ()) -> None:
    settings = app.extensions["pendel"].settings
    directories = [ROOT / "core" / "translations"] + [ROOT / name / "translations" for name in packages]
    app.config.update(
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (server-side, time-limited) session
        WTF_CSRF_SSL_STRICT=False,  # core.auth.from_own_pages checks Origin/Referer on every page POST
    )
    babel = _PendelBabel(PackageCatalogs(directories))
    babel.init_app(app, default_locale=DEFAULT_LANGUAGE, default_timezone=settings.office_timezone,
                   locale_selector=current_language, timezone_selector=lambda: settings.office_timezone)
    app.extensions["pendel_csrf"] = CSRFProtect(app)
    app.extensions.setdefault("pendel_labels", {})
    app.register_blueprint(web_bp)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_failed)
    install_fast_words(app, settings.tz)
    app.jinja_env.globals.update(current_language=current_language, languages=LANGUAGES, has_endpoint=has_endpoint,
                                 office_phone=settings.office_phone)


def has_endpoint(endpoint: str) -> bool:
    """Whether a page exists in this app: a package links another's page only once it is plugged in."""
    return endpoint in current_app.view_functions


def csrf_exempt(app: Flask, *blueprints: Blueprint) -> None:
    """For blueprints that no browser form posts to: the bearer-token API and the signed webhooks."""
    csrf: CSRFProtect = app.extensions["pendel_csrf"]
    for blueprint in blueprints:
        csrf.exempt(blueprint)


def register_labels(app: Flask, kind: str, words: Mapping[str, Any]) -> None:
    """Words for stored values of one kind, e.g. ("mode", {"in_person": lazy_gettext("in person")})."""
    app.extensions.setdefault("pendel_labels", {}).setdefault(kind, {}).update(words)


# The same words and times for Python code (a view building a sentence), in the request's language and
# the office's zone: one implementation, core/web_words.py's, for templates and code alike.

def label(value: Any, kind: str) -> str:
    return label_words(current_app.extensions.get("pendel_labels", {}), value, kind, get_translations())


def fmt_datetime(value: datetime | None, format: str = "medium") -> str:
    return datetime_words(value, format, get_locale(), current().settings.tz)


def fmt_date(value: date | datetime | None, format: str = "medium") -> str:
    return date_words(value, format, get_locale(), current().settings.tz)


def fmt_time(value: datetime | None) -> str:
    return time_words(value, current().settings.tz)


def fmt_day(value: date | datetime | None) -> str:
    return day_words(value, get_locale(), current().settings.tz)


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if response.mimetype == "text/html" or response.mimetype.endswith("json"):
        headers.setdefault("Cache-Control", "no-store")  # pages and API answers hold case data: no copy on disk
    if current_app.extensions["pendel"].settings.public_base_url.startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def _csrf_failed(error: CSRFError) -> Any:
    """An expired or missing form token: nothing changed; the person is sent back to try again."""
    return render_template("core/form_expired.html", reason=error.description), 400


@web_bp.post("/language")
def choose_language() -> Any:
    """The header's language switch: the signed-in user's setting, and a cookie for the sign-in page."""
    chosen = request.form.get("language")
    if chosen not in LANGUAGES:
        return render_template("core/form_expired.html", reason=gettext("Unknown language.")), 400
    user = signed_in_user()
    if user is not None:
        with current().db.write_session() as write:
            stored = write.get(User, user.id)
            if stored is not None:
                stored.language = chosen
    target = request.form.get("next") or ""
    response = redirect(safe_next(target))
    response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=365 * 86400, httponly=True, samesite="Lax",
                        secure=current().settings.public_base_url.startswith("https://"))
    return response
