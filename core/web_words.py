"""Words and times in templates, looked up once per page instead of once per word.

Flask-Babel's own template callables find the request, the locale and the
catalog again for every `_()` and every date: on a list of fifty cases that is
thousands of context lookups, most of a page's time. Here a context processor
puts the page's catalog, locale and time zone into the template context once,
and the gettext callables and the `label`/`fmt_*` filters read them from there
(`pass_context`). Outside a page render (a macro imported without context)
they fall back to Flask-Babel's lookups, with the same result.
"""
from __future__ import annotations

from datetime import date, datetime, tzinfo
from functools import lru_cache
from typing import Any, Mapping

import phonenumbers
from babel import dates
from flask import Flask
from flask_babel import LazyString, get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

DAY = "EEEE d MMMM"


def _catalog(ctx: Context) -> Any:
    return ctx.get("_page_catalog") or get_translations()


def _locale(ctx: Context) -> Any:
    return ctx.get("_page_locale") or get_locale()


# Jinja's newstyle gettext, in one call instead of three: Jinja's own `_` looks up `gettext` in the context and
# calls it, and that wrapper calls the catalog function, each through Context.call. Same semantics: the words
# are Markup when the template autoescapes, and always a format string (`%%` is `%`, `%(name)s` a variable).

def _format(ctx: Context, words: str, variables: dict[str, Any]) -> str:
    if ctx.eval_ctx.autoescape:
        words = Markup(words)
    return words % variables if variables or "%" in words else words


@pass_context
def _gettext(ctx: Context, message: str, /, **variables: Any) -> str:
    return _format(ctx, _catalog(ctx).ugettext(message), variables)


@pass_context
def _ngettext(ctx: Context, singular: str, plural: str, n: int, /, **variables: Any) -> str:
    variables.setdefault("num", n)
    return _format(ctx, _catalog(ctx).ungettext(singular, plural, n), variables)


@pass_context
def _pgettext(ctx: Context, context: str, message: str, /, **variables: Any) -> str:
    variables.setdefault("context", context)
    return _format(ctx, _catalog(ctx).upgettext(context, message), variables)


@pass_context
def _npgettext(ctx: Context, context: str, singular: str, plural: str, n: int, /,
               **variables: Any) -> str:
    variables.setdefault("context", context)
    variables.setdefault("num", n)
    return _format(ctx, _catalog(ctx).unpgettext(context, singular, plural, n), variables)


@lru_cache(maxsize=4096)
def _date_words(day: date, pattern: str, locale: Any) -> str:
    """A day in words. Pages show the same days over and over (a list's dates, a week's days): each is
    formatted once per process and language. A pattern of days only, so a datetime's day gives the same."""
    return dates.format_date(day, pattern, locale=locale)


def phone_display(number: str | None) -> str:
    """Readable: Dutch numbers as dialled in the Netherlands, others with their country code."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, "NL")
    except phonenumbers.NumberParseException:
        return number
    fmt = (phonenumbers.PhoneNumberFormat.NATIONAL if phonenumbers.region_code_for_number(parsed) == "NL"
           else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(parsed, fmt)


def local(value: datetime, tz: tzinfo) -> datetime:
    return value.astimezone(tz) if value.tzinfo else value


def label_words(labels: Mapping[str, Mapping[str, Any]], value: Any, kind: str, catalog: Any) -> str:
    """The word for a stored value; an unknown value shows as itself rather than breaking a page."""
    if value is None:
        return ""
    word = labels.get(kind, {}).get(value)
    if word is None:
        return str(value)
    if isinstance(word, LazyString) and word._args:  # a lazy_gettext msgid: this page's catalog
        return catalog.ugettext(word._args[0])
    return str(word)


def datetime_words(value: datetime | None, format: str, locale: Any, tz: tzinfo) -> str:
    return dates.format_datetime(local(value, tz), format, locale=locale) if value is not None else ""


def time_words(value: datetime | None, tz: tzinfo) -> str:
    if value is None:
        return ""
    value = local(value, tz)
    return f"{value.hour:02d}:{value.minute:02d}"  # Babel's "HH:mm", in every language


def day_words(value: date | datetime | None, locale: Any, tz: tzinfo) -> str:
    """"dinsdag 8 december" / "Tuesday 8 December" (a datetime is taken in the office's zone)."""
    if value is None:
        return ""
    return _date_words(local(value, tz).date() if isinstance(value, datetime) else value, DAY, locale)


def date_words(value: date | datetime | None, format: str, locale: Any, tz: tzinfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if format == "long":
            return _date_words(local(value, tz).date(), "EEEE d MMMM y", locale)
        value = local(value, tz).date()
    return _date_words(value, "full" if format == "long" else format, locale)


def install_fast_words(app: Flask, tz: tzinfo) -> None:
    labels: dict[str, dict[str, Any]] = app.extensions.setdefault("pendel_labels", {})

    @app.context_processor
    def _page_words() -> dict[str, Any]:
        return {"_page_catalog": get_translations(), "_page_locale": get_locale()}

    @pass_context
    def label(ctx: Context, value: Any, kind: str) -> str:
        return label_words(labels, value, kind, _catalog(ctx))

    @pass_context
    def fmt_datetime(ctx: Context, value: datetime | None, format: str = "medium") -> str:
        return datetime_words(value, format, _locale(ctx), tz)

    @pass_context
    def fmt_time(ctx: Context, value: datetime | None) -> str:
        return time_words(value, tz)

    @pass_context
    def fmt_day(ctx: Context, value: date | datetime | None) -> str:
        return day_words(value, _locale(ctx), tz)

    @pass_context
    def fmt_date(ctx: Context, value: date | datetime | None, format: str = "medium") -> str:
        return date_words(value, format, _locale(ctx), tz)

    app.jinja_env.filters.update(label=label, fmt_datetime=fmt_datetime, fmt_date=fmt_date, fmt_time=fmt_time,
                                 fmt_day=fmt_day, phone=phone_display)
    app.jinja_env.newstyle_gettext = True  # type: ignore[attr-defined]  # {% trans %} passes variables by name
    app.jinja_env.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext,
                                 npgettext=_npgettext)
