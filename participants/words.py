"""Discreet words for a participant's page: what kind of appointment, which moments suit them.

The page may be seen by someone else holding the phone, so it names an appointment as a conversation
("gesprek"), never what it is about, and never the other party.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from flask_babel import lazy_gettext as _l

from core.workdays import WorkingDayCalendar

KIND_WORDS = {"intake": _l("A first conversation"), "preparation": _l("A preparatory conversation"),
              "meeting": _l("A conversation"), "follow_up": _l("A follow-up conversation")}
MODE_WORDS = {"in_person": _l("at the address below"), "home_visit": _l("at your home"),
              "phone": _l("by phone: we will call you"), "video": _l("by video")}
PARTS = (("morning", _l("morning")), ("afternoon", _l("afternoon")))
OFFICE_PARTS = {"morning": "ochtend", "afternoon": "middag"}  # the mediator's task note, in the office's language
MOMENT_DAYS = 5


@dataclass(frozen=True)
class Moment:
    value: str   # "2027-01-12:morning"
    day: date
    part: str


def moments_after(today: date, calendar: WorkingDayCalendar) -> list[Moment]:
    """The next few working days, mornings and afternoons: what a participant can tick as suiting them."""
    out, day = [], today
    for _ in range(MOMENT_DAYS):
        day = calendar.next_working_day(day)
        out += [Moment(f"{day.isoformat()}:{part}", day, part) for part, _ in PARTS]
    return out


def moment_note(value: str) -> str | None:
    """A ticked moment as the mediator's task shows it ("di 12 jan. ochtend"); None if it is not one."""
    day_text, _, part = value.partition(":")
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        return None
    if part not in OFFICE_PARTS:
        return None
    return f"{format_date(day, 'EEE d MMM', locale='nl')} {OFFICE_PARTS[part]}"

