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
    if not context:
        return _fixed_text(name, language)
    return _render(name, language, context)


@lru_cache(maxsize=256)
def _fixed_text(name: str, language: str) -> str:
    """A text without variables is the same for every caller: rendered once per process."""
    return _render(name, language, {})


def _render(name: str, language: str, context: dict[str, Any]) -> str:
    text = environment().get_template(f"voice/{name}.{language}.txt").render(**context)
    return " ".join(text.split())


def spoken_day(moment: datetime, today: date) -> dict[str, Any]:
    """A local moment as template data: relative ('today', 'weekday', 'date'), weekday, day, month, hour, minute."""
    local_day = moment.date()
    ahead = (local_day - today).days
    relative = "today" if ahead == 0 else "weekday" if 0 < ahead <= WEEKDAY_ONLY_DAYS else "date"
    return {"relative": relative, "weekday": local_day.weekday(), "day": local_day.day,
            "month": local_day.month, "hour": moment.hour, "minute": moment.minute}
