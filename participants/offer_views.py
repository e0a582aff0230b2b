"""The page behind a link (`/a/`), and choosing one of the times a mediator offered.

An offer's page lists its times in the participant's language: the ones still free to choose, and the
ones gone meanwhile (shown as gone, not hidden, so the list does not change under their eyes). Choosing
is a confirmation page, then a POST to scheduler.offers.choose, which books atomically: a second browser
or a coordinator who chose first makes it a clear message, never a second booking. When no time is left
or the offer ran out, the page offers "call me back" instead: a callback request in the office's queue.
"""
from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for

from core.db import utcnow
from core.problems import NotFound
from core.runtime import current, db_session
from participants.appointment_views import appointment_page, visit_of
from participants.forms import ChooseForm, ConfirmForm
from participants.link_access import appointment_of, closed_page, participant_bp, with_link
from participants.words import KIND_WORDS
from scheduler import offers
from scheduler.links import Link
from scheduler.models import Appointment
from telephony.web_callbacks import take_web_request


@participant_bp.get("/a/")
@with_link
def show(link: Link) -> Any:
    appointment = appointment_of(link)
    if appointment is not None:
        visit = visit_of(link, appointment)
        return appointment_page(link, visit) if visit is not None else closed_page()
    return _offer_page(link)


def _offer_page(link: Link, status: int = 200, **extra: Any) -> Any:
    offer = link.offer
    assert offer is not None
    states = offers.slot_states(db_session(), offer, utcnow())
    free = [s for s in states if s.free]
    kind = states[0].appointment.kind if states else "intake"
    return render_template("participants/offer.html", offer=offer, states=states, free=free,
                           kind_words=KIND_WORDS.get(kind, KIND_WORDS["meeting"]),
                           open=offer.status == "open" and offer.expires_at > utcnow(),
                           phone=link.participant.phone, form=ChooseForm(formdata=None), **extra), status


def _slot(link: Link, raw: object) -> Appointment | None:
    """One of this offer's times, by id; None for anything else."""
    try:
        wanted = int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return next((a for a in link.offer.slots if a.id == wanted), None) if link.offer else None


@participant_bp.route("/a/choose", methods=["GET", "POST"])
@with_link
def choose(link: Link) -> Any:
    if link.offer is None or link.offer.status == "chosen":
        return redirect(url_for(".show"), 303)
    form = ChooseForm()
    slot = _slot(link, request.values.get("slot"))
    if slot is None:
        return _offer_page(link, 400, problem="pick")
    visit = visit_of(link, slot)
    if request.method == "GET" or not form.validate_on_submit():
        return render_template("participants/choose.html", slot=slot, visit=visit, form=form), \
            400 if request.method == "POST" else 200
    try:
        with current().db.write_session() as write:
            offers.choose(write, link.offer.id, slot.id, None, utcnow())
    except offers.SlotGone:
        return _offer_page(link, 409, problem="gone")
    except offers.OfferClosed as closed:
        if closed.state == "chosen":
            return redirect(url_for(".show"), 303)  # chosen meanwhile (another browser, the office): show it
        return _offer_page(link, 409, problem="closed")
    except NotFound:
        return _offer_page(link, 400, problem="pick")
    db_session().expire_all()
    chosen = db_session().get(Appointment, slot.id)
    booked = visit_of(link, chosen) if chosen is not None else None
    return appointment_page(link, booked, just_chosen=True) if booked is not None else redirect(url_for(".show"), 303)


@participant_bp.route("/a/call-me", methods=["GET", "POST"])
@with_link
def call_me(link: Link) -> Any:
    """No offered time suits or is left: the offer lapses (the mediator gets a task) and, when we have their
    number, a callback request joins the office's queue like one made by phone."""
    if link.offer is None or link.offer.status == "chosen":
        return redirect(url_for(".show"), 303)
    form = ConfirmForm()
    phone = link.participant.phone
    if request.method == "GET" or not form.validate_on_submit():
        return render_template("participants/call_me.html", form=form, phone=phone), \
            400 if request.method == "POST" else 200
    settings, now = current().settings, utcnow()
    window = None
    with current().db.write_session() as write:
        offers.lapse(write, link.offer.id, now)
        if phone:
            # Their own number, in the queue like a request by phone; not "may we say who we are": the office
            # calls a participant it knows, but a housemate may answer.
            taken = take_web_request(write, settings, number=phone, language=link.participant.language,
                                     moment="no_preference", may_identify=False, wants_confirmation=False, now=now,
                                     case_id=link.participant.case_id, address=request.remote_addr)
            window = taken.window
    return render_template("participants/called.html", phone=phone, window=window)
