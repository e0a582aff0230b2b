"""Scheduler's stored values as words on the pages ("op locatie", not `in_person`).

Registered with core.web.register_labels by the plugin; a template writes
`{{ appointment.mode | label("mode") }}`. Each word is a lazy msgid, so it
is translated in the language of the page being rendered.
"""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.web import register_labels

WORDS = {
    "case_kind": {
        "crime": _l("crime"), "traffic_accident": _l("traffic accident"), "sexual_abuse": _l("sexual abuse"),
        "transgressive_behaviour": _l("transgressive behaviour"), "other": _l("other"),
    },
    "case_status": {
        "registered": _l("registered"), "intake": _l("intake"), "contact": _l("in contact"),
        "meeting": _l("meeting"), "closed": _l("closed"),
    },
    "participant_role": {
        "victim": _l("victim"), "next_of_kin": _l("next of kin"), "suspect": _l("suspect"),
        "offender": _l("offender"), "causer": _l("party who caused it"), "other": _l("other"),
    },
    "language": {"nl": _l("Dutch"), "en": _l("English")},
    "appointment_kind": {
        "intake": _l("intake"), "preparation": _l("preparation"), "meeting": _l("joint meeting"),
        "follow_up": _l("follow-up"),
    },
    "mode": {
        "in_person": _l("at a location"), "home_visit": _l("home visit"), "phone": _l("by phone"),
        "video": _l("by video"),
    },
    "appointment_status": {
        "held": _l("held"), "confirmed": _l("confirmed"), "cancelled": _l("cancelled"),
        "completed": _l("completed"), "no_show": _l("did not come"),
    },
    "override_reason": {
        "participant_request": _l("at the participant's request"), "urgent": _l("urgent"),
        "accessibility": _l("accessibility"), "mediator_agreed": _l("the mediator agreed"),
        "no_other_room": _l("no other room available"), "other": _l("other reason"),
    },
    "cancel_reason": {
        "cancelled": _l("cancelled"), "participant_request": _l("at the participant's request"),
        "mediator_unavailable": _l("mediator unavailable"), "room_unavailable": _l("room unavailable"),
        "case_closed": _l("case closed"), "other": _l("other reason"), "hold_expired": _l("hold expired"),
        "participant_withdrew": _l("a participant stopped"),
        "offer_chosen": _l("another offered time was chosen"), "offer_withdrawn": _l("offer withdrawn"),
        "offer_lapsed": _l("offer ran out"),
    },
    "attendance_response": {"coming": _l("coming"), "cannot_come": _l("cannot come")},
    "task_kind": {"inform_other_party": _l("tell the other party in person"),
                  "offer_lapsed": _l("offered times ran out: agree a time with the participant"),
                  "participant_cannot_come": _l("participant cannot come: call about another time")},
    "offer_status": {"open": _l("waiting for their choice"), "chosen": _l("chosen"), "lapsed": _l("ran out"),
                     "withdrawn": _l("withdrawn")},
}


def install_labels(app: Flask) -> None:
    for kind, words in WORDS.items():
        register_labels(app, kind, words)
