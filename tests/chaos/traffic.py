"""The mixed traffic of tests/support/traffic.py, also noting each callback request a caller was told was taken.

"No callback request lost" needs to know which requests the callers heard
succeed: a phone-line walk that went all the way (every webhook answered
200, the last one hanging up after saying when we call back, the status
callback taken) and a web form answered with its 303 to the next-steps
page. `ChaosTraffic` is `Traffic` with two listeners, added without changing
what a walk or a form does: its signer remembers, per thread, the CallSid it
signed last, and the web form's visitors are clients that note the number
of a form answered 303. `CallbackLedger` keeps them (CallSids and numbers
are made up; they are never printed).
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, cast

from tests.support.invariants import Ledger
from tests.support.office import Office
from tests.support.traffic import Traffic
from tests.support.traffic_calls import Clients
from tests.support.traffic_http import Answer, Client, Result, TwilioSigner

WEB_FORM = "/bel-mij-terug"


@dataclass
class CallbackLedger:
    """When each caller heard their request was taken (time.time()): by CallSid, and by web number (E.164)."""

    walks: dict[str, float] = field(default_factory=dict)
    web: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def walk(self, call_sid: str) -> None:
        with self._lock:
            self.walks.setdefault(call_sid, time.time())

    def web_request(self, national_number: str) -> None:
        number = "+31" + national_number[1:] if national_number.startswith("0") else national_number
        with self._lock:
            self.web.setdefault(number, time.time())


class _RememberingSigner(TwilioSigner):
    """Signs as Twilio does, and remembers (per thread) the CallSid of the last request it signed."""

    def __init__(self, public_base_url: str, auth_token: str) -> None:
        super().__init__(public_base_url, auth_token)
        self.last = threading.local()

    def post(self, client: Client, path: str, params: dict[str, str]) -> Answer:
        self.last.sid = params.get("CallSid")
        return super().post(client, path, params)


class _NotingClient(Client):
    """A web visitor's connection that notes the number of a callback form answered 303."""

    def __init__(self, port: int, origin: str, ledger: CallbackLedger) -> None:
        super().__init__(port, origin)
        self.ledger = ledger

    def post_form(self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> Answer:
        answer = super().post_form(path, fields, headers)
        if path == WEB_FORM and answer.status == 303 and fields.get("number"):
            self.ledger.web_request(fields["number"])
        return answer


class _NotingVisitors:
    """Stands in for a thread's `Clients` where the web form asks for a fresh visitor (`fresh()` only)."""

    def __init__(self, clients: Clients, ledger: CallbackLedger) -> None:
        self.clients, self.ledger = clients, ledger

    def fresh(self) -> Client:
        return _NotingClient(self.clients.port, self.clients.origin, self.ledger)


class ChaosTraffic(Traffic):
    def __init__(self, system: Any, office: Office, ledger: Ledger, callbacks: CallbackLedger) -> None:
        super().__init__(system, office, ledger)
        self.callbacks = callbacks
        self.signer = self._signer = _RememberingSigner(system.public_base_url, system.twilio_auth_token)

    def ivr_walk(self, clients: Clients, rng: random.Random) -> list[Result]:
        self._signer.last.sid = None
        results = super().ivr_walk(clients, rng)
        sid = self._signer.last.sid
        if sid and results and all(r.outcome == "ok" for r in results) and results[-1].status == 204:
            self.callbacks.walk(sid)
        return results

    def web_callback(self, clients: Clients, rng: random.Random) -> list[Result]:
        return super().web_callback(cast(Clients, _NotingVisitors(clients, self.callbacks)), rng)


class Paced:
    """What `run_mix` drives when the traffic should take a breath: each operation, then `pause` seconds.

    The suite's short run uses it so that what two client threads ask for stays
    within what two workers send while the rest of the suite shares the cores:
    otherwise most of its time goes to draining a backlog, not to faults.
    """

    def __init__(self, traffic: Traffic, pause: float) -> None:
        self.traffic, self.pause = traffic, pause
        self.system, self.office = traffic.system, traffic.office

    def __getattr__(self, name: str) -> Callable[[Clients, random.Random], list[Result]]:
        operation = getattr(self.traffic, name)

        def paced(clients: Clients, rng: random.Random) -> list[Result]:
            try:
                return cast(list[Result], operation(clients, rng))
            finally:
                time.sleep(self.pause)
        return paced
