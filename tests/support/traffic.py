"""One function per kind of operation a real office puts on Pendel, each doing real HTTP as its client does.

`Traffic(system, office, ledger)` holds what the operations share: the
appointments booked so far (each put, when booked, in the pool of what will
happen to it: left alone, moved, or cancelled), the participants' links read
from their confirmations, the feeds' ETags. Each operation takes a `Clients`
(the calling thread's own connections) and a `random.Random`, and returns
the `Result` of every request it made (tests/support/traffic_http.py).

Expected refusals are only the races the design promises to lose cleanly:
a booking or a reschedule of a slot someone else took meanwhile (409).
Bookings compete on purpose: every planner books the first free slot of one
of a few mediators. Phone-line walks and the web form share a small pool of
numbers, so requests from one number merge into its open one. The calls of
the phone line and the web form are in tests/support/traffic_calls.py.
"""
from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, time as wall_time, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import text

from tests.support.days import AMS, working_day
from tests.support.invariants import Ledger
from tests.support.office import CaseSeat, Office
from tests.support.traffic_calls import CallTraffic, Clients
from tests.support.traffic_http import Result, result

LINK = re.compile(r"/a/([A-Za-z0-9_-]{22})\b")
SEARCH_DAYS_AHEAD, SEARCH_WEEKS = 7, 4
MINUTES = 60


def search_window() -> tuple[datetime, datetime]:
    """Where planners look: four weeks from the first working day a week ahead (never inside the notice)."""
    first = datetime.combine(working_day(SEARCH_DAYS_AHEAD), wall_time(0), AMS)
    return first, first + timedelta(weeks=SEARCH_WEEKS)


@dataclass(frozen=True)
class Booked:
    appointment_id: int
    seat: CaseSeat
    participant_id: int
    in_person: bool


