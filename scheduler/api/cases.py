"""Cases, participants, withdrawal and mediator tasks.

What a mediator sees is decided by scheduler.access: their own cases only,
and everything else is "not found". Only the office opens cases and assigns
mediators (enforced in scheduler.casework).
"""
from __future__ import annotations

from flask import Response, g, url_for
from sqlalchemy import select

from core.api import registry, respond
from core.db import utcnow
from core.runtime import db_session
from scheduler import casework
from scheduler.access import case_for, participant_for, visible_cases
from scheduler.api import OFFICE, STAFF, api_bp, writing
from scheduler.models import Case, MediatorTask, Participant, case_mediators
from scheduler.schemas_cases import (CaseCreate, CaseList, CaseOut, CasePatch, CaseQuery, ParticipantCreate,
                                     ParticipantList, ParticipantOut, ParticipantPatch, ParticipantQuery, TaskList,
                                     TaskOut, TaskQuery)
from scheduler.withdrawal import undo_withdrawal, withdraw

route = registry.route


@route(api_bp, "GET", "/cases", summary="List the cases you may see", tag="cases", roles=STAFF,
       query=CaseQuery, response=CaseList)
def list_cases(query: CaseQuery) -> Response:
    session = db_session()
    stmt = visible_cases(session, g.user)
    if query.status is not None:
        stmt = stmt.where(Case.status == query.status)
    if query.mediator_id is not None:
        stmt = stmt.where(Case.id.in_(select(case_mediators.c.case_id)
                                      .where(case_mediators.c.mediator_id == query.mediator_id)))
    return respond(CaseList(cases=[CaseOut.of(c) for c in session.scalars(stmt)]))


@route(api_bp, "GET", "/cases/<int:case_id>", summary="Get a case", tag="cases", roles=STAFF, response=CaseOut)
def get_case(case_id: int) -> Response:
    return respond(CaseOut.of(case_for(db_session(), g.user, case_id)))


@route(api_bp, "POST", "/cases", summary="Open a case", tag="cases", roles=OFFICE, body=CaseCreate,
       response=CaseOut, status=201, errors=(409,))
def create_case(body: CaseCreate) -> Response:
    """Leave `reference` out to get the next HB-<year>-<n> number."""
    with writing() as (session, actor):
        out = CaseOut.of(casework.create_case(session, actor, body.model_dump(), utcnow()))
    return respond(out, 201, {"Location": url_for(".get_case", case_id=out.id)})


@route(api_bp, "PATCH", "/cases/<int:case_id>", summary="Change a case", tag="cases", roles=STAFF,
       body=CasePatch, response=CaseOut, errors=(403, 409))
def patch_case(case_id: int, body: CasePatch) -> Response:
    """Mediators may change kind and status of their cases; `mediator_ids` and `reference` are the office's."""
    with writing() as (session, actor):
        out = CaseOut.of(casework.update_case(session, actor, case_id, body.model_dump(), utcnow()))
    return respond(out)


@route(api_bp, "GET", "/participants", summary="List participants of the cases you may see", tag="participants",
       roles=STAFF, query=ParticipantQuery, response=ParticipantList)
def list_participants(query: ParticipantQuery) -> Response:
    session = db_session()
    case_ids = visible_cases(session, g.user).with_only_columns(Case.id).order_by(None)
    stmt = select(Participant).where(Participant.case_id.in_(case_ids)).order_by(Participant.id)
    if query.case_id is not None:
        stmt = stmt.where(Participant.case_id == query.case_id)
    return respond(ParticipantList(participants=[ParticipantOut.of(p) for p in session.scalars(stmt)]))


@route(api_bp, "GET", "/participants/<int:participant_id>", summary="Get a participant", tag="participants",
       roles=STAFF, response=ParticipantOut)
def get_participant(participant_id: int) -> Response:
    return respond(ParticipantOut.of(participant_for(db_session(), g.user, participant_id)))


@route(api_bp, "POST", "/participants", summary="Add a participant to a case", tag="participants", roles=STAFF,
       body=ParticipantCreate, response=ParticipantOut, status=201)
def create_participant(body: ParticipantCreate) -> Response:
    with writing() as (session, actor):
        out = ParticipantOut.of(casework.create_participant(session, actor, body.model_dump()))
    return respond(out, 201, {"Location": url_for(".get_participant", participant_id=out.id)})


@route(api_bp, "PATCH", "/participants/<int:participant_id>", summary="Change a participant",
       tag="participants", roles=STAFF, body=ParticipantPatch, response=ParticipantOut, errors=(409,))
def patch_participant(participant_id: int, body: ParticipantPatch) -> Response:
    """409 when their personal data was erased, or while their appointments are being changed (try again)."""
    with writing() as (session, actor):
        out = ParticipantOut.of(casework.update_participant(session, actor, participant_id, body.model_dump()))
    return respond(out)


@route(api_bp, "POST", "/participants/<int:participant_id>/withdraw", summary="The participant stops",
       tag="participants", roles=STAFF, response=ParticipantOut)
def withdraw_participant(participant_id: int) -> Response:
    """Takes effect at once: their future appointments are cancelled (a joint meeting for everyone, the
    other party's mediator gets a task to tell them) and nothing more is sent to them. Repeating it is harmless."""
    with writing() as (session, actor):
        participant_for(session, actor, participant_id)
        out = ParticipantOut.of(withdraw(session, participant_id, actor, utcnow()))
    return respond(out)


@route(api_bp, "POST", "/participants/<int:participant_id>/undo-withdrawal", summary="Undo a withdrawal",
       tag="participants", roles=STAFF, response=ParticipantOut, errors=(409,))
def undo_participant_withdrawal(participant_id: int) -> Response:
    """Cancelled appointments stay cancelled; new ones can be booked."""
    with writing() as (session, actor):
        participant_for(session, actor, participant_id)
        out = ParticipantOut.of(undo_withdrawal(session, participant_id, actor, utcnow()))
    return respond(out)


@route(api_bp, "GET", "/tasks", summary="Tasks for mediators (yours, or all for the office)", tag="tasks",
       roles=STAFF, query=TaskQuery, response=TaskList)
def list_tasks(query: TaskQuery) -> Response:
    session = db_session()
    stmt = casework.visible_tasks(session, g.user)
    if query.open is not None:
        stmt = stmt.where(MediatorTask.done_at.is_(None) if query.open else MediatorTask.done_at.is_not(None))
    return respond(TaskList(tasks=[TaskOut.of(t) for t in session.scalars(stmt)]))


@route(api_bp, "POST", "/tasks/<int:task_id>/done", summary="Mark a task done", tag="tasks", roles=STAFF,
       response=TaskOut)
def complete_task(task_id: int) -> Response:
    with writing() as (session, actor):
        out = TaskOut.of(casework.complete_task(session, actor, task_id, utcnow()))
    return respond(out)
