"""The booking engine's refusals as sentences for the joint meeting page (scheduler.desk_meeting):
which form field a refusal names, and what to say next to it, in the page's language."""
from __future__ import annotations

from flask_babel import gettext as _

from core.problems import Conflict, Forbidden, Problem
from scheduler.booking import BookingConflict
from scheduler.policy import BookingPolicy


def refusal_sentence(exc: Problem, policy: BookingPolicy) -> tuple[str | None, str]:
    """(the form field, a sentence in the page's language) for a refusal of the booking engine."""
    if isinstance(exc, BookingConflict):
        kinds = {"mediator": _("mediator"), "room": _("room"), "participant": _("participant")}
        names = ", ".join(f"{kinds.get(str(c['type']), c['type'])} {c['name']}" for c in exc.extra["conflicts"])
        return "start_time", _("Not free at that time: %(names)s. Choose another time.", names=names)
    if isinstance(exc, Forbidden):
        return None, _("Only a coordinator can book past this rule.")
    if isinstance(exc, Conflict):
        return None, _("This cannot be planned as it is.")
    error = exc.errors[0] if exc.errors else {"field": "", "message": exc.detail}
    field, message = error.get("field", ""), error.get("message", "")
    arrival_gap = int(policy.arrival_gap.total_seconds() // 60)
    departure_gap = int(policy.departure_gap.total_seconds() // 60)
    if field == "arrivals":
        if "apart" in message:
            return "arrivals", _("The two parties arrive at least %(minutes)d minutes apart, so they do not meet "
                                 "at the door or in the waiting area.", minutes=arrival_gap)
        if "leaves" in message:
            return "arrivals", _("The party who arrives first leaves %(minutes)d minutes before the end, so both "
                                 "parties must have arrived before then: choose earlier arrivals or a longer "
                                 "meeting.", minutes=departure_gap)
        return "arrivals", _("Each arrival must lie within the meeting.")
    if field == "room_id":
        if "waiting area" in message:
            return "room_id", _("A joint meeting needs a room with a separate waiting area. A coordinator can use "
                                "this room anyway, with a reason.")
        if "needs a room" in message:
            return "room_id", _("A meeting at a location needs a room.")
        return "room_id", _("This room cannot be used: it is no longer available.")
    if field == "start":
        if "minimum notice" in message:
            return "start_time", _("That time lies inside the minimum notice of %(minutes)d minutes.",
                                   minutes=int(policy.min_notice.total_seconds() // 60))
        if "closed" in message:
            return "day", _("The office is closed on that day.")
        if "working hours of" in message:
            name = message.split("working hours of ", 1)[1].split(" (", 1)[0]
            return "start_time", _("That time lies outside the working hours of %(name)s.", name=name)
        if "past" in message:
            return "start_time", _("That time lies in the past.")
    if field == "end":
        return "duration", _("A meeting lasts at most 8 hours.")
    if field == "mediator_ids":
        return "mediator_ids", _("Choose one or two active mediators of this case.")
    if field == "participant_ids":
        return "participant_ids", _("Someone chosen has stopped or is not in this case.")
    if field == "waiting_area_reason":
        return "waiting_area_reason", _("Give a reason to use this room anyway.")
    if field == "video_url":
        return "video_url", _("Enter a link that starts with https://")
    if field == "case_id":
        return None, _("This case is closed: nothing can be planned in it.")
    return None, _("This cannot be planned as it is.")
