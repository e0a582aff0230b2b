"""Telephony's stored values as words on the pages ("geen gehoor", not `no_answer`).

Registered with core.web.register_labels by the plugin; a template writes
`{{ row.status | label("callback_status") }}`. Each word is a lazy msgid, so
it is translated in the language of the page being rendered. All packages'
catalogs are merged, so a word that means something else elsewhere gets a
msgid of its own here ("no longer needed", not "cancelled").
"""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.web import register_labels

WORDS = {
    "callback_status": {
        "open": _l("open"), "in_progress": _l("in progress"), "done": _l("done"),
        "unreachable": _l("unreachable"), "cancelled": _l("no longer needed"),
    },
    "callback_moment": {
        "morning": _l("morning"), "afternoon": _l("afternoon"), "no_preference": _l("no preference"),
    },
    "attempt_outcome": {
        "reached": _l("reached"), "no_answer": _l("no answer"), "busy": _l("line busy"),
        "wrong_number": _l("wrong number"),
    },
    "call_state": {
        "requested": _l("requested"), "ringing_staff": _l("ringing the staff member"),
        "connecting": _l("calling the caller"), "finished": _l("ended"),
        "staff_missed": _l("staff member did not answer"), "failed": _l("could not be placed"),
    },
}


def install_labels(app: Flask) -> None:
    for kind, words in WORDS.items():
        register_labels(app, kind, words)
