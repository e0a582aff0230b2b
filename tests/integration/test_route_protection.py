"""Every route of the app protects itself: generated from `app.url_map`, so a new route cannot land unprotected.

Each rule is called for each of its methods by every kind of caller: anonymous
(with and without a form token), with a garbage bearer token, with a real token
of each role, signed in as each role, and as a mediator on a case they are not
assigned to. EXPECTATIONS names the protection class of every endpoint; an
endpoint missing from it fails the test by name. The refusals run first and
must leave every table as it was; then the roles a class admits are checked to
get in (so the table cannot be stricter than the app), and last every Twilio
webhook refuses a missing, a wrong and a replayed (signed for another URL)
signature, and takes a genuine one.
"""
from __future__ import annotations

import re
from typing import Any, Callable

import pytest

from core.twilio_signature import SIGNATURE_HEADER, sign
from tests.conftest import with_settings
from tests.integration.route_helpers import (MISSING, ROLES, Place, build_place, snapshot, static_files,
                                             url_for_rule)


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    """Every link route is called many times from one address with links that do not work: here that is the
    table's point, not guessing, so the limit on it (test_participant_page) is out of the way."""
    return with_settings(settings, link_failure_limit_address="100000 per hour")


PAGE, CASE_PAGE, OFFICE_PAGE, ADMIN_PAGE = "staff page", "staff page, own cases", "office page", "admin page"
API, CASE_API, OWN_API, OFFICE_API = "api", "api, own cases", "api, own calendar", "api office-only"
WEBHOOK, FEED, LINK, LINK_ENTRY, PUBLIC, OPEN = ("twilio webhook", "feed token", "participant link",
                                                 "participant link entry", "public", "open")
_CLASSES: dict[str, list[str]] = {
    OPEN: ["health.healthz", "health.readyz", "auth.login", "auth.logout", "web.choose_language",
           "api.openapi_json"],  # and every `static` / `<blueprint>.static` endpoint (see protection_of)
    PUBLIC: ["public_registration.form", "public_registration.sent", "public_callback.form", "public_callback.done"],
    LINK_ENTRY: ["participant_page.open_link"],
    LINK: ["participant_page." + name for name in ("show", "calendar", "call_me", "cannot_come", "choose", "coming",
                                                   "stop")],
    FEED: ["feeds.calendar_feed"],
    WEBHOOK: ["sms_webhooks.sms_inbound", "sms_webhooks.sms_status", "voice.incoming_call", "voice.answer",
              "voice.dialled", "staff_voice.callback_done", "staff_voice.callback_staff",
              "staff_voice.callback_staff_answer", "staff_voice.screen", "staff_voice.screen_answer",
              "staff_voice.status"],
    PAGE: ["staff.home", "callback_pages.queue", "callback_pages.duty", "desk_calendars.index", "desk_cases.index",
           "desk_week.mine", "desk_week.room"],
    CASE_PAGE: ["desk_booking." + n for n in ("appointment", "cancel", "confirm", "held", "release", "reschedule",
                                              "plan_intake")]
    + ["desk_calendars." + n for n in ("owner", "add_caldav", "rotate_feed", "revoke_feed", "add_ics", "add_upload",
                                       "remove", "sync_now")]
    + ["callback_pages." + n for n in ("detail", "claim_or_release", "attempt", "call", "close")]
    + ["desk_messages.appointment", "desk_cases.show", "desk_meeting.plan", "desk_meeting.planned",
       "desk_meeting.undo_withdrawal", "desk_meeting.withdraw", "desk_offers.make", "desk_offers.choose",
       "desk_offers.withdraw", "desk_week.mediator"],
    OFFICE_PAGE: ["desk_admin." + n for n in ("index", "locations", "location", "new_room", "new_location", "mediators",
                                              "mediator", "new_mediator", "regions", "rename_region", "room")]
    + ["desk_cases.new", "desk_cases.change", "desk_cases.edit", "desk_cases.add_participant",
       "desk_cases.edit_participant", "desk_messages.again", "desk_messages.fix", "desk_messages.dead",
       "desk_reassign.index", "desk_reassign.apply", "desk_registrations.index", "desk_registrations.show",
       "desk_registrations.close", "desk_today.index", "desk_privacy.erase", "desk_privacy.export"],
    ADMIN_PAGE: ["desk_admin.users", "desk_admin.user", "desk_admin.new_user"],
    API: ["api.list_appointments", "api.create_appointment", "api.availability", "api.list_cases", "api.list_locations",
          "api.get_location", "api.list_mediators", "api.get_mediator", "api.list_participants",
          "api.create_participant", "api.list_rooms", "api.get_room", "api.list_tasks",
          "calendars_api.list_calendar_sources", "calendars_api.create_calendar_source",
          "telephony_api.list_callbacks", "telephony_api.get_me", "telephony_api.patch_me",
          "notifications_api.list_messages"],
    CASE_API: ["api." + n for n in ("get_appointment", "cancel_appointment", "confirm_appointment",
                                    "reschedule_appointment", "get_case", "patch_case", "get_participant",
                                    "patch_participant", "undo_participant_withdrawal", "withdraw_participant",
                                    "complete_task")]
    + ["calendars_api." + n for n in ("get_calendar_source", "patch_calendar_source", "delete_calendar_source",
                                      "sync_calendar_source", "upload_calendar_file")]
    + ["telephony_api." + n for n in ("get_callback", "record_attempt", "call_callback", "claim_callback",
                                      "close_callback", "release_callback")]
    + ["notifications_api.get_message"],
    OWN_API: ["feeds_api.issue_mediator_feed_token", "feeds_api.revoke_mediator_feed_token"],
    OFFICE_API: ["api." + n for n in ("create_case", "create_location", "patch_location", "create_mediator",
                                      "patch_mediator", "reassign_mediator", "create_room", "patch_room",
                                      "erase_participant", "participant_data")]
    + ["telephony_api.list_on_duty", "feeds_api.issue_room_feed_token", "feeds_api.revoke_room_feed_token"],
}
EXPECTATIONS: dict[str, str] = {endpoint: cls for cls, endpoints in _CLASSES.items() for endpoint in endpoints}
# Who gets in, per class (the roles signed in for pages, holding a token for the API).
ADMITTED = {PAGE: ROLES, CASE_PAGE: ROLES, OFFICE_PAGE: ("admin", "coordinator"), ADMIN_PAGE: ("admin",),
            API: ROLES, CASE_API: ROLES, OWN_API: ROLES, OFFICE_API: ("admin", "coordinator")}
