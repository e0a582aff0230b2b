"""A mediator falls ill: move their appointments in a date range, and their open tasks, to colleagues.

For each live appointment of theirs in the range (local dates, from today
on), the candidates are tried in order (the case's other mediators first,
then everyone else active). A candidate takes it only if the appointment as
it would be with them passes the same checks as a booking
(scheduler.booking_checks: working day, their working hours, keep-apart…)
and they are free for its span plus their buffer. What cannot move is listed
for a coordinator, with why, and stays where it is. The sick mediator's open
tasks on the cases concerned go to whoever took over the case (an "inform
the other party" task must never wait for someone who is ill).

Two steps, one rule: `plan_reassignment` decides everything and writes
nothing (the desk's preview); `reassign_future` makes the same plan under
the booking locks and then carries it out. Within a plan, an appointment
given to a colleague counts as their busy time (and brings them onto the
case) for the appointments after it, exactly as the writes would. Given the
signature of the plan a coordinator saw (`expected`), `reassign_future`
refuses with `PlanChanged` and writes nothing if the plan is no longer the
same: someone booked, cancelled or imported busy time in between.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit
from core.events import publish
from core.models import User
from core.problems import Conflict, Forbidden, InvalidInput
from scheduler import events
from scheduler.booking import write_reservations
from scheduler.booking_checks import load_and_check
from scheduler.conflicts import Resource, Span, conflicting_resources
from scheduler.locking import clear_expired_holds, lock_resources, taken_spans
from scheduler.models import (Appointment, Mediator, MediatorTask, Reservation, appointment_mediators,
                              case_mediators)
from scheduler.policy import BookingPolicy
from scheduler.rules import BookingRequest
from scheduler.withdrawal import INFORM_OTHER_PARTY

# Why a colleague cannot take an appointment (codes; the desk shows them as words).
BUSY = "busy"                          # an appointment, a hold or imported busy time at that time
NOT_WORKING = "not_working"            # outside their working hours, or the office is closed that day
CASE_CLOSED = "case_closed"
PARTICIPANT_WITHDREW = "participant_withdrew"
ROOM_RULE = "room_rule"                # the room's rules (a joint meeting's separate waiting area)
OTHER_RULE = "other_rule"
NO_CANDIDATES = "no_candidates"        # nobody else active (or none of the candidates given)


@dataclass(frozen=True)
class Unmovable:
    appointment_id: int
    # (reason code, how many colleagues it stopped), most frequent first; (NO_CANDIDATES, 0) when nobody was tried
    reasons: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ReassignPlan:
    mediator_id: int
    moves: tuple[tuple[int, int], ...]          # (appointment id, colleague id), in start order
    unmovable: tuple[Unmovable, ...]
    tasks: tuple[tuple[int, int], ...]          # (task id, colleague id)

    def signature(self) -> str:
        """What the plan would do, as text: equal signatures, equal writes."""
        parts = [f"a{a}={m}" for a, m in self.moves] + [f"u{u.appointment_id}" for u in self.unmovable] \
            + [f"t{t}={m}" for t, m in self.tasks]
        return f"m{self.mediator_id};" + ";".join(parts)


class PlanChanged(Conflict):
    """The plan is no longer the one the coordinator saw; nothing was written. `plan` is the new one."""

    def __init__(self, plan: ReassignPlan) -> None:
        super().__init__("the appointments or the colleagues' calendars changed since the preview: "
                         "check the new proposal")
        self.plan = plan


@dataclass
class ReassignResult:
    moved: list[tuple[int, int]] = field(default_factory=list)
    unmovable: list[int] = field(default_factory=list)
    tasks_moved: list[tuple[int, int]] = field(default_factory=list)
    plan: ReassignPlan | None = None


def _as_is(appointment: Appointment, mediator_ids: tuple[int, ...]) -> BookingRequest:
    return BookingRequest(
        case_id=appointment.case_id, kind=appointment.kind, mode=appointment.mode, start=appointment.start,
        end=appointment.end, mediator_ids=mediator_ids, room_id=appointment.room_id,
        participant_ids=tuple(a.participant_id for a in appointment.attendances),
        arrivals={a.participant_id: a.arrival for a in appointment.attendances if a.arrival is not None},
        waiting_area_override=appointment.waiting_area_override, waiting_area_reason=appointment.waiting_area_reason)


def _refusal(exc: InvalidInput | Forbidden) -> str:
    fields = {e.get("field") for e in exc.errors}
    if isinstance(exc, InvalidInput):
        if fields & {"start", "end"}:
            return NOT_WORKING
        if "case_id" in fields:
            return CASE_CLOSED
        if "participant_ids" in fields:
            return PARTICIPANT_WITHDREW
        if "room_id" in fields:
            return ROOM_RULE
    return OTHER_RULE


def _span(candidate: Mediator, appointment: Appointment) -> Span:
    return Span(Resource("mediator", candidate.id), appointment.start,
                appointment.end + timedelta(minutes=candidate.buffer_minutes))


def _why_not(session: Session, candidate: Mediator, appointment: Appointment, old_id: int, actor: User | None,
             now: datetime, policy: BookingPolicy, planned: list[Span]) -> str | None:
    """None if the candidate can take the appointment, else the reason code. `planned`: what this plan
    already gives them."""
    mediator_ids = tuple(sorted({m.id for m in appointment.mediators} - {old_id} | {candidate.id}))
    try:
        load_and_check(session, _as_is(appointment, mediator_ids), actor, now, policy,
                       joining=frozenset({candidate.id}))
    except (InvalidInput, Forbidden) as exc:
        return _refusal(exc)
    span = _span(candidate, appointment)
    taken = taken_spans(session, [candidate.id], [], span.start, span.end, now) + planned
    return BUSY if conflicting_resources([span], taken) else None


def _move(session: Session, appointment: Appointment, old_id: int, new: Mediator, actor_id: int | None) -> None:
    session.execute(update(Reservation).where(Reservation.appointment_id == appointment.id,
                                              Reservation.mediator_id == old_id, Reservation.live)
                    .values(live=False))
    appointment.mediators = [m for m in appointment.mediators if m.id != old_id] + [new]
    if new not in appointment.case.mediators:
        appointment.case.mediators.append(new)
        audit.record(session, actor_id, "case.mediator_added", "case", appointment.case_id, f"mediator={new.id}")
    appointment.version += 1
    write_reservations(session, appointment, [_span(new, appointment)], appointment.hold_expires_at)


def _range(policy: BookingPolicy, now: datetime, first: date | None, last: date | None) -> tuple[datetime, datetime | None]:
    if first is not None and last is not None and last < first:
        raise InvalidInput("to", "must not be before from")
    start = now if first is None else max(now, datetime.combine(first, time(0), policy.tz))
    end = None if last is None else datetime.combine(last + timedelta(days=1), time(0), policy.tz)
    return start, end


def _pool(session: Session, mediator_id: int, candidate_ids: list[int] | None) -> list[Mediator]:
    pool = list(session.scalars(select(Mediator).where(Mediator.active, Mediator.id != mediator_id)
                                .order_by(Mediator.id)))
    if candidate_ids is not None:
        unknown = set(candidate_ids) - {m.id for m in pool}
        if unknown:
            raise InvalidInput("to_mediator_ids", f"not an active other mediator: {sorted(unknown)}")
        pool = [m for m in pool if m.id in candidate_ids]
    return pool


def _plan(session: Session, old: Mediator, pool: list[Mediator], actor: User | None, now: datetime,
          policy: BookingPolicy, first_day: date | None, last_day: date | None, lock: bool) -> ReassignPlan:
    start, end = _range(policy, now, first_day, last_day)
    in_range = select(Appointment.id).join(appointment_mediators).where(
        appointment_mediators.c.mediator_id == old.id, Appointment.status.in_(("held", "confirmed")),
        Appointment.start > start)
    if end is not None:
        in_range = in_range.where(Appointment.start < end)
    # The appointment's time is not changing: the notice a booking needs does not apply to a takeover.
    takeover = replace(policy, min_notice=timedelta(0))
    planned: dict[int, list[Span]] = defaultdict(list)   # colleague id -> spans this plan gives them
    joined: dict[int, set[int]] = defaultdict(set)       # case id -> colleagues this plan brings onto it
    moves: list[tuple[int, int]] = []
    unmovable: list[Unmovable] = []
    taken_over: dict[int, int] = {}  # case id -> mediator who took over there
    cases: set[int] = set()
    for appointment_id in session.scalars(in_range.order_by(Appointment.start, Appointment.id)).all():
        appointment = session.get(Appointment, appointment_id, with_for_update=lock or None)
        assert appointment is not None
        cases.add(appointment.case_id)
        on_case = {m.id for m in appointment.case.mediators} | joined[appointment.case_id]
        present = {m.id for m in appointment.mediators}
        ordered = sorted((m for m in pool if m.id not in present), key=lambda m: (m.id not in on_case, m.id))
        target, why = None, Counter[str]()
        for candidate in ordered:
            problem = _why_not(session, candidate, appointment, old.id, actor, now, takeover, planned[candidate.id])
            if problem is None:
                target = candidate
                break
            why[problem] += 1
        if target is None:
            unmovable.append(Unmovable(appointment.id, tuple(why.most_common()) or ((NO_CANDIDATES, 0),)))
            continue
        planned[target.id].append(_span(target, appointment))
        joined[appointment.case_id].add(target.id)
        taken_over.setdefault(appointment.case_id, target.id)
        moves.append((appointment.id, target.id))
    tasks = _plan_tasks(session, old, pool, cases, taken_over)
    return ReassignPlan(old.id, tuple(moves), tuple(unmovable), tuple(tasks))


def _plan_tasks(session: Session, old: Mediator, pool: list[Mediator], cases: set[int],
                taken_over: dict[int, int]) -> list[tuple[int, int]]:
    """Open tasks of `old` on the cases concerned, and every open "inform the other party" task of
    theirs, go to the mediator who took over the case, else another active mediator on it, else the
    first candidate. (A colleague a plan brings onto a case is the one who took it over there.)"""
    open_tasks = session.scalars(select(MediatorTask).where(
        MediatorTask.mediator_id == old.id, MediatorTask.done_at.is_(None)).order_by(MediatorTask.id)).all()
    pool_ids = {m.id for m in pool}
    moves = []
    for task in open_tasks:
        if task.case_id not in cases and task.kind != INFORM_OTHER_PARTY:
            continue
        on_case = [mid for mid in session.scalars(select(case_mediators.c.mediator_id).where(
            case_mediators.c.case_id == task.case_id).order_by(case_mediators.c.mediator_id)) if mid in pool_ids]
        target = taken_over.get(task.case_id) or next(iter(on_case), None) or (pool[0].id if pool else None)
        if target is not None:
            moves.append((task.id, target))
    return moves


def _start(session: Session, mediator_id: int, actor: User | None) -> Mediator:
    if actor is not None and not actor.sees_all_cases:
        raise Forbidden("only a coordinator can reassign a mediator's appointments")
    old = session.get(Mediator, mediator_id)
    if old is None:
        raise InvalidInput("mediator_id", "no such mediator")
    return old


def plan_reassignment(session: Session, mediator_id: int, actor: User | None, now: datetime, *,
                      policy: BookingPolicy, first_day: date | None = None, last_day: date | None = None,
                      candidate_ids: list[int] | None = None) -> ReassignPlan:
    """What `reassign_future` would do now, with the same arguments; reads only (no lock, no write)."""
    old = _start(session, mediator_id, actor)
    pool = _pool(session, mediator_id, candidate_ids)
    return _plan(session, old, pool, actor, now, policy, first_day, last_day, lock=False)


def reassign_future(session: Session, mediator_id: int, actor: User | None, now: datetime, *,
                    policy: BookingPolicy, first_day: date | None = None, last_day: date | None = None,
                    candidate_ids: list[int] | None = None, expected: str | None = None) -> ReassignResult:
    """Move the mediator's live appointments starting from `first_day` through `last_day` (local dates,
    both included; open-ended when left out), and their open tasks on the cases concerned.

    `expected`: the signature of a plan shown before; if today's plan differs, PlanChanged (nothing written)."""
    old = _start(session, mediator_id, actor)
    pool = _pool(session, mediator_id, candidate_ids)
    lock_resources(session, [old.id, *(m.id for m in pool)], [])
    clear_expired_holds(session, [old.id, *(m.id for m in pool)], [], now)
    plan = _plan(session, old, pool, actor, now, policy, first_day, last_day, lock=True)
    if expected is not None and plan.signature() != expected:
        raise PlanChanged(plan)
    actor_id = actor.id if actor else None
    by_id = {m.id: m for m in pool}
    for appointment_id, target_id in plan.moves:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        _move(session, appointment, old.id, by_id[target_id], actor_id)
        audit.record(session, actor_id, "appointment.reassigned", "appointment", appointment.id,
                     f"from_mediator={old.id};to_mediator={target_id}")
        if appointment.status == "confirmed":
            publish(session, events.AppointmentReassigned(appointment.id, appointment.version, old.id, target_id,
                                                          actor_id))
    for task_id, target_id in plan.tasks:
        task = session.get(MediatorTask, task_id)
        assert task is not None
        task.mediator_id = target_id
        audit.record(session, actor_id, "task.reassigned", "mediator_task", task.id,
                     f"from_mediator={old.id};to_mediator={target_id}")
    audit.record(session, actor_id, "mediator.reassigned", "mediator", old.id,
                 f"from={first_day.isoformat() if first_day else ''};to={last_day.isoformat() if last_day else ''}"
                 f";moved={len(plan.moves)};unmovable={len(plan.unmovable)}")
    return ReassignResult(moved=list(plan.moves), unmovable=[u.appointment_id for u in plan.unmovable],
                          tasks_moved=list(plan.tasks), plan=plan)
