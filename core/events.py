"""Domain events, published inside the transaction that causes them.

Booking never calls notifications: it publishes an event with the session it
is working in, and whoever subscribed (registered in `create_app`) writes what
it needs — an outbox row, a task — in that same transaction. If the booking
rolls back, so does everything the subscribers wrote.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

from sqlalchemy.orm import Session

Handler = Callable[[Session, Any], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type, handler: Handler) -> None:
        if handler not in self._handlers[event_type]:
            self._handlers[event_type].append(handler)

    def has_subscribers(self, event_type: type) -> bool:
        return bool(self._handlers.get(event_type))

    def publish(self, session: Session, event: Any) -> None:
        for handler in self._handlers.get(type(event), ()):
            handler(session, event)


def bind(session: Session, bus: EventBus) -> None:
    """Attach the app's bus to a session so services can publish through it."""
    session.info["event_bus"] = bus


def publish(session: Session, event: Any) -> None:
    """Hand an event to the subscribers of the bus bound to this session.

    A session with no bus (a bare script) still records the event in
    `session.info["events"]`, so nothing is silently dropped in tests.
    """
    session.info.setdefault("events", []).append(event)
    bus: EventBus | None = session.info.get("event_bus")
    if bus is not None:
        bus.publish(session, event)
