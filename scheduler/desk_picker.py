"""The desk's slot picker and what the booking pages share: the slots it shows, a pick as one form value,
the availability search behind it, one picker request, and the engine's refusals in words on its page.

The picker (templates/scheduler/desk/booking/_picker.html) takes `SlotDay`s
built by `slot_days` from `SlotChoice`s; `slot_value`/`parse_slot` encode a
pick as one form value. Other pages (the joint meeting) may use the three.
The pages using it are scheduler.desk_booking (plan an intake) and
scheduler.desk_appointment (an appointment, reschedule, cancel).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import urlencode

from flask import current_app, g, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.problems import Conflict, Forbidden, InvalidInput, NotFound, Problem
from core.runtime import current
from core.web import fmt_day
from scheduler.booking import BookingConflict
from scheduler.desk_booking_forms import SlotSearchForm, parse_after
from scheduler.models import Location, Mediator, Room
from scheduler.policy import BookingPolicy, policy_of
from scheduler.search import find_available_slots
from scheduler.search_region import find_region_slots

TEMPLATES = "scheduler/desk/booking/"
PAGE_SLOTS = 40  # slots per page of the picker; "later" pages on
SEARCH_SPAN = timedelta(weeks=8)  # how far one page looks ahead for them
PICKER_STEP = timedelta(minutes=30)  # the picker offers starts on the half hour (or the office's coarser grid)


# --- the picker: what it shows and what a pick posts ---------------------------------------------

@dataclass(frozen=True)
class SlotChoice:
    value: str  # what the pick posts as `slot` (slot_value)
    start: datetime
    end: datetime
    note: str = ""  # e.g. the mediator's name when the region is searched, the room's at a location
    start_label: str = ""  # "09:30" on the office's clock (slot_days fills these in)
    end_label: str = ""


@dataclass(frozen=True)
class SlotDay:
    day: date
    label: str  # "dinsdag 8 december"
    slots: list[SlotChoice] = field(default_factory=list)


def slot_value(start: datetime, mediator_ids: Iterable[int], room_id: int | None) -> str:
    return f"{start.astimezone(timezone.utc).isoformat()}|{'+'.join(str(m) for m in mediator_ids)}|{room_id or ''}"


def parse_slot(value: str | None) -> tuple[datetime, tuple[int, ...], int | None] | None:
    """(start, mediator ids, room id) of a posted pick, or None for anything malformed."""
    try:
        when, mediators, room = (value or "").split("|")
        start = datetime.fromisoformat(when)
        ids = tuple(int(m) for m in mediators.split("+"))
        room_id = int(room) if room else None
    except ValueError:
        return None
    if start.tzinfo is None or not 2000 <= start.year <= 2999 or not ids or any(i < 1 for i in ids) \
            or (room_id is not None and room_id < 1):
        return None
    return start, ids, room_id


def slot_days(choices: Sequence[SlotChoice], tz: Any) -> list[SlotDay]:
    """The choices grouped by the office's local day, in order, with their words (the day's once per day:
    a picker shows dozens of times, and Babel's formatting is the page's main cost)."""
    days: list[SlotDay] = []
    for choice in choices:
        start = choice.start.astimezone(tz)
        if not days or days[-1].day != start.date():
            days.append(SlotDay(start.date(), fmt_day(start.date())))
        days[-1].slots.append(replace(choice, start_label=start.strftime("%H:%M"),
                                      end_label=choice.end.astimezone(tz).strftime("%H:%M")))
    return days


# --- small helpers ---------------------------------------------------------------------------------

def _policy() -> BookingPolicy:
    runtime = current()
    return policy_of(runtime.settings, runtime.workdays)


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(TEMPLATES + template, **context), status


def _not_found() -> tuple[str, int]:
    return _page("not_found.html", 404)


def _office_only() -> tuple[str, int]:
    return _page("office_only.html", 403)


def _has(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def _case_url(case_id: int) -> str | None:
    return url_for("desk_cases.show", case_id=case_id) if _has("desk_cases.show") else None


def refusal_sentence(exc: Problem) -> str:
    """A refusal of the engine in words (its own text is for the API)."""
    if isinstance(exc, BookingConflict):
        names = ", ".join(str(c["name"]) for c in exc.extra.get("conflicts", ()))
        return _("That time has just been taken (no longer free: %(names)s). Here are the free times now.",
                 names=names)
    if isinstance(exc, Conflict):
        return _("The held time has run out or was taken meanwhile. Here are the free times now.")
    fields = {e.get("field") for e in exc.errors}
    if "start" in fields:
        return _("That time is not one the office books: outside the working days, the mediator's working "
                 "hours or the minimum notice.")
    if "case_id" in fields:
        return _("This case is closed: nothing can be planned in it.")
    if "participant_ids" in fields:
        return _("This participant cannot be booked: they have stopped, or are not in this case.")
    if "mediator_ids" in fields:
        return _("This mediator cannot be booked for this case (not active, or not assigned to it).")
    if "room_id" in fields:
        return _("This room cannot be used for this appointment.")
    if "arrivals" in fields:
        return _("The arrival times no longer fit in the new time.")
    return _("This cannot be booked as it is.")


# --- searching -----------------------------------------------------------------------------------

def _mediator_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    return dict(session.execute(select(Mediator.id, Mediator.name).where(Mediator.id.in_(wanted))).all()) \
        if wanted else {}


def _room_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    return dict(session.execute(select(Room.id, Room.name).where(Room.id.in_(wanted))).all()) if wanted else {}


def search_slots(session: Session, form: SlotSearchForm, *, mediator_ids: Sequence[int] = (),
                 region_id: int | None = None, room_id: int | None = None) -> tuple[list[SlotChoice], str | None]:
    """One page of free slots for the form's search, and the sentence of a refusal (else None)."""
    runtime = current()
    settings = runtime.settings
    now = utcnow()
    after = parse_after(form.after.data)
    start = min(max(after, now), now + timedelta(days=2 * 366)) if after else now
    location_id = None if room_id is not None else form.chosen_location()
    common: dict[str, Any] = dict(
        room_id=room_id, location_id=location_id, duration=timedelta(minutes=form.duration.data), start=start,
        end=start + SEARCH_SPAN, now=now, workdays=runtime.workdays, tz=settings.tz,
        grid=max(timedelta(minutes=settings.slot_grid_minutes), PICKER_STEP),
        min_notice=timedelta(minutes=settings.min_notice_minutes), limit=PAGE_SLOTS)
    try:
        if region_id is not None:
            found = [(s.start, s.end, (s.mediator_id,), s.room_id)
                     for s in find_region_slots(session, g.user, region_id=region_id, **common)]
        else:
            found = [(s.start, s.end, tuple(mediator_ids), s.room_id)
                     for s in find_available_slots(session, g.user, mediator_ids=list(mediator_ids), **common)]
    except Problem as exc:
        return [], refusal_sentence(exc)
    names = _mediator_names(session, (m for _s, _e, ids, _r in found for m in ids)) if region_id else {}
    rooms = _room_names(session, (r for *_rest, r in found))
    choices = [SlotChoice(slot_value(s, ids, r), s, e,
                          " · ".join(x for x in (", ".join(names.get(m, "") for m in ids) if names else "",
                                                 rooms.get(r or 0, "")) if x))
               for s, e, ids, r in found]
    return choices, None


