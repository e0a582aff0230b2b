"""Security headers and cookies on one answer of every class, asserted in one test.

test_security_headers.py checks the headers of the staff side (a page, the
sign-in page, the API, a feed) over https and plain http. This one takes one
answer of every class a person or program meets, over the test settings'
https://pendel.test: a staff page signed in, a participant's page opened
through a real link, the neutral page of a link that does not work, the public
registration page, the language switch, a calendar feed and a JSON API answer.
Each carries a CSP without 'unsafe-inline', frame denial, nosniff, a referrer
policy and HSTS; pages are never stored (no-store), feeds only privately; and
every cookie any of them sets is HttpOnly, SameSite and Secure, the link's
scoped to /a.
"""
from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any, Iterator

from calendars.feeds import issue_feed_token
from tests import factories as f
from tests.integration.participant_helpers import book_with_link

BASE = "https://pendel.test"  # the test settings' PUBLIC_BASE_URL: the client asks for what browsers would
PASSWORD = "correct horse battery"
REFERRER_POLICIES = ("same-origin", "no-referrer", "strict-origin", "strict-origin-when-cross-origin")


def _answers(app: Any, runtime: Any) -> Iterator[tuple[str, Any]]:
    """(class, response) for one answer of each class, including those that set the cookies."""
    booked = book_with_link(runtime)
    with runtime.db.write_session() as s:
        user, bearer = f.staff(s, "coordinator")
        feed = issue_feed_token(s, mediator_id=booked.world.mediator_ids[0])
    staff = app.test_client()
    yield "sign-in", staff.post("/login", data={"email": user.email, "password": PASSWORD}, base_url=BASE)
    yield "staff page", staff.get("/cases", base_url=BASE)
    participant = app.test_client()
    yield "participant link", participant.get(f"/a/{booked.token}", base_url=BASE)
    yield "participant page", participant.get("/a/", base_url=BASE)
    yield "participant 404", app.test_client().get("/a/", base_url=BASE)
    public = app.test_client()
    yield "public page", public.get("/aanmelden", base_url=BASE)
    yield "language switch", public.post("/language", data={"language": "en", "next": "/aanmelden"}, base_url=BASE)
    yield "feed", app.test_client().get(f"/calendars/feeds/{feed}.ics", base_url=BASE)
    yield "api", app.test_client().get("/api/v1/cases", headers=bearer, base_url=BASE)


# What each class must answer, its media type and its Cache-Control.
EXPECTED = {
    "sign-in": (302, None, None),
    "staff page": (200, "text/html", "no-store"),
    "participant link": (303, None, None),
    "participant page": (200, "text/html", "no-store"),
    "participant 404": (404, "text/html", "no-store"),
    "public page": (200, "text/html", "no-store"),
    "language switch": (302, None, None),
    "feed": (200, "text/calendar", "private"),
    "api": (200, "application/json", "no-store"),
}


def _header_problems(name: str, response: Any) -> list[str]:
    headers, problems = response.headers, []
    status, mimetype, cache = EXPECTED[name]
    if response.status_code != status or (mimetype and response.mimetype != mimetype):
        return [f"{name}: {response.status_code} {response.mimetype}, expected {status} {mimetype}"]
    csp = headers.get("Content-Security-Policy", "")
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part.strip())
    checks = {
        "a CSP": bool(csp),
        "no 'unsafe-inline' or 'unsafe-eval'": "unsafe-inline" not in csp and "unsafe-eval" not in csp,
        "script-src and style-src 'self'": (directives.get("script-src"), directives.get("style-src"))
        == ("'self'", "'self'"),
        "frame-ancestors 'none'": directives.get("frame-ancestors") == "'none'",
        "X-Frame-Options DENY": headers.get("X-Frame-Options") == "DENY",
        "X-Content-Type-Options nosniff": headers.get("X-Content-Type-Options") == "nosniff",
        "a strict Referrer-Policy": headers.get("Referrer-Policy") in REFERRER_POLICIES,
        "HSTS of a year": headers.get("Strict-Transport-Security", "").startswith("max-age=31536000"),
    }
    if cache is not None:
        directives_cc = {d.strip() for d in headers.get("Cache-Control", "").split(",")}
        checks[f"Cache-Control {cache}"] = cache in directives_cc and "public" not in directives_cc
    problems += [f"{name}: expected {what} ({dict(headers)})" for what, ok in checks.items() if not ok]
    return problems


def _cookie_problems(name: str, response: Any) -> list[tuple[str, str]]:
    """(cookie, problem) for each cookie the answer sets without HttpOnly, SameSite or Secure (or the link's path)."""
    problems = []
    for raw in response.headers.getlist("Set-Cookie"):
        morsel = next(iter(SimpleCookie(raw).values()))
        flags = raw.lower()
        wanted = {"HttpOnly": "httponly" in flags, "SameSite Lax or Strict": morsel["samesite"] in ("Lax", "Strict"),
                  "Secure": "secure" in flags.replace("samesite", "")}
        if morsel.key == "pendel_link":
            wanted["Path=/a"] = morsel["path"] == "/a"
        problems += [(f"{name}: {morsel.key}", what) for what, ok in wanted.items() if not ok]
    return problems


def test_every_class_of_answer_carries_its_headers_and_safe_cookies(app: Any, runtime: Any) -> None:
    assert runtime.settings.public_base_url == BASE
    header_problems: list[str] = []
    cookie_problems: list[tuple[str, str]] = []
    cookies_seen: set[str] = set()
    for name, response in _answers(app, runtime):
        header_problems += _header_problems(name, response)
        cookie_problems += _cookie_problems(name, response)
        cookies_seen |= {next(iter(SimpleCookie(raw))) for raw in response.headers.getlist("Set-Cookie")}
    assert not header_problems, "\n".join(header_problems)
    assert not cookie_problems, cookie_problems
    # The session (staff and the public form's token), the sign-in device, the link and the language cookie.
    assert {"session", "pendel_link", "pendel_lang"} <= cookies_seen, cookies_seen
