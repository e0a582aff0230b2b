"""The callers' side of the mixed traffic: phone-line walks as Twilio posts them, and the web callback form.

`Clients` are one traffic thread's connections: the API script (bearer
token), the staff member's browser (signed in through the real form once),
an anonymous one for feeds, and fresh ones for people who come once.

A walk is what bench/webhooks_drive.py walks: the incoming call, then the
keys of a callback request ("2" callback, "1" this number, "1" morning, "1"
may say who we are, "1" a confirmation text), each posted to the action of
the previous answer's last `<Gather>` and signed for PUBLIC_BASE_URL + that
path, and at the end the status callback Twilio sends when the call is over.
The same keys work in office hours and out of them, so no run depends on
the hour it starts.

The web form is posted the way a person does it: the page is served, and
the form is sent some seconds later (the minimum fill-in time is 3 s). So
each web request sends a form that was fetched earlier and fetches one for
the next; the first few only fetch.
"""
from __future__ import annotations

import collections
import random
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from typing import Any

from bench.webhooks_drive import WALK_KEYS, params_for
from tests.support.office import Office
from tests.support.traffic_http import Client, Result, TwilioSigner, form_fields, result

FILL_IN_SECONDS = 3.5  # a little over the form's minimum


class Clients:
    def __init__(self, port: int, origin: str, api_token: str) -> None:
        self.port, self.origin = port, origin
        self.api = Client(port, origin, bearer=api_token)
        self.browser = Client(port, origin)
        self.anonymous = Client(port, origin)
        self.signed_in = False

    def fresh(self) -> Client:
        """A new visitor: no cookies (close it when done)."""
        return Client(self.port, self.origin)

    def sign_in(self, office: Office) -> list[Result]:
        page = self.browser.get("/login")
        fields = form_fields(page.text)
        done = self.browser.post_form("/login", {**fields, "email": office.staff_email,
                                                 "password": office.staff_password})
        self.signed_in = done.status == 302
        return [result("staff sign-in", page, (200,)), result("staff sign-in", done, (302,))]

    def close(self) -> None:
        for client in (self.api, self.browser, self.anonymous):
            client.close()


def last_gather_action(body: bytes) -> tuple[str | None, bool]:
    """(the last <Gather>'s action URL, whether the answer hangs up); (None, False) if it is not TwiML."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None, False
    gathers = root.findall("Gather")
    return (gathers[-1].get("action") if gathers else None), root.find("Hangup") is not None


class CallTraffic:
    def __init__(self, system: Any, office: Office) -> None:
        self.system, self.office = system, office
        self.signer = TwilioSigner(system.public_base_url, system.twilio_auth_token)
        self._forms: collections.deque[tuple[float, Client, dict[str, str]]] = collections.deque()
        self._forms_lock = threading.Lock()

    def ivr_walk(self, clients: Clients, rng: random.Random) -> list[Result]:
        sid, number = "CA" + uuid.uuid4().hex, rng.choice(self.office.callers)
        twilio = clients.fresh()
        results = []
        path: str | None = "/telephony/voice"
        status, hung_up = "ringing", False
        for key in (None, *WALK_KEYS):
            if path is None:
                results.append(Result("ivr walk", 200, 0.0, "error", "ivr walk: an answer asked nothing"))
                break
            answer = self.signer.post(twilio, path, params_for(sid, number, status, key))
            results.append(result("ivr walk", answer, (200,)))
            if answer.status != 200:
                break
            action, hung_up = last_gather_action(answer.body)
            path, status = self.signer.path_of(action), "in-progress"
        else:
            if not hung_up:
                results.append(Result("ivr walk", 200, 0.0, "error", "ivr walk: the call did not end"))
            over = self.signer.post(twilio, "/telephony/voice/status",
                                    {**params_for(sid, number, "completed"), "CallDuration": "40"})
            results.append(result("ivr walk", over, (204,), what="ivr status callback"))
        twilio.close()
        return results

    def _served_form(self, clients: Clients) -> Result:
        visitor = clients.fresh()
        page = visitor.get("/bel-mij-terug")
        if page.status == 200:
            with self._forms_lock:
                self._forms.append((time.monotonic(), visitor, form_fields(page.text)))
        else:
            visitor.close()
        return result("callback form", page, (200,))

    def web_callback(self, clients: Clients, rng: random.Random) -> list[Result]:
        """Send the oldest form served at least FILL_IN_SECONDS ago (if any), and serve one for later."""
        with self._forms_lock:
            ready = self._forms and time.monotonic() - self._forms[0][0] >= FILL_IN_SECONDS
            _, visitor, fields = self._forms.popleft() if ready else (0.0, None, {})
        results = []
        if visitor is not None:
            sent = visitor.post_form("/bel-mij-terug", {
                **fields, "website": "", "number": "0" + rng.choice(self.office.callers)[3:],
                "moment": rng.choice(("morning", "afternoon", "no_preference")),
                "may_identify": rng.choice(("yes", "no")), "wants_confirmation": "y"})
            results.append(result("web callback", sent, (303,)))
            visitor.close()
        return results + [self._served_form(clients)]
