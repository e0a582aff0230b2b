"""The desk's side of offered times: offer two to four times from the intake's slot picker, withdraw an
offer, or book one of its times for the participant (agreed by phone, say).

Every rule is scheduler.offers' (and through it booking's: each offered time is a hold); these views put
its refusals in words next to what they are about, on the page they came from. Offering is a POST of the
picker's own form (ticked `offer` boxes and the second submit button), so it works without JavaScript; a
refusal renders the intake page again with the search as it was. Who may act is who may see the case
(scheduler.access): the office, and a mediator on their own cases; anything else is the same 404 as an
unknown id. The case page's section is scheduler.offer_rows (loaded) and offers/_section.html (drawn).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from flask import Blueprint, flash, g, redirect, request, url_for
from flask_babel import gettext as _, ngettext
from sqlalchemy import select

from core.auth import login_required
from core.db import utcnow
from core.problems import Conflict, InvalidInput, NotFound, Problem
from core.runtime import current, db_session
from core.web import fmt_datetime, fmt_day, fmt_time
from scheduler import offers
from scheduler.access import case_for
from scheduler.api import writing
from scheduler.booking import BookingConflict
from scheduler.desk_booking import PlanContext, _plan_context, _plan_form, _render_plan, intake_case, intake_request
from scheduler.desk_picker import _case_url, _not_found, _policy, parse_slot, refusal_sentence, refused
from scheduler.models import Appointment, Participant
from scheduler.participant_models import Offer

desk_offers = Blueprint("desk_offers", __name__, template_folder="templates")


# --- what the picker shows: may times be offered to the participant of this search? -----------------

@desk_offers.app_template_global()
def offering(context: PlanContext, form: Any) -> dict[str, Any] | None:
    """For the intake page: the participant searched for, whether they can get the link, and an open offer
    of theirs (a new one waits until it is decided or withdrawn). None when there is no participant."""
    participant = next((p for p in context.participants if str(p.id) == str(form.participant_id.data)), None)
    if participant is None:
        return None
    open_until = db_session().scalar(select(Offer.expires_at).where(Offer.participant_id == participant.id,
                                                                    Offer.status == "open"))
    return {"action": url_for("desk_offers.make", case_id=context.case.id), "name": participant.name,
            "reachable": offers.reachable(participant), "open_until": open_until,
            "case_url": _case_url(context.case.id)}


def _case_offers_url(case_id: int) -> str:
    return (_case_url(case_id) or url_for("staff.home")) + "#offers"


# --- offer from the picker --------------------------------------------------------------------------

def _overlap(picked: list[tuple[datetime, tuple[int, ...], int | None]], minutes: int) -> bool:
    starts = sorted(start for start, _m, _r in picked)
    return any(later < earlier + timedelta(minutes=minutes) for earlier, later in zip(starts, starts[1:]))


@desk_offers.post("/cases/<int:case_id>/offers")
@login_required
def make(case_id: int) -> Any:
    session = db_session()
    case, refusal = intake_case(session, case_id)
    if case is None:
        return refusal
    context = _plan_context(session, case)
    form = _plan_form(session, context, submitted=True)
    render = partial(_render_plan, session, context, form)
    if not form.validate():
        return render(400, search=False)
    ticked = [parse_slot(value) for value in request.form.getlist("offer")]
    picked = [p for p in ticked if p is not None]
    if len(picked) != len(ticked) or not offers.MIN_SLOTS <= len(picked) <= offers.MAX_SLOTS:
        return render(422, sentence=_("Tick two to four of the free times to offer them."))
    if any(not set(mediators) <= {m.id for m in case.mediators} for _s, mediators, _r in picked):
        form.mediator.errors = [_("Times can be offered with the case's own mediators only: choose one of them.")]
        return render(422)
    if _overlap(picked, form.duration.data):
        return render(422, sentence=_("The ticked times overlap: tick times that lie apart, as only one of them "
                                      "will be booked."))
    participant_id = int(form.participant_id.data)
    slots = [intake_request(case.id, form, start, mediators, room, {}) for start, mediators, room in picked]
    now = utcnow()
    try:
        with writing() as (write, actor):
            offer = offers.make_offer(write, actor, participant_id, slots, now, policy=_policy(),
                                      hours=current().settings.offer_hours)
            expires = offer.expires_at
    except InvalidInput as exc:
        return _refused_input(exc, form, render)
    except BookingConflict as exc:
        return render(409, sentence=refusal_sentence(exc))
    except Conflict:
        return _refused_conflict(participant_id, form, render)
    except Problem as exc:
        return refused(exc, form, render)
    name = dict((p.id, p.name) for p in context.participants).get(participant_id, "")
    flash(ngettext("%(num)d time is offered to %(name)s, held until %(until)s. They get a message with a link to "
                   "choose.", "%(num)d times are offered to %(name)s, held until %(until)s. They get a message "
                   "with a link to choose.", len(slots), name=name, until=fmt_datetime(expires, "short")), "success")
    return redirect(_case_offers_url(case.id), 303)


def _refused_input(exc: InvalidInput, form: Any, render: Any) -> Any:
    fields = {e.get("field") for e in exc.errors}
    if "participant_id" in fields:
        form.participant_id.errors = [_("This participant allows neither texts nor emails, so they cannot get "
                                        "the link to choose. Book a time with them instead.")]
        return render(422)
    if "slots" in fields:
        return render(422, sentence=_("Tick two to four of the free times to offer them."))
    return refused(exc, form, render)


def _refused_conflict(participant_id: int, form: Any, render: Any) -> Any:
    """make_offer's own refusals: the participant stopped, or has times offered already."""
    participant = db_session().get(Participant, participant_id, populate_existing=True)
    if participant is not None and participant.withdrawn_at is not None:
        form.participant_id.errors = [_("This participant has stopped: nothing can be offered to them.")]
    else:
        form.participant_id.errors = [_("Times are offered to this participant already: withdraw that offer on "
                                        "the case page first.")]
    return render(409)


