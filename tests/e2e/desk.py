"""What the desk's browser tests share: signing in, phone and laptop sizes, axe-core, screenshots.

Screenshots of the main pages go to `test-screenshots/` at the repository's
root (or PENDEL_SCREENSHOTS), one PNG per page and width, overwritten by each
run: open them to see what the office sees.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
SCREENSHOTS = Path(os.environ.get("PENDEL_SCREENSHOTS") or ROOT / "test-screenshots")
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
SERIOUS = ("serious", "critical")


def sign_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert not page.url.startswith(f"{base}/login"), page.inner_text("main")


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core (shipped inside axe-playwright-python, served by nobody) on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in SERIOUS]


def describe(violations: list[dict[str, Any]]) -> str:
    return "; ".join(f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in violations)


def look(page: Any, name: str, *, check_a11y: bool = True) -> None:
    """Screenshot the page at laptop and phone width, and fail on a serious accessibility problem."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
        if label == "phone":
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{name}: the page is {overflow}px wider than a 375px phone"
    page.set_viewport_size(LAPTOP)
    if check_a11y:
        found = serious_violations(page)
        assert not found, f"{name}: {describe(found)}"
