"""The webhook benchmark's floor: the least a signed Twilio voice webhook can cost on this stack.

A minimal Flask app, served by gunicorn with the same settings as Pendel
(`gunicorn 'bench.webhooks_floor:create_app()'`). Its one webhook,
`POST /telephony/voice` (the same path, so URL and signature are as long as
the app's), validates `X-Twilio-Signature` with twilio's RequestValidator
against PUBLIC_BASE_URL + path + query, inserts one row into
`bench_floor_calls` in the benchmark's database (SQLAlchemy Core, one
transaction, the default connection pool) and returns a constant TwiML
document about as long as Pendel's greeting. `GET /healthz` answers for the
readiness check. Settings come from the same environment variables as the
app's (DATABASE_URL, TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL).

`FLOOR_TABLE` is created by the benchmark (bench/webhooks.py) before the
servers start.
"""
from __future__ import annotations

import os

from flask import Flask, Response, request
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

FLOOR_TABLE = ("CREATE TABLE bench_floor_calls (call_sid text PRIMARY KEY, caller text, "
               "created_at timestamptz NOT NULL DEFAULT now())")
INSERT = text("INSERT INTO bench_floor_calls (call_sid, caller) VALUES (:sid, :caller)")
# Twilio-valid TwiML of a greeting and a one-key menu, close in size to what Pendel answers an incoming call.
TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Say language="nl-NL" voice="Polly.Lotte">Bent u in direct gevaar? Hang dan op en bel 112.</Say>'
    '<Gather action="https://pendel.test/telephony/voice/answer/0" actionOnEmptyResult="true" input="dtmf" '
    'method="POST" numDigits="1" timeout="8">'
    '<Say language="nl-NL" voice="Polly.Lotte">Welkom bij het bureau voor herstelbemiddeling. '
    'Wij zijn nu gesloten.</Say>'
    '<Say language="en-GB" voice="Polly.Amy">For English, press 9.</Say>'
    '<Say language="nl-NL" voice="Polly.Lotte">Wilt u dat wij u morgenochtend terugbellen? Toets 1. '
    'Wilt u een ander moment kiezen? Toets 2.</Say>'
    '</Gather></Response>')


def create_app() -> Flask:
    base = os.environ["PUBLIC_BASE_URL"].rstrip("/")
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    # Created in each gunicorn worker (no --preload), so connections are its own; the benchmark tells the
    # floor's PostgreSQL backends from Pendel's by their application_name.
    engine = create_engine(url, connect_args={"application_name": "bench_floor"})
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok", mimetype="text/plain")

    @app.post("/telephony/voice")
    def voice() -> Response:
        query = request.query_string.decode("latin-1")
        signed = base + request.path + (f"?{query}" if query else "")
        if not validator.validate(signed, request.form, request.headers.get("X-Twilio-Signature", "")):
            return Response("Forbidden", status=403, mimetype="text/plain")
        with engine.begin() as conn:
            conn.execute(INSERT, {"sid": request.form.get("CallSid"), "caller": request.form.get("From")})
        return Response(TWIML, status=200, mimetype="text/xml")

    return app
