"""Domain events: subscribers run in order, in the publisher's session; nothing is dropped."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from core.db import Database
from core.events import EventBus, bind, publish


@dataclass(frozen=True)
class Booked:
    appointment_id: int


@dataclass(frozen=True)
class Cancelled:
    appointment_id: int


def test_subscribers_run_in_subscription_order_with_the_publishing_session() -> None:
    bus = EventBus()
    calls: list[tuple[str, Any, Any]] = []
    bus.subscribe(Booked, lambda s, e: calls.append(("first", s, e)))
    bus.subscribe(Booked, lambda s, e: calls.append(("second", s, e)))
    bus.subscribe(Booked, lambda s, e: calls.append(("third", s, e)))
    session = Session()
    event = Booked(7)
    bus.publish(session, event)
    assert [c[0] for c in calls] == ["first", "second", "third"]
    assert all(c[1] is session and c[2] is event for c in calls)


def test_only_subscribers_of_that_event_type_run() -> None:
    bus = EventBus()
    seen: list[object] = []
    bus.subscribe(Booked, lambda s, e: seen.append(("booked", e.appointment_id)))
    bus.subscribe(Cancelled, lambda s, e: seen.append(("cancelled", e.appointment_id)))
    bus.publish(Session(), Cancelled(3))
    bus.publish(Session(), Booked(4))
    bus.publish(Session(), "not an event anyone wants")
    assert seen == [("cancelled", 3), ("booked", 4)]


def test_subscribing_the_same_handler_twice_calls_it_once() -> None:
    bus = EventBus()
    seen: list[int] = []

    def handler(_s: Session, e: Booked) -> None:
        seen.append(e.appointment_id)

    bus.subscribe(Booked, handler)
    bus.subscribe(Booked, handler)
    bus.publish(Session(), Booked(1))
    assert seen == [1]


def test_publish_through_a_bound_session_reaches_the_bus_and_records_the_event() -> None:
    bus = EventBus()
    seen: list[Booked] = []
    bus.subscribe(Booked, lambda s, e: seen.append(e))
    session = Session()
    bind(session, bus)
    publish(session, Booked(1))
    publish(session, Booked(2))
    assert seen == [Booked(1), Booked(2)]
    assert session.info["events"] == [Booked(1), Booked(2)]


def test_publish_without_a_bus_still_records_the_event() -> None:
    session = Session()
    assert "event_bus" not in session.info
    publish(session, Booked(5))
    publish(session, Cancelled(5))
    assert session.info["events"] == [Booked(5), Cancelled(5)]


def test_a_failing_subscriber_fails_the_publisher() -> None:
    # Subscribers write in the publisher's transaction: their error must reach it, not vanish.
    bus = EventBus()
    later: list[Booked] = []

    def broken(_s: Session, _e: Booked) -> None:
        raise RuntimeError("outbox unavailable")

    bus.subscribe(Booked, broken)
    bus.subscribe(Booked, lambda s, e: later.append(e))
    session = Session()
    bind(session, bus)
    with pytest.raises(RuntimeError, match="outbox unavailable"):
        publish(session, Booked(9))
    assert later == []


def test_database_sessions_carry_the_apps_bus() -> None:
    bus = EventBus()
    seen: list[Booked] = []
    bus.subscribe(Booked, lambda s, e: seen.append(e))
    db = Database("sqlite://", event_bus=bus)
    try:
        with db.session() as session:
            assert session.info["event_bus"] is bus
            publish(session, Booked(11))
        with db.session() as other:
            assert "events" not in other.info  # each session records its own events
    finally:
        db.dispose()
    assert seen == [Booked(11)]
