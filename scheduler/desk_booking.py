"""The desk's booking pages: plan an intake through the slot picker, an appointment's page, reschedule, cancel.

Every rule is the engine's: the free times come from the availability search
(scheduler.search, or scheduler.search_region for "any free mediator of the
case's region"), a pick holds the slot (booking.book with a hold), the
confirmation books it (booking.confirm), "back" releases it; a reschedule is
booking.reschedule and a cancellation booking.cancel. Each write runs in one
transaction (scheduler.api.writing), so a refusal changes nothing. A time
taken meanwhile is a sentence above fresh slots (409), never an error page.

"Book anyway" (a time outside the offered ones: outside the mediator's
working hours or in their imported busy time) is a coordinator's, with a
reason; a mediator is never offered it and gets a 403 for posting it. A
mediator sees only their own cases' appointments: anything else is the same
404 as an unknown id (scheduler.access).

The slot picker and the helpers the pages share are scheduler.desk_picker; the
appointment's page, the held slot, reschedule and cancel are
scheduler.desk_appointment, on this same blueprint (imported at the bottom, so
importing this module brings all of the blueprint's views).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, g, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.datastructures import MultiDict

from core.auth import login_required
from core.db import utcnow
from core.problems import NotFound, Problem
from core.runtime import current, db_session
from core.web import label
from scheduler import booking, casework
from scheduler.access import case_for, own_mediator_id
from scheduler.api import writing
from scheduler.desk_booking_forms import REGION, PlanForm
from scheduler.desk_picker import (Render, SlotChoice, _asks_override, _case_url, _first_url, _later_url, _not_found,
                                   _office_only, _page, _policy, _set_place_choices, picker_request, refused,
                                   search_slots, slot_days)
from scheduler.models import Case, Mediator
from scheduler.rules import BookingRequest

desk_booking = Blueprint("desk_booking", __name__, template_folder="templates", static_folder="static",
                         static_url_path="/static/desk_booking")

# --- plan an intake ------------------------------------------------------------------------------

@dataclass
class PlanContext:
    case: Case
    region_name: str | None
    mediators: dict[int, str]  # who may be chosen, by id
    participants: list[Any]


def _plan_context(session: Session, case: Case) -> PlanContext:
    active = [p for p in case.participants if p.takes_part]
    if g.user.sees_all_cases:
        # The case's own first, then every other active mediator by name (ids and names only: the
        # working-hours JSON of forty mediators is not needed for a list of names).
        mediators = {m.id: m.name for m in case.mediators if m.active}
        others = session.execute(select(Mediator.id, Mediator.name).where(Mediator.active.is_(True))
                                 .order_by(Mediator.name))
        mediators.update((mid, name) for mid, name in others if mid not in mediators)
    else:
        own = own_mediator_id(session, g.user)
        mediators = {m.id: m.name for m in case.mediators if m.id == own}
    region_name = case.region.name if case.region is not None and g.user.sees_all_cases else None
    return PlanContext(case, region_name, mediators, active)


def _plan_form(session: Session, context: PlanContext, submitted: bool) -> PlanForm:
    case = context.case
    if submitted:
        form = PlanForm()
    else:
        args = request.args
        if "mode" not in args:
            wanted = args.get("participant_id", "")
            participant = next((p for p in context.participants if str(p.id) == wanted), None) or \
                next(iter(context.participants), None)
            on_case = [m.id for m in case.mediators if m.id in context.mediators]
            mediator = str(on_case[0]) if on_case else (REGION if context.region_name else
                                                        next((str(m) for m in context.mediators), ""))
            args = MultiDict({"mode": "home_visit", "duration": "60", "mediator": mediator,
                              "participant_id": str(participant.id) if participant else ""})
        form = PlanForm(formdata=args, meta={"csrf": False})
    on_case_ids = {m.id for m in case.mediators}
    choices = [(str(mid), name if mid not in on_case_ids else _("%(name)s (on this case)", name=name))
               for mid, name in context.mediators.items()]
    if context.region_name:
        choices.insert(len([m for m in context.mediators if m in on_case_ids]),
                       (REGION, _("Any free mediator of region %(region)s", region=context.region_name)))
    form.mediator.choices = choices
    form.participant_id.choices = [(str(p.id), f"{p.name} ({label(p.role, 'participant_role')})")
                                   for p in context.participants]
    _set_place_choices(form, session)
    return form


def _plan_search(session: Session, context: PlanContext, form: PlanForm) -> tuple[list[SlotChoice], str | None]:
    if form.mediator.data == REGION:
        return search_slots(session, form, region_id=context.case.region.id)  # type: ignore[union-attr]
    return search_slots(session, form, mediator_ids=[int(form.mediator.data)])


def _render_plan(session: Session, context: PlanContext, form: PlanForm, status: int = 200,
                 sentence: str | None = None, search: bool = True) -> tuple[str, int]:
    choices: list[SlotChoice] = []
    if search and not form.mode.errors and not form.duration.errors and not form.mediator.errors \
            and not form.location_id.errors and form.mediator.data:
        choices, refused = _plan_search(session, context, form)
        sentence = sentence or refused
    case_id = context.case.id
    return _page("plan.html", status, context=context, form=form, sentence=sentence,
                 days=slot_days(choices, current().settings.tz),
                 later_url=_later_url("desk_booking.plan_intake", form, choices, case_id=case_id),
                 first_url=_first_url("desk_booking.plan_intake", form, case_id=case_id),
                 hidden=form.carried(), case_url=_case_url(case_id),
                 may_override=g.user.sees_all_cases)


def intake_case(session: Session, case_id: int) -> tuple[Case | None, Any]:
    """The case with what the picker shows of it, in one query; or None and the page saying why not (not
    found, closed). Also for offering times from the picker (scheduler.desk_offers)."""
    try:
        case = case_for(session, g.user, case_id, joinedload(Case.participants), joinedload(Case.mediators),
                        joinedload(Case.region))
    except NotFound:
        return None, _not_found()
    if case.status == "closed":
        return None, _page("closed.html", 409, case=case, case_url=_case_url(case.id))
    return case, None


@desk_booking.route("/cases/<int:case_id>/intake", methods=["GET", "POST"])
@login_required
def plan_intake(case_id: int) -> Any:
    session = db_session()
    case, refusal = intake_case(session, case_id)
    if case is None:
        return refusal
    context = _plan_context(session, case)
    if request.method == "POST" and _asks_override() and not g.user.sees_all_cases:
        return _office_only()
    form = _plan_form(session, context, submitted=request.method == "POST")
    render = partial(_render_plan, session, context, form)

    def other(start: datetime, room_id: int | None, overrides: dict[str, str]) -> Any:
        if form.mediator.data == REGION:
            form.mediator.errors = [_("Choose one mediator for another time.")]
            return render(400, search=False)
        return _hold(context, form, render, start, (int(form.mediator.data),), room_id, overrides)

    return picker_request(form, render, lambda start, mediators, room: _hold(context, form, render, start, mediators,
                                                                             room, {}), other)


def intake_request(case_id: int, form: PlanForm, start: datetime, mediator_ids: tuple[int, ...], room_id: int | None,
                   overrides: dict[str, str]) -> BookingRequest:
    """The intake a pick of the picker asks for (also each time offered to choose from: scheduler.desk_offers)."""
    return BookingRequest(case_id=case_id, kind="intake", mode=form.mode.data, start=start,
                          end=start + timedelta(minutes=form.duration.data), mediator_ids=mediator_ids,
                          room_id=room_id if form.mode.data == "in_person" else None,
                          participant_ids=(int(form.participant_id.data),),
                          outside_hours=overrides.get("outside_hours"), busy_time=overrides.get("busy_time"),
                          video_url=form.chosen_video_url())


def _hold(context: PlanContext, form: PlanForm, render: Render, start: datetime, mediator_ids: tuple[int, ...],
          room_id: int | None, overrides: dict[str, str]) -> Any:
    """Hold the slot (the engine's hold); a mediator from outside the case joins it in the same step."""
    case = context.case
    joining = [m for m in mediator_ids if m not in {x.id for x in case.mediators}]
    req = intake_request(case.id, form, start, mediator_ids, room_id, overrides)
    now = utcnow()
    try:
        with writing() as (write, actor):
            if joining:
                current_ids = [m.id for m in case_for(write, actor, case.id).mediators]
                casework.update_case(write, actor, case.id, {"mediator_ids": current_ids + joining}, now)
            held = booking.book(write, req, actor, now, policy=_policy(), hold_for=current().hold_duration)
            held_id = held.id
    except Problem as exc:
        return refused(exc, form, render)
    back = url_for(".plan_intake", case_id=case.id) + "?" + urlencode(form.carried())
    query = {"back": back, **({"joined": ",".join(str(m) for m in joining)} if joining else {})}
    return redirect(url_for(".held", appointment_id=held_id) + "?" + urlencode(query), 303)


# The appointment's views are on this blueprint too: registering them here keeps the blueprint whole for
# whoever imports it (scheduler.plugin registers it once).
from scheduler import desk_appointment as _appointment_views  # noqa: E402,F401  (registers its routes)