def _later_url(endpoint: str, form: SlotSearchForm, choices: Sequence[SlotChoice], **values: Any) -> str | None:
    if len(choices) < PAGE_SLOTS:
        return None
    query = {**form.carried(), "after": (choices[-1].start + timedelta(minutes=1)).isoformat()}
    return url_for(endpoint, **values) + "?" + urlencode(query)


def _first_url(endpoint: str, form: SlotSearchForm, **values: Any) -> str | None:
    if not form.after.data:
        return None
    return url_for(endpoint, **values) + "?" + urlencode(form.carried())


def _locations(session: Session) -> list[Location]:
    return list(session.scalars(select(Location).order_by(Location.name, Location.id)))


def _set_place_choices(form: SlotSearchForm, session: Session) -> None:
    locations = _locations(session)
    form.location_id.choices = [("", _("Choose a location"))] + [(str(loc.id), f"{loc.name}, {loc.city}")
                                                                  for loc in locations]
    chosen = form.chosen_location()
    rooms = [r for loc in locations if loc.id == chosen for r in loc.rooms if r.active]
    form.room_id.choices = [(str(r.id), r.name) for r in rooms]


def _other_time(form: SlotSearchForm) -> tuple[datetime, int | None]:
    """The start and room of the "another time" part of the form (validated: day and time are there)."""
    start = datetime.combine(form.day.data, form.at.data, current().settings.tz)
    room = form.room_id.data
    return start, (int(room) if form.mode.data == "in_person" and room and room.isdigit() else None)


def _overrides(form: SlotSearchForm) -> dict[str, str]:
    """A coordinator's "book anyway": one reason for a time outside working hours and in busy time."""
    if not form.anyway.data or not form.reason.data:
        return {}
    return {"outside_hours": form.reason.data, "busy_time": form.reason.data}


def _asks_override() -> bool:
    return bool(request.form.get("anyway") or request.form.get("reason"))


# --- one picker request, and the engine's refusals on its page -----------------------------------

Render = Callable[..., tuple[str, int]]  # (status, sentence=None, search=True) -> the page again


def picker_request(form: SlotSearchForm, render: Render,
                   pick: Callable[[datetime, tuple[int, ...], int | None], Any],
                   other: Callable[[datetime, int | None, dict[str, str]], Any]) -> Any:
    """A GET is the search (a 400 when given search fields are invalid); a POST is validated whole, then
    is a pick (`pick(start, mediator ids, room id)`) or another time (`other(start, room id, overrides)`)."""
    if request.method == "GET":
        valid = form.validate()
        return render(200 if valid or "mode" not in request.args else 400, search=valid)
    if not form.validate():
        return render(400, search=False)
    if form.action.data == "other":
        start, room_id = _other_time(form)
        return other(start, room_id, _overrides(form))
    picked = parse_slot(form.slot.data)
    if picked is None:
        return render(400, sentence=_("Choose one of the free times."))
    return pick(*picked)


def refused(exc: Problem, form: SlotSearchForm, render: Render) -> Any:
    """The engine's refusal on the page it came from: next to the field it names, else a sentence above fresh
    slots (409 for a time taken, 422 for a rule); a coordinator's-only step is a 403, out of sight a 404."""
    if isinstance(exc, Forbidden):
        return _office_only()
    if isinstance(exc, NotFound):
        return _not_found()
    if not isinstance(exc, InvalidInput):
        return render(409, sentence=refusal_sentence(exc))
    fields = {e.get("field") for e in exc.errors}
    if "video_url" in fields:
        form.video_url.errors = [_("Enter a link that starts with https://")]
        return render(422, search=False)
    if "start" in fields and form.action.data == "other":
        hint = " " + _("Tick \"book anyway\" and give a reason to book it nonetheless.") if g.user.sees_all_cases else ""
        form.at.errors = [refusal_sentence(exc) + hint]
        return render(422)
    return render(422, sentence=refusal_sentence(exc))
