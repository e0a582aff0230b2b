"""Participants' personal links in the messages about their appointments, issued by whoever writes them.

`planning` and `replan` are pure: they render a link they are given (ParticipantFacts.link) and never make
one. The writers (notifications.subscribers) issue the tokens (scheduler.links.issue, which stores only a
hash) in the transaction that writes the messages, and only for participants who are really written a
message that carries a link (planning.LINKED): a booking's confirmation and reminders share one token per
participant; a withdrawn participant, one with no channel, or one who only hears of a cancellation gets
none. Whether the link still works is decided when it is opened, never here.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Collection

from sqlalchemy.orm import Session

from notifications.outbox import NewMessage
from notifications.planning import LINKED, AppointmentFacts, ParticipantFacts, channels
from scheduler.links import issue, link_url


def reachable(p: ParticipantFacts) -> bool:
    """Whether any message can be written to p at all (the planners write none otherwise)."""
    return not p.withdrawn and bool(channels(p))


def with_links(session: Session, base_url: str, facts: AppointmentFacts,
               participant_ids: Collection[int]) -> AppointmentFacts:
    """`facts` with a new personal link for each reachable participant in `participant_ids`."""
    def linked(p: ParticipantFacts) -> ParticipantFacts:
        if p.participant_id not in participant_ids or not reachable(p):
            return p
        token = issue(session, p.participant_id, appointment_id=facts.appointment_id)
        return replace(p, link=link_url(base_url, token))

    return replace(facts, participants=tuple(linked(p) for p in facts.participants))


def planned_with_links(session: Session, base_url: str, facts: AppointmentFacts,
                       plan: Callable[[AppointmentFacts], list[NewMessage]]) -> list[NewMessage]:
    """What `plan` writes, with the links of those it writes a linked message to.

    For the writers whose plan decides who is written to row by row (a rewrite after a reassignment, a
    replan after a details change): plan once to learn who, then again with their links. Both are rare;
    the booking's own writers know who beforehand and call `with_links` directly.
    """
    first = plan(facts)
    who = {m.participant_id for m in first if m.kind in LINKED and m.participant_id is not None}
    return plan(with_links(session, base_url, facts, who)) if who else first
