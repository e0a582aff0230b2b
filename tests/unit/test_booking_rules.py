"""The pure parts of booking: spans with buffers, conflict detection, request rules."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.problems import InvalidInput
from scheduler.conflicts import Resource, Span, conflicting_resources, needed_spans, overlaps
from scheduler.rules import BookingRequest, check_request, is_joint

T = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
H = timedelta(hours=1)


def test_needed_spans_add_each_mediators_buffer_after_and_none_to_the_room():
    spans = needed_spans(T, T + H, {2: 30, 1: 0}, room_id=7)
    assert spans == [Span(Resource("mediator", 1), T, T + H),
                     Span(Resource("mediator", 2), T, T + H + timedelta(minutes=30)),
                     Span(Resource("room", 7), T, T + H)]


def test_half_open_spans_touching_do_not_overlap():
    assert not overlaps(T, T + H, T + H, T + 2 * H)
    assert overlaps(T, T + H, T + H - timedelta(seconds=1), T + 2 * H)


def test_conflicts_are_per_resource_and_reported_once():
    wanted = needed_spans(T, T + H, {1: 0}, room_id=7)
    taken = [Span(Resource("room", 7), T - H, T + timedelta(minutes=1)),
             Span(Resource("room", 7), T + timedelta(minutes=30), T + 2 * H),
             Span(Resource("room", 8), T, T + H),              # another room: no conflict
             Span(Resource("mediator", 1), T + H, T + 2 * H)]  # touches only
    assert conflicting_resources(wanted, taken) == [Resource("room", 7)]


def _req(**kw: object) -> BookingRequest:
    values: dict[str, object] = dict(case_id=1, kind="intake", mode="phone", start=T, end=T + H, mediator_ids=(1,))
    values.update(kw)
    return BookingRequest(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("changes, field", [
    (dict(end=T), "end"),
    (dict(end=T - H), "end"),
    (dict(end=T + timedelta(hours=8, minutes=1)), "end"),
    (dict(start=T.replace(tzinfo=None)), "start"),
    (dict(mediator_ids=(1, 1)), "mediator_ids"),
    (dict(mediator_ids=(1, 2, 3)), "mediator_ids"),
    (dict(mode="in_person"), "room_id"),
    (dict(room_id=3), "room_id"),
    (dict(participant_ids=(4,), arrivals={5: T}), "arrivals"),
    (dict(participant_ids=(4, 4)), "participant_ids"),
    (dict(mode="carrier_pigeon"), "mode"),
])
def test_bad_requests_name_their_field(changes, field):
    with pytest.raises(InvalidInput) as err:
        check_request(_req(**changes), now=T - H)
    assert err.value.errors == [{"field": field, "message": err.value.errors[0]["message"]}]


def test_a_booking_in_the_past_is_refused():
    with pytest.raises(InvalidInput) as err:
        check_request(_req(), now=T + timedelta(minutes=1))
    assert err.value.errors[0]["field"] == "start"


def test_eight_hours_exactly_is_allowed():
    check_request(_req(end=T + timedelta(hours=8)), now=T - H)


@pytest.mark.parametrize("roles, joint", [
    (["victim", "offender"], True), (["next_of_kin", "causer"], True), (["victim", "suspect", "next_of_kin"], True),
    (["victim", "next_of_kin"], False), (["offender"], False), (["victim", "other"], False), ([], False),
])
def test_joint_meeting_means_both_sides_present(roles, joint):
    assert is_joint(roles) is joint
