"""GET /api/v1/openapi.json: the API described from the models that validate it (no sign-in needed)."""
from __future__ import annotations

from flask import Response, current_app, jsonify

from core.api import registry
from core.openapi import openapi_document
from scheduler.api import api_bp


@registry.route(api_bp, "GET", "/openapi.json", summary="This description (OpenAPI 3.1)", tag="meta", public=True)
def openapi_json() -> Response:
    """Built per request from the route registry and the app's URL map, so it lists exactly what is served."""
    document = openapi_document(current_app.url_map, registry.operations, title="Pendel API", version="1")
    return jsonify(document)
