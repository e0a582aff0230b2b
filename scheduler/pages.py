"""Staff pages: the signed-in home is the person's own day.

At "/" a mediator sees their own week (scheduler/desk_week.py) and the
office (coordinators and admins) Today, its dashboard (scheduler/desk_today.py),
both with the office's notes (calendar warnings, callback requests, tasks).
The page is shown at "/" itself rather than redirected to: "/" stays the one
address to come home to, and answers 200 to anyone signed in.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from core.auth import login_required
from scheduler.desk_today import today_page
from scheduler.desk_week import own_week

staff_bp = Blueprint("staff", __name__, template_folder="templates")


@staff_bp.get("/")
@login_required
def home() -> Any:
    return today_page() if g.user.sees_all_cases else own_week()
