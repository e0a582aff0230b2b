"""What the phone line says, rendered from templates only.

Every spoken sentence lives in `telephony/templates/voice/<name>.<language>.txt`
(Dutch first, English second); times and days are spelled by the language's
own macros in `voice/_spoken.<language>.jinja`. Telephony has its own small
renderer rather than notifications' one: telephony may depend on scheduler
and core only.

The views hand the templates plain data (weekday numbers, hours), built here
by `spoken_day`, so the wording stays in the templates.
"""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import phonenumbers
from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("nl", "en")
# Beyond this many days ahead a weekday alone is ambiguous (a long holiday closure): add the date.
WEEKDAY_ONLY_DAYS = 6


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                       autoescape=False, trim_blocks=True, lstrip_blocks=True)


def template_names() -> list[str]:
    """Every spoken text there is (the names, without language)."""
    return sorted({p.name.split(".")[0] for p in (TEMPLATES / "voice").glob("*.txt")})


def say(name: str, language: str, **context: Any) -> str:
    """One spoken text, whitespace folded to single spaces (TTS reads line breaks as nothing useful)."""
    if language not in LANGUAGES:
        language = "nl"
    return _cached(name, language, _frozen(context))


def _frozen(value: Any) -> Any:
    """A hashable stand-in for template data (dicts and lists of plain values)."""
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("__list__", tuple(_frozen(item) for item in value))
    return value


def _thawed(value: Any) -> Any:
    if isinstance(value, tuple) and value[:1] == ("__list__",):
        return [_thawed(item) for item in value[1]]
    if isinstance(value, tuple):
        return {key: _thawed(item) for key, item in value}
    return value


@lru_cache(maxsize=4096)
def _cached(name: str, language: str, context: tuple[Any, ...]) -> str:
    """Most callers hear the same texts (the same opening time, the same window): render each once."""
    text = environment().get_template(f"voice/{name}.{language}.txt").render(**_thawed(context))
    return " ".join(text.split())


def spoken_day(moment: datetime, today: date) -> dict[str, Any]:
    """A local moment as template data: relative ('today', 'weekday', 'date'), weekday, day, month, hour, minute."""
    local_day = moment.date()
    ahead = (local_day - today).days
    relative = "today" if ahead == 0 else "weekday" if 0 < ahead <= WEEKDAY_ONLY_DAYS else "date"
    return {"relative": relative, "weekday": local_day.weekday(), "day": local_day.day,
            "month": local_day.month, "hour": moment.hour, "minute": moment.minute}


def digit_groups(number: str) -> list[list[str]]:
    """A number as it is read back to the caller who keyed it in: dialled from the Netherlands, in groups.

    "+31612345678" is 06 12 34 56 78 and "+31201234567" 020 123 45 67 (a
    group of more than three digits is said in pairs, an odd one starting
    with three), each digit said on its own, as people read a number aloud.
    """
    try:
        dialled = phonenumbers.format_out_of_country_calling_number(phonenumbers.parse(number, "NL"), "NL")
    except phonenumbers.NumberParseException:
        dialled = number
    groups: list[list[str]] = []
    for part in dialled.split():
        digits = [d for d in part if d.isdigit()]
        head = len(digits) if len(digits) <= 3 else 3 if len(digits) % 2 else 2
        groups.append(digits[:head])
        groups += [digits[i:i + 2] for i in range(head, len(digits), 2)]
    return [group for group in groups if group]
