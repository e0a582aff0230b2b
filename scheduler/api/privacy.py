"""A participant's personal data over the API, for the office (coordinators and admins): erase it, or get
everything Pendel holds about them. The same services as the desk's Persoonsgegevens page
(scheduler.erasure, scheduler.participant_export); docs/retention.md says what goes and what stays."""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app
from pydantic import ConfigDict

from core.api import ResponseModel, registry, respond
from core.db import utcnow
from core.runtime import current
from scheduler import erasure
from scheduler.api import OFFICE, api_bp, writing
from scheduler.participant_export import export_participant, export_sections
from scheduler.schemas_cases import ParticipantOut

route = registry.route


class ParticipantData(ResponseModel):
    """What Pendel holds about one participant; packages add sections (messages_to_you, callback_requests)."""

    model_config = ConfigDict(extra="allow")
    about: dict[str, str]
    made_at: str
    participant: dict[str, Any]
    case: dict[str, Any]
    appointments: list[dict[str, Any]]
    offers: list[dict[str, Any]]
    tasks_about_you: list[dict[str, Any]]
    registrations: list[dict[str, Any]]


@route(api_bp, "POST", "/participants/<int:participant_id>/erase", summary="Erase the participant's personal data",
       tag="participants", roles=OFFICE, response=ParticipantOut, errors=(409,))
def erase_participant(participant_id: int) -> Response:
    """Once they stopped, or their case is closed (409 otherwise, and for one erased already). Their name
    (now "—"), numbers, email and address go, with the texts of the messages to and about them, the notes of
    tasks about them, their links, and the registration and callback requests of their case from them. Role,
    language, dates and appointments stay. Cannot be undone."""
    with writing() as (session, actor):
        out = ParticipantOut.of(erasure.erase_participant(session, participant_id, actor, utcnow()))
    return respond(out)


@route(api_bp, "GET", "/participants/<int:participant_id>/data", summary="Everything Pendel holds about them",
       tag="participants", roles=OFFICE, response=ParticipantData)
def participant_data(participant_id: int) -> Response:
    """For their request to see it (right of access): their details, case, appointments with their own times,
    offers, tasks about them, their registration, the messages to them as kept now and their callback
    requests; nothing about the other party. The audit trail records that it was made."""
    tz = ZoneInfo(current().settings.office_timezone)
    with writing() as (session, actor):
        data = export_participant(session, actor, participant_id, export_sections(current_app), utcnow(), tz)
    return current_app.response_class(data, mimetype="application/json")