class Traffic(CallTraffic):
    def __init__(self, system: Any, office: Office, ledger: Ledger) -> None:
        super().__init__(system, office)
        self.engine, self.ledger = system.engine, ledger
        self._lock = threading.Lock()
        self.pools: dict[str, list[Booked]] = {"stable": [], "reschedule": [], "cancel": []}
        self._withdrawable = list(office.withdrawal_cases)
        self._links: list[str] = []
        self._links_read = 0.0
        self._etags: dict[str, str] = {}

    # -- shared state ----------------------------------------------------------------------
    def _put(self, pool: str, booked: Booked) -> None:
        with self._lock:
            self.pools[pool].append(booked)

    def _take(self, pool: str, rng: random.Random, newest: bool = False) -> Booked | None:
        with self._lock:
            items = self.pools[pool]
            if not items:
                return None
            return items.pop() if newest else items.pop(rng.randrange(len(items)))

    # -- availability and booking ------------------------------------------------------------
    def _search(self, clients: Clients, mediator_id: int, in_person: bool) -> tuple[Result, list[dict[str, Any]]]:
        start, end = search_window()
        query = {"mediator_ids": mediator_id, "duration_minutes": MINUTES, "from": start.isoformat(),
                 "to": end.isoformat(), "limit": 5}
        if in_person:
            query["location_id"] = self.office.location_id
        answer = clients.api.get("/api/v1/availability?" + urlencode(query))
        slots = answer.json()["slots"] if answer.status == 200 else []
        return result("availability", answer, (200,)), slots

    def availability(self, clients: Clients, rng: random.Random) -> list[Result]:
        found, _ = self._search(clients, rng.choice(self.office.mediator_ids), rng.random() < 0.3)
        return [found]

    def _book(self, clients: Clients, seat: CaseSeat, participant_id: int, slot: dict[str, Any],
              in_person: bool) -> tuple[Result, int | None]:
        body: dict[str, Any] = {"case_id": seat.case_id, "kind": "intake",
                                "mode": "in_person" if in_person else "phone", "start": slot["start"],
                                "end": slot["end"], "mediator_ids": [seat.mediator_id],
                                "participant_ids": [participant_id]}
        if in_person:
            body["room_id"] = slot["room_id"]
        answer = clients.api.post_json("/api/v1/appointments", body)
        return result("booking", answer, (201,), (409,)), answer.json()["id"] if answer.status == 201 else None

    def booking(self, clients: Clients, rng: random.Random) -> list[Result]:
        """A planner searches one of the hot mediators and books the first free slot (others may too)."""
        seat = rng.choice(self.office.booking_cases)
        in_person = rng.random() < 0.3
        found, slots = self._search(clients, seat.mediator_id, in_person)
        if not slots:
            return [found]
        participant = rng.choice(seat.participant_ids)
        booked, appointment_id = self._book(clients, seat, participant, slots[0], in_person)
        if appointment_id is not None:
            pool = rng.choices(("stable", "reschedule", "cancel"), (2, 1, 1))[0]
            self._put(pool, Booked(appointment_id, seat, participant, in_person))
        return [found, booked]

    def reschedule(self, clients: Clients, rng: random.Random) -> list[Result]:
        item = self._take("reschedule", rng)
        if item is None:
            return []
        found, slots = self._search(clients, item.seat.mediator_id, item.in_person)
        results = [found]
        if slots:
            slot = rng.choice(slots[:3])
            body: dict[str, Any] = {"start": slot["start"], "end": slot["end"]}
            if item.in_person:
                body["room_id"] = slot["room_id"]
            answer = clients.api.post_json(f"/api/v1/appointments/{item.appointment_id}/reschedule", body)
            results.append(result("reschedule", answer, (200,), (409,)))
        self._put(rng.choices(("reschedule", "cancel"), (3, 1))[0], item)
        return results

    def cancellation(self, clients: Clients, rng: random.Random) -> list[Result]:
        """The newest booking first: its confirmation may be on its way right now."""
        item = self._take("cancel", rng, newest=rng.random() < 0.5)
        if item is None:
            return []
        answer = clients.api.post_json(f"/api/v1/appointments/{item.appointment_id}/cancel", {"reason": "cancelled"})
        if answer.status == 200:
            self.ledger.cancel(item.appointment_id)
        return [result("cancellation", answer, (200,))]

    def withdrawal(self, clients: Clients, rng: random.Random) -> list[Result]:
        """A participant of a withdrawal case is booked, then stops at once (their booking goes with it)."""
        with self._lock:
            seat = self._withdrawable.pop() if self._withdrawable else None
        if seat is None:
            return []
        found, slots = self._search(clients, seat.mediator_id, False)
        results = [found]
        participant = seat.participant_ids[0]
        appointment_id = None
        if slots:
            booked, appointment_id = self._book(clients, seat, participant, slots[0], False)
            results.append(booked)
        answer = clients.api.post_json(f"/api/v1/participants/{participant}/withdraw", {})
        if answer.status == 200:
            answered = time.time()
            self.ledger.withdraw(participant, answered)
            if appointment_id is not None:
                self.ledger.cancel(appointment_id, answered)
        return results + [result("withdrawal", answer, (200,))]

    # -- reading ---------------------------------------------------------------------------
    def feed(self, clients: Clients, rng: random.Random) -> list[Result]:
        """A calendar app polls a feed, conditionally once it has an ETag."""
        token = rng.choice(self.office.feed_tokens)
        headers = {"If-None-Match": self._etags[token]} if token in self._etags else {}
        answer = clients.anonymous.get(f"/calendars/feeds/{token}.ics", headers)
        if answer.status == 200 and "etag" in answer.headers:
            self._etags[token] = answer.headers["etag"]
        return [result("feed", answer, (200, 304))]

    def staff_page(self, clients: Clients, rng: random.Random) -> list[Result]:
        results = clients.sign_in(self.office) if not clients.signed_in else []
        seat = rng.choice(self.office.booking_cases)
        monday = working_day(0) - timedelta(days=working_day(0).weekday())
        week = monday.isocalendar()
        path = rng.choice([
            "/cases", f"/cases/{seat.case_id}", f"/mediators/{seat.mediator_id}/week?week={week.year}-W{week.week:02d}",
            "/callbacks", "/today",
            f"/cases/{seat.case_id}/intake?mode=phone&duration={MINUTES}&mediator={seat.mediator_id}"
            f"&participant_id={seat.participant_ids[0]}"])
        return results + [result("staff page", clients.browser.get(path), (200,), what="staff page " +
                                 re.sub(r"\d+", "N", path.split("?")[0]))]

    def _refresh_links(self) -> None:
        """Links from confirmations that went out for appointments nobody will move, cancel or withdraw."""
        with self._lock:
            if time.monotonic() - self._links_read < 2.0:
                return
            self._links_read = time.monotonic()
            stable = [b.appointment_id for b in self.pools["stable"]]
        if not stable:
            return
        with self.engine.connect() as conn:
            bodies = conn.execute(text("""SELECT body FROM outbox_messages WHERE channel = 'sms'
                AND kind = 'appointment_confirmed' AND status = 'sent' AND appointment_id = ANY(:ids)"""),
                                  {"ids": stable}).scalars()
            links = [m.group(1) for body in bodies if body and (m := LINK.search(body))]
        with self._lock:
            self._links = links

    def participant_page(self, clients: Clients, rng: random.Random) -> list[Result]:
        """A participant taps the link in their text: the token becomes a cookie, then their page."""
        self._refresh_links()
        with self._lock:
            token = rng.choice(self._links) if self._links else None
        if token is None:
            return []
        phone = clients.fresh()
        opened = phone.get(f"/a/{token}")
        results = [result("participant page", opened, (303,), what="participant link")]
        if opened.status == 303:
            path = "/a/calendar.ics" if rng.random() < 0.2 else "/a/"
            results.append(result("participant page", phone.get(path), (200,), what=f"participant {path}"))
        phone.close()
        return results
