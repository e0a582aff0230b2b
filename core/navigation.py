"""The staff pages' header menu and where a form may send the browser afterwards."""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, url_for

from core.plugins import NavItem


def add_nav_item(app: Flask, item: NavItem) -> None:
    """A link in the staff pages' header; packages add their own (their plugin's `nav`), so core names none."""
    app.extensions.setdefault("pendel_nav", []).append(item)


def nav_for(user: Any) -> list[NavItem]:
    """The menu this user sees: in the packages' order, without what their role may not open."""
    items = current_app.extensions.get("pendel_nav", [])
    role = getattr(user, "role", None)
    return sorted((i for i in items if not i.roles or role in i.roles), key=lambda i: i.order)


def safe_next(target: str | None, fallback_endpoint: str = "staff.home") -> str:
    """Only local paths: never an open redirect.

    Browsers read a backslash as a slash and drop tabs and newlines, so
    "/\\evil" and "/<TAB>/evil" are "//evil".
    """
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)):
        return target
    return url_for(fallback_endpoint)


def install_navigation(app: Flask) -> None:
    @app.context_processor
    def _nav() -> dict[str, Any]:
        return {"nav_items": nav_for(g.get("user"))}
