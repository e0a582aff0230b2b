"""Render what a participant, caller or mediator reads, from templates only.

Templates live in `notifications/templates/<channel>/<name>.<language>.txt`
(email: first line `Subject: ...`; an optional `.html` twin, else the text is laid out
as HTML by `email/_layout.html`). Dates and times are
spelled by the language's own macros in `templates/lang/<language>.jinja`, so
adding a language means adding templates, nothing else. A language without a
template falls back to Dutch, the office's language.

SMS text is GSM-7 where it can be: typographic characters that come in with
data (a location typed with curly quotes, as in "’s-Hertogenbosch", an en dash,
an ellipsis) are written as their GSM-7 equivalents, because one character
outside GSM-7 turns the whole text into UCS-2 and halves what a segment holds.
Letters are left alone (an ë is part of a name). Emails keep what was typed.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
FALLBACK_LANGUAGE = "nl"


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    text: str
    html: str | None


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                       autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
                       keep_trailing_newline=False, trim_blocks=True, lstrip_blocks=True)


def languages() -> list[str]:
    """Languages that have date macros, i.e. that someone added templates for."""
    return sorted(p.stem for p in (TEMPLATES / "lang").glob("*.jinja"))


def _template(channel: str, name: str, language: str, ext: str):  # type: ignore[no-untyped-def]
    env = environment()
    for lang in dict.fromkeys((language, FALLBACK_LANGUAGE)):
        try:
            return env.get_template(f"{channel}/{name}.{lang}.{ext}"), lang
        except TemplateNotFound:
            continue
    raise TemplateNotFound(f"{channel}/{name}.{language}.{ext}")


def render(channel: str, name: str, language: str, context: dict[str, Any]) -> Rendered:
    template, lang = _template(channel, name, language, "txt")
    text = template.render(language=lang, **context).strip()
    subject = None
    if channel == "email":
        first, _, rest = text.partition("\n")
        if not first.startswith("Subject:"):
            raise ValueError(f"email template {name}.{lang} must start with 'Subject:'")
        subject, text = first[len("Subject:"):].strip(), rest.strip()
    html = None
    if channel == "email":
        try:
            html_template, _ = _template(channel, name, lang, "html")
            html = html_template.render(language=lang, **context).strip()
        except TemplateNotFound:  # the usual case: the plain text, laid out as HTML paragraphs
            paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
            html = environment().get_template("email/_layout.html").render(
                language=lang, subject=subject, paragraphs=paragraphs).strip()
    return Rendered(subject=subject, text=_tidy(to_gsm7(text)) if channel == "sms" else text, html=html)


# Typographic characters and what GSM-7 writes for them (sms.GSM7_BASIC has ' " - . and the space).
_TYPOGRAPHIC = str.maketrans({
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2039\u203a", "'"),  # ‘ ’ ‚ ‛ ′ ‹ ›
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),  # “ ” „ ‟ ″ « »
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),  # hyphens, dashes, minus
    **dict.fromkeys("\u00a0\u2007\u2009\u202f", " "),  # no-break and thin spaces
    **dict.fromkeys("\u00ad\u200b", None),  # soft hyphen, zero-width space
    "\u2026": "...",  # …
})


def to_gsm7(text: str) -> str:
    """`text` with typographic characters written as GSM-7 ones; anything else is left as it is."""
    return text.translate(_TYPOGRAPHIC)


def _tidy(text: str) -> str:
    """SMS: one line of text; template line breaks are for readability only."""
    return " ".join(text.split())
