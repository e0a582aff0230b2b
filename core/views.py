"""Sign-in pages and the health endpoints."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, session as web_session, url_for
from sqlalchemy import select, text

from core.auth import check_password, sign_in
from core.models import User
from core.runtime import current, db_session

auth_bp = Blueprint("auth", __name__, template_folder="templates")
health_bp = Blueprint("health", __name__)


def _safe_next(target: str | None) -> str:
    # Only local paths: never an open redirect. Browsers read a backslash as a
    # slash and drop tabs and newlines, so "/\\evil" and "/<TAB>/evil" are "//evil".
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)):
        return target
    return url_for("staff.home")


@auth_bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        email = (request.form.get("email") or "").strip().lower()
        password = request.form.get("password") or ""
        user = db_session().scalar(select(User).where(User.email == email))
        if check_password(user, password):
            assert user is not None
            sign_in(user)
            return redirect(_safe_next(request.args.get("next")))
        error = "Onbekend e-mailadres of verkeerd wachtwoord. / Unknown email or wrong password."
    return render_template("core/login.html", error=error), 401 if error else 200


@auth_bp.post("/logout")
def logout() -> Any:
    web_session.clear()
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
    from flask import current_app

    return {"nav_items": current_app.extensions.get("pendel_nav", [])}
