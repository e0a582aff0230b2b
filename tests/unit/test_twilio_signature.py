"""The Twilio signature guard: the URL Twilio called (public base + path + query), the form, the token."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, request
from twilio.request_validator import RequestValidator

from core.config import Settings
from core.runtime import build_runtime
from core.twilio_signature import signed_url, sign, twilio_signed

TOKEN = "unit-auth-token"
BASE = "https://pendel.example"
FORM = {"MessageSid": "SM0001", "MessageStatus": "delivered", "To": "+31612345678"}


def make_app(**changes: Any) -> Flask:
    values: dict[str, Any] = dict(environment="testing", database_url="sqlite:///:memory:", secret_key="s",
                                  twilio_auth_token=TOKEN, public_base_url=BASE)
    values.update(changes)
    app = Flask(__name__)
    app.extensions["pendel"] = build_runtime(Settings(**values))
    calls: list[dict[str, str]] = []
    app.config["calls"] = calls

    @app.post("/hook")
    @twilio_signed
    def hook() -> str:
        calls.append(dict(request.form))
        return "ok"

    return app


def post(app: Flask, path: str, signature: str | None, form: dict[str, str] = FORM) -> Any:
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return app.test_client().post(path, data=form, headers=headers)


def test_sign_is_what_twilios_validator_accepts() -> None:
    signature = sign(f"{BASE}/hook?x=1", FORM, TOKEN)
    assert RequestValidator(TOKEN).validate(f"{BASE}/hook?x=1", FORM, signature)
    assert not RequestValidator("other").validate(f"{BASE}/hook?x=1", FORM, signature)


def test_a_correct_signature_passes_and_the_view_runs() -> None:
    app = make_app()
    response = post(app, "/hook", sign(f"{BASE}/hook", FORM, TOKEN))
    assert response.status_code == 200
    assert app.config["calls"] == [FORM]


def test_the_query_string_is_signed_as_sent() -> None:
    app = make_app()
    signature = sign(f"{BASE}/hook?attempt=2&x=a%20b", FORM, TOKEN)
    assert post(app, "/hook?attempt=2&x=a%20b", signature).status_code == 200
    # The same request signed without its query string, or with the query re-ordered, is not Twilio's.
    assert post(app, "/hook?attempt=2&x=a%20b", sign(f"{BASE}/hook", FORM, TOKEN)).status_code == 403
    assert post(app, "/hook?x=a%20b&attempt=2", signature).status_code == 403


@pytest.mark.parametrize("url", [
    "http://pendel.example/hook",          # another scheme
    "https://other.example/hook",          # another host
    "https://pendel.example/hook?",        # a trailing "?" is another URL
    "https://pendel.example/other",        # another path
    "http://localhost/hook",               # the URL the app saw, not the public one
])
def test_a_signature_for_another_url_is_refused(url: str) -> None:
    app = make_app()
    response = post(app, "/hook", sign(url, FORM, TOKEN))
    assert response.status_code == 403
    assert response.mimetype == "text/plain" and response.get_data(as_text=True) == "Forbidden"
    assert app.config["calls"] == []


def test_missing_wrong_token_or_changed_form_is_refused() -> None:
    app = make_app()
    good = sign(f"{BASE}/hook", FORM, TOKEN)
    assert post(app, "/hook", None).status_code == 403
    assert post(app, "/hook", "").status_code == 403
    assert post(app, "/hook", sign(f"{BASE}/hook", FORM, "another-token")).status_code == 403
    assert post(app, "/hook", good, {**FORM, "MessageStatus": "failed"}).status_code == 403
    assert post(app, "/hook", good, {**FORM, "Extra": "1"}).status_code == 403
    assert app.config["calls"] == []


def test_a_port_in_the_public_url_is_accepted_either_way() -> None:
    app = make_app(public_base_url="https://pendel.example:443")
    assert post(app, "/hook", sign(f"{BASE}/hook", FORM, TOKEN)).status_code == 200


def test_without_an_auth_token_everything_is_refused() -> None:
    app = make_app(twilio_auth_token=None)
    assert post(app, "/hook", sign(f"{BASE}/hook", FORM, TOKEN)).status_code == 403


def test_the_development_setting_skips_the_check() -> None:
    app = make_app(webhook_signature_check=False, twilio_auth_token=None)
    assert post(app, "/hook", None).status_code == 200
    assert app.config["calls"] == [FORM]


def test_signed_url_has_no_question_mark_without_a_query() -> None:
    app = make_app(public_base_url=BASE + "/")
    with app.test_request_context("/telephony/sms", method="POST"):
        assert signed_url(app.extensions["pendel"].settings) == f"{BASE}/telephony/sms"
    with app.test_request_context("/telephony/sms?a=1&b=%2B31", method="POST"):
        assert signed_url(app.extensions["pendel"].settings) == f"{BASE}/telephony/sms?a=1&b=%2B31"
