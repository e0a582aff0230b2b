"""Sign-in pages and the health endpoints."""
from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from sqlalchemy import select, text

from core.forms import SignInForm
from core.auth import check_password, from_own_pages, refuse_cross_site, sign_in, sign_out
from core.models import User
from core.navigation import safe_next
from core.runtime import current, db_session
from core.signin_limits import DEVICE_COOKIE, DEVICE_COOKIE_DAYS, SignInLimits

auth_bp = Blueprint("auth", __name__, template_folder="templates")
health_bp = Blueprint("health", __name__)


@auth_bp.record_once
def _install_limits(state: BlueprintSetupState) -> None:
    """One counter per app, on its settings (Redis when REDIS_URL is set)."""
    state.app.extensions["pendel_sign_in_limits"] = SignInLimits(state.app.extensions["pendel"].settings)


@auth_bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = SignInForm()
    if request.method == "GET":
        return render_template("core/login.html", form=form)
    if not from_own_pages():
        return refuse_cross_site()
    if not form.validate_on_submit():
        return render_template("core/login.html", form=form), 400
    email = (form.email.data or "").strip().lower()
    password = form.password.data or ""
    limits: SignInLimits = current_app.extensions["pendel_sign_in_limits"]
    attempt = limits.attempt(email, request.remote_addr, request.cookies.get(DEVICE_COOKIE))
    wait = limits.wait_seconds(attempt, time.time())
    if wait:  # not even the right password is checked until the window has passed
        return render_template("core/login.html", form=form, wait=wait), 429, {"Retry-After": str(wait)}
    user = db_session().scalar(select(User).where(User.email == email))
    if not check_password(user, password):
        limits.failed(attempt)
        return render_template("core/login.html", form=form, wrong=True), 401
    assert user is not None
    limits.succeeded(attempt)
    sign_in(user)
    response = redirect(safe_next(request.args.get("next")))
    if not attempt.known_device:
        settings = current().settings
        response.set_cookie(DEVICE_COOKIE, limits.device_cookie(attempt), max_age=DEVICE_COOKIE_DAYS * 86400,
                            httponly=True, samesite="Lax", secure=settings.public_base_url.startswith("https://"))
    return response


@auth_bp.post("/logout")
def logout() -> Any:
    if not from_own_pages():
        return refuse_cross_site()
    sign_out()
    return redirect(url_for("auth.login"))


@health_bp.get("/healthz")
def healthz() -> Any:
    return jsonify(status="ok")


@health_bp.get("/readyz")
def readyz() -> Any:
    runtime = current()
    checks: dict[str, str] = {}
    try:
        with runtime.db.session() as s:
            s.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - readiness reports, it does not crash
        checks["database"] = f"error: {type(exc).__name__}"
    if runtime.redis is not None:
        try:
            runtime.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503
