"""Sign-in pages and the health endpoints."""
from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from sqlalchemy import select, text

from core.auth import check_password, from_own_pages, refuse_cross_site, sign_in, sign_out
from core.models import User
from core.runtime import current, db_session
from core.signin_limits import DEVICE_COOKIE, DEVICE_COOKIE_DAYS, SignInLimits

auth_bp = Blueprint("auth", __name__, template_folder="templates")
health_bp = Blueprint("health", __name__)


@auth_bp.record_once
def _install_limits(state: BlueprintSetupState) -> None:
    """One counter per app, on its settings (Redis when REDIS_URL is set)."""
    state.app.extensions["pendel_sign_in_limits"] = SignInLimits(state.app.extensions["pendel"].settings)


def _safe_next(target: str | None) -> str:
    # Only local paths: never an open redirect. Browsers read a backslash as a
    # slash and drop tabs and newlines, so "/\\evil" and "/<TAB>/evil" are "//evil".
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)):
        return target
    return url_for("staff.home")


@auth_bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("core/login.html")
    if not from_own_pages():
        return refuse_cross_site()
    email = (request.form.get("email") or "").strip().lower()
    password = request.form.get("password") or ""
    limits: SignInLimits = current_app.extensions["pendel_sign_in_limits"]
    attempt = limits.attempt(email, request.remote_addr, request.cookies.get(DEVICE_COOKIE))
    wait = limits.wait_seconds(attempt, time.time())
    if wait:  # not even the right password is checked until the window has passed
        return render_template("core/login.html", wait=wait), 429, {"Retry-After": str(wait)}
    user = db_session().scalar(select(User).where(User.email == email))
    if not check_password(user, password):
        limits.failed(attempt)
        return render_template("core/login.html", wrong=True), 401
    assert user is not None
    limits.succeeded(attempt)
    sign_in(user)
    response = redirect(_safe_next(request.args.get("next")))
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


def add_nav_item(app: Any, endpoint: str, label_nl: str, label_en: str) -> None:
    """A link in the staff pages' header; packages add their own, so core names none of them."""
    app.extensions.setdefault("pendel_nav", []).append((endpoint, label_nl, label_en))


@auth_bp.app_context_processor
def _nav() -> dict[str, Any]:
    return {"nav_items": current_app.extensions.get("pendel_nav", [])}
