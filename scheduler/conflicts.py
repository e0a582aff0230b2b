"""Conflict checks: plain functions over loaded rows (no queries here).

The booking service loads the live reservations and imported busy blocks of
the resources it has locked, and asks these functions what is in the way.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable


RESOURCE_KINDS = ("mediator", "room", "participant")


@dataclass(frozen=True, order=True)
class Resource:
    kind: str   # one of RESOURCE_KINDS
    id: int


@dataclass(frozen=True)
class Span:
    resource: Resource
    start: datetime
    end: datetime


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def needed_spans(start: datetime, end: datetime, mediator_buffers: dict[int, int],
                 room_id: int | None, participant_ids: tuple[int, ...] = ()) -> list[Span]:
    """What an appointment blocks: each mediator until their buffer has passed, the room and each
    participant for its span."""
    spans = [Span(Resource("mediator", mid), start, end + timedelta(minutes=buffer))
             for mid, buffer in sorted(mediator_buffers.items())]
    if room_id is not None:
        spans.append(Span(Resource("room", room_id), start, end))
    spans.extend(Span(Resource("participant", pid), start, end) for pid in sorted(set(participant_ids)))
    return spans


def conflicting_resources(wanted: Iterable[Span], taken: Iterable[Span]) -> list[Resource]:
    """Resources of `wanted` that overlap anything in `taken`, sorted, each once."""
    by_resource: dict[Resource, list[Span]] = {}
    for span in taken:
        by_resource.setdefault(span.resource, []).append(span)
    hits = {w.resource for w in wanted
            for t in by_resource.get(w.resource, ())
            if overlaps(w.start, w.end, t.start, t.end)}
    return sorted(hits)
