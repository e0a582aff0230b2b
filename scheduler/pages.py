"""Staff pages: the signed-in home is the person's own day.

A mediator lands on their own week (scheduler/desk_week.py), the office
(coordinators and admins) on Today, its dashboard (scheduler/desk_today.py);
both carry the office's notes (calendar warnings, callback requests, tasks).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, url_for

from core.auth import login_required

staff_bp = Blueprint("staff", __name__, template_folder="templates")


@staff_bp.get("/")
@login_required
def home() -> Any:
    return redirect(url_for("desk_today.index" if g.user.sees_all_cases else "desk_week.mine"))
