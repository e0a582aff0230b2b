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
