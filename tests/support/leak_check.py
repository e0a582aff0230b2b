"""Every participant page any test renders is searched for other participants' details.

Installed on the tests' app (tests/conftest.py), so it covers the integration tests' client and the browser
tests' live server alike: a page under /a/ that holds the name, phone number (as stored or as dialled at
home), email or address of any participant other than the one whose link opened it fails the request with
an AssertionError, and with it the test. Names are matched as whole words, so "Person 1.1" is not found in
"Person 1.10".
"""
from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, request
from sqlalchemy import select

from core.runtime import db_session


def _details(participant: Any) -> list[str]:
    out = [v for v in (participant.name, participant.phone, participant.email, participant.address) if v]
    if participant.phone and participant.phone.startswith("+31"):
        out.append("0" + participant.phone[3:])
    return out


def _leaks(body: str, own_id: int | None) -> list[str]:
    from scheduler.models import Participant

    found = []
    for other in db_session().scalars(select(Participant).where(Participant.id != (own_id or 0))):
        for value in _details(other):
            if re.search(rf"(?<![\w+@.]){re.escape(value)}(?![\w@])", body):
                found.append(value)
    return found


def install_leak_check(app: Flask) -> None:
    @app.after_request
    def _no_other_participant(response: Response) -> Response:
        if not request.path.startswith("/a/") or response.mimetype != "text/html" or response.direct_passthrough:
            return response
        from participants.link_access import current_link

        link = current_link()
        leaks = _leaks(response.get_data(as_text=True), link.participant.id if link else None)
        assert not leaks, f"{request.path} shows another participant's details: {leaks}"
        return response