PAGES, APIS = (PAGE, CASE_PAGE, OFFICE_PAGE, ADMIN_PAGE), (API, CASE_API, OWN_API, OFFICE_API)
# A mediator on someone else's case or calendar: the same answer as an unknown id (a calendar of another
# mediator may say 403: that it exists is no secret). Two routes refuse before any lookup while click-to-call
# is not configured in the tests: the API with 409, the page by sending back to the request's page (a 404).
THEIRS = {CASE_PAGE: (403, 404), CASE_API: (404,), OWN_API: (403, 404)}
BEFORE_LOOKUP = {"telephony_api.call_callback": 409, "callback_pages.call": 303}
# Bodies that pass validation, so a refusal of another case's row is the lookup's and not the body's.
BODIES: dict[str, dict[str, Any]] = {
    "api.reschedule_appointment": {"start": "2031-03-04T09:00:00Z", "end": "2031-03-04T10:00:00Z"},
    "calendars_api.upload_calendar_file": {"content": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"},
    "telephony_api.record_attempt": {"outcome": "no_answer"},
    "telephony_api.close_callback": {"status": "done"},
}


def protection_of(endpoint: str) -> str | None:
    if endpoint == "static" or endpoint.endswith(".static"):
        return OPEN
    return EXPECTATIONS.get(endpoint)


class Calls:
    """Calls every route as every caller; collects what went against the table instead of stopping at the first."""

    def __init__(self, app: Any, place: Place) -> None:
        self.app, self.place, self.files = app, place, static_files(app)
        self.problems: list[str] = []
        self.count = 0
        self.neutral = _neutral(app.test_client().get("/a/"))

    def rules(self, classes: tuple[str, ...]) -> list[tuple[Any, str, str]]:
        out = []
        for rule in sorted(self.app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
            cls = protection_of(rule.endpoint)
            if cls in classes:
                out += [(rule, method, cls) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
        return out

    def call(self, client: Any, rule: Any, method: str, side: str = "own", headers: dict[str, str] | None = None,
             form_token: bool = True) -> Any:
        """One request; a page's POST carries a form token (as from a browser), so CSRF is not what refuses it."""
        self.count += 1
        path = url_for_rule(rule, getattr(self.place, side), self.files)
        kwargs: dict[str, Any] = {"method": method, "headers": dict(headers or {})}
        if path.startswith("/api/") and method in ("POST", "PUT", "PATCH"):
            kwargs["json"] = BODIES.get(rule.endpoint, {})
        elif method == "POST" and not path.startswith("/telephony/"):
            if not form_token:
                return client.raw_post(path, headers=kwargs["headers"])
            if headers:  # the test client adds a token only without an Authorization header
                kwargs["data"] = {"csrf_token": client.fetch_token()}
        return client.open(path, **kwargs)

    def expect(self, who: str, rule: Any, method: str, response: Any, ok: Callable[[Any], bool], want: str) -> None:
        if not ok(response):
            where = response.headers.get("Location", "")
            self.problems.append(f"{rule.endpoint} {method} {rule.rule} as {who}: {response.status_code} {where} "
                                 f"(expected {want})")


def _neutral(response: Any) -> str:
    """The page with what differs per request (the form token, the path to come back to) left out."""
    return re.sub(r'name="(csrf_token|next)" value="[^"]*"', "", response.get_data(as_text=True))


def _to_login(r: Any) -> bool:
    return r.status_code == 302 and r.headers["Location"].split("?")[0].endswith("/login")


def _refusals(calls: Calls) -> None:
    """Every caller a class refuses, on every rule of the class."""
    app, place = calls.app, calls.place
    callers = [("anonymous", {}), ("garbage token", {"Authorization": "Bearer garbage"})]
    callers += [(f"{role} token", place.headers[role]) for role in ROLES]
    for rule, method, cls in calls.rules(PAGES):
        for who, headers in callers:  # a token opens no page
            response = calls.call(app.test_client(), rule, method, headers=headers)
            calls.expect(who, rule, method, response, _to_login, "302 to /login")
        if method == "POST":
            response = calls.call(app.test_client(), rule, method, form_token=False)
            calls.expect("anonymous without form token", rule, method, response, lambda r: r.status_code == 400, "400")
        refused_roles = [role for role in ROLES if role not in ADMITTED[cls]]
        for role in refused_roles:
            response = calls.call(place.sessions[role], rule, method)
            calls.expect(f"signed-in {role}", rule, method, response, lambda r: r.status_code in (403, 404), "403/404")
        if cls in THEIRS:
            want = (BEFORE_LOOKUP.get(rule.endpoint),) + THEIRS[cls]
            response = calls.call(place.sessions["mediator"], rule, method, side="theirs")
            calls.expect("mediator on another case", rule, method, response, lambda r: r.status_code in want,
                         f"{want}")
    for rule, method, cls in calls.rules(APIS):
        for who, client in [("anonymous", app.test_client()), ("garbage token", app.test_client()),
                            ("signed-in coordinator without token", place.sessions["coordinator"])]:
            headers = {"Authorization": "Bearer garbage"} if who == "garbage token" else {}
            response = calls.call(client, rule, method, headers=headers)
            calls.expect(who, rule, method, response, lambda r: r.status_code == 401, "401")
        for role in (r for r in ROLES if r not in ADMITTED[cls]):
            response = calls.call(app.test_client(), rule, method, headers=place.headers[role])
            calls.expect(f"{role} token", rule, method, response, lambda r: r.status_code == 403, "403")
        if cls in THEIRS:
            want = (BEFORE_LOOKUP.get(rule.endpoint),) + THEIRS[cls]
            response = calls.call(app.test_client(), rule, method, side="theirs", headers=place.headers["mediator"])
            calls.expect("mediator token on another case", rule, method, response, lambda r: r.status_code in want,
                         f"{want}")
    everyone = callers + [(f"signed-in {role}", None) for role in ROLES]
    for rule, method, cls in calls.rules((WEBHOOK, FEED, LINK, LINK_ENTRY)):
        for who, headers in everyone:
            client = place.sessions[who.split()[-1]] if headers is None else app.test_client()
            if cls == LINK and who == "garbage token":
                client.set_cookie("pendel_link", "garbage", path="/a")
            response = calls.call(client, rule, method, side="theirs", headers=headers)
            if cls == WEBHOOK:
                calls.expect(who, rule, method, response, lambda r: r.status_code == 403, "403")
            elif cls == FEED:
                calls.expect(who, rule, method, response, lambda r: r.status_code == 404, "404")
            elif cls == LINK:
                calls.expect(who, rule, method, response,
                             lambda r: r.status_code == 404 and _neutral(r) == calls.neutral, "the neutral 404 page")
            else:
                calls.expect(who, rule, method, response, lambda r: r.status_code == 303
                             and r.headers["Location"].endswith("/a/"), "303 to /a/, whatever the token")


def _admitted(calls: Calls) -> None:
    """What a class lets in gets in: the table is no stricter than the app (public and open pages for everyone)."""
    app, place = calls.app, calls.place
    for rule, method, cls in calls.rules((PUBLIC, OPEN)):
        if method != "GET":
            continue
        for who, headers in [("anonymous", {}), ("garbage token", {"Authorization": "Bearer garbage"}),
                             ("coordinator token", place.headers["coordinator"])]:
            response = calls.call(app.test_client(), rule, method, headers=headers)
            real_file = not rule.endpoint.endswith("static") or rule.endpoint in calls.files
            calls.expect(who, rule, method, response, lambda r: r.status_code == (200 if real_file else 404), "200")
    for rule, method, cls in calls.rules(PAGES + APIS):
        if method != "GET":
            continue
        for role in ADMITTED[cls]:
            if cls in PAGES:
                response = calls.call(place.sessions[role], rule, method)
            else:
                response = calls.call(app.test_client(), rule, method, headers=place.headers[role])
            calls.expect(f"{role} ({cls})", rule, method, response,
                         lambda r: r.status_code < 500 and r.status_code not in (401, 403) and not _to_login(r),
                         "to be let in")


def test_every_rule_has_a_protection_class(app: Any) -> None:
    missing = sorted({rule.endpoint for rule in app.url_map.iter_rules() if protection_of(rule.endpoint) is None})
    assert not missing, f"routes without an entry in EXPECTATIONS (test_route_protection.py): {missing}"
    stale = sorted(set(EXPECTATIONS) - {rule.endpoint for rule in app.url_map.iter_rules()})
    assert not stale, f"EXPECTATIONS names endpoints the app no longer has: {stale}"


def test_every_route_refuses_whom_it_should_and_changes_nothing(app: Any, runtime: Any) -> None:
    place = build_place(app, runtime)
    calls = Calls(app, place)
    before = snapshot(runtime)
    _refusals(calls)
    after = snapshot(runtime)
    changed = sorted(table for table in before if before[table] != after[table])
    refused = calls.count
    _admitted(calls)
    print(f"\n{len(list(app.url_map.iter_rules()))} rules; {refused} refused calls, {calls.count - refused} admitted")
    assert not calls.problems, "\n".join(calls.problems)
    assert not changed, f"refused calls changed these tables: {changed}"
    assert refused >= 5 * len(list(app.url_map.iter_rules()))  # every rule, several callers each


def _webhook_form() -> dict[str, str]:
    return {"CallSid": "CA" + "0" * 32, "MessageSid": "SM" + "0" * 32, "From": "+31612345678", "To": "+31301234567",
            "Digits": "1", "CallStatus": "completed", "MessageStatus": "delivered", "Body": "STOP"}


def test_every_webhook_refuses_missing_wrong_and_replayed_signatures(app: Any, runtime: Any) -> None:
    settings = runtime.settings
    base = settings.public_base_url.rstrip("/")
    rules = [rule for rule in app.url_map.iter_rules() if protection_of(rule.endpoint) == WEBHOOK]
    assert len(rules) == len(_CLASSES[WEBHOOK])
    values = {"turn": 1, "call_id": MISSING}
    paths = [url_for_rule(rule, values, {}) for rule in rules]
    form = _webhook_form()
    before = snapshot(runtime)
    problems = []
    for i, path in enumerate(paths):
        elsewhere = paths[(i + 1) % len(paths)]
        attempts = {"no signature": {}, "wrong signature": {SIGNATURE_HEADER: "d3JvbmcK"},
                    f"signed for {elsewhere}": {SIGNATURE_HEADER: sign(base + elsewhere, form,
                                                                       settings.twilio_auth_token)},
                    "signed for another host": {SIGNATURE_HEADER: sign("https://elsewhere.test" + path, form,
                                                                       settings.twilio_auth_token)},
                    "signed with another token": {SIGNATURE_HEADER: sign(base + path, form, "not-our-token")}}
        for what, headers in attempts.items():
            response = app.test_client().post(path, data=form, headers=headers)
            if response.status_code != 403:
                problems.append(f"{path} {what}: {response.status_code}")
    assert not problems, problems
    assert snapshot(runtime) == before
    for path in paths:  # and the genuine signature for the URL itself is taken (the check is no blanket refusal)
        genuine = {SIGNATURE_HEADER: sign(base + path, form, settings.twilio_auth_token)}
        response = app.test_client().post(path, data=form, headers=genuine)
        assert response.status_code != 403 and response.status_code < 500, (path, response.status_code)