# --- on the case page: withdraw, or book one of the times for them -----------------------------------

def _offer_in_sight(offer_id: int) -> Offer | None:
    session = db_session()
    offer = session.get(Offer, offer_id)
    if offer is None:
        return None
    try:
        case_for(session, g.user, offer.case_id)
    except NotFound:
        return None
    return offer


@desk_offers.post("/offers/<int:offer_id>/withdraw")
@login_required
def withdraw(offer_id: int) -> Any:
    offer = _offer_in_sight(offer_id)
    if offer is None:
        return _not_found()
    case_id, was_open = offer.case_id, offer.status == "open"
    with writing() as (write, actor):
        status = offers.withdraw(write, actor, offer_id, utcnow()).status
    if status == "withdrawn" and was_open:
        flash(_("The offer is withdrawn: its times are free again and its link no longer works."), "success")
    else:
        flash(_closed_sentence(status, offer_id), "warning")
    return redirect(_case_offers_url(case_id), 303)


@desk_offers.post("/offers/<int:offer_id>/choose")
@login_required
def choose(offer_id: int) -> Any:
    offer = _offer_in_sight(offer_id)
    if offer is None:
        return _not_found()
    case_id = offer.case_id
    raw = request.form.get("appointment_id", "")
    if not (raw.isascii() and raw.isdigit() and 0 < int(raw) < 2 ** 31):
        return _not_found()
    try:
        with writing() as (write, actor):
            chosen = offers.choose(write, offer_id, int(raw), actor, utcnow())
            chosen_id, start = chosen.id, chosen.start
    except NotFound:
        return _not_found()
    except offers.OfferClosed as exc:
        flash(_closed_sentence(exc.state, offer_id), "warning")
        return redirect(_case_offers_url(case_id), 303)
    except offers.SlotGone:
        flash(_("That time is no longer free (the mediator's calendar is busy then). Choose another of the "
                "offered times, or withdraw the offer."), "warning")
        return redirect(_case_offers_url(case_id), 303)
    flash(_("Booked for %(day)s at %(time)s. The participant's confirmation is on its way.",
            day=fmt_day(start), time=fmt_time(start)), "success")
    return redirect(url_for("desk_booking.appointment", appointment_id=chosen_id), 303)


def _closed_sentence(state: str, offer_id: int) -> str:
    """Why nothing happened: someone decided the offer first (the participant on their page, perhaps)."""
    if state == "chosen":
        start = db_session().scalar(select(Appointment.start).join(Offer, Offer.chosen_appointment_id == Appointment.id)
                                    .where(Offer.id == offer_id))
        if start is not None:
            return _("The participant chose a time meanwhile: %(day)s at %(time)s. That one is booked.",
                     day=fmt_day(start), time=fmt_time(start))
        return _("A time of this offer was chosen meanwhile.")
    if state == "lapsed":
        return _("This offer has run out: its times are free again.")
    return _("This offer was withdrawn: its times are free again.")
