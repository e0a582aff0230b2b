"""The callback pages speak one language at a time, and their forms need the page's token.

Dutch is the default; the header's switch (POST /language) turns each page
English, with no Dutch word left and no "Dutch / English" pair. A form posted
without its CSRF token (`client.raw_post`) is refused with 400 and changes
nothing: the duty switch, claiming, an attempt, closing.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from core.models import User
from telephony.models import CallbackAttempt, CallbackRequest
from tests import factories as f
from tests.integration.ivr_helpers import local

MONDAY_10 = local(2026, 11, 30, 10, 0)
PASSWORD = "correct horse battery"

# Per page: words the Dutch page shows, and their English (each list matched in its own language).
PAGES = {
    "queue": ("/callbacks", ["Terugbelverzoeken", ">Oppakken<", "ochtend", "te laat", "niet zeggen wie wij zijn",
                             "Behandelaar", "ma 30 nov, 09:00"],
              ["Callback requests", ">Claim<", "morning", ">overdue<", "don't say who we are", "Handled by",
               "Mon 30 Nov, 09:00"]),
    "detail": ("/callbacks/{id}", ["Terugbelverzoek", "Poging vastleggen", "geen gehoor", "Nummer om te bellen",
                                   "maandag 30 november, 06:00–09:00", "vervallen"],
               ["Callback request", "Record an attempt", "no answer", "Number to call",
                "Monday 30 November, 06:00–09:00", "no longer needed"]),
    "duty": ("/duty", ["Bereikbaarheid", "Telefoonnummer", "Opslaan", "Nu bereikbaar", "Niemand"],
             ["On duty", "Phone number", "Save", "On duty now", "Nobody"]),
    "home": ("/", ["Terugbelverzoeken", "Bellers uit uw dossiers", "ochtend", "te laat"],
             ["Callback requests", "Callers from your cases", "morning", ">overdue<"]),
}
# Dutch that must not appear on any English page (and pairs that must appear on none).
DUTCH = ("Terugbel", "Oppakken", "ochtend", "te laat", "Opslaan", "Bereikbaar", "Behandelaar", "Poging",
         "Afmelden", "dossier", "Uiterlijk", "Nummer", " ma 30", "maandag", "nov,")


@pytest.fixture(autouse=True)
def at(app: Any) -> None:
    app.config["PENDEL_NOW"] = MONDAY_10


def _request(s: Any, **kw: Any) -> int:
    due = local(2026, 11, 30, 9, 0)  # overdue at ten
    values: dict[str, Any] = dict(number="+31612340001", number_typed_in=False, caller_number="+31612340001",
                                  language="nl", moment="morning", may_identify=False, wants_confirmation=False,
                                  status="open", window_start=due - timedelta(hours=3), due_at=due)
    values.update(kw)
    row = CallbackRequest(**values)
    s.add(row)
    s.flush()
    return row.id


def _sign_in(client: Any, user: User) -> None:
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize("name", PAGES)
def test_each_page_speaks_dutch_then_english_after_the_switch(client: Any, database: Any, name: str) -> None:
    with database.write_session() as s:
        if name == "home":  # a mediator's overview lists the requests of their own cases
            mediator = f.mediator(s)
            user, _ = f.staff(s, "mediator", mediator)
            callback_id = _request(s, case_id=f.case(s, [mediator]).id)
        else:
            user, _ = f.staff(s, "coordinator")
            callback_id = _request(s)
            s.add(CallbackAttempt(callback_id=callback_id, at=MONDAY_10, outcome="no_answer", by_user_id=user.id))
    _sign_in(client, user)
    path, dutch, english = PAGES[name]
    path = path.format(id=callback_id)
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    assert '<html lang="nl">' in page
    missing = [word for word in dutch if word not in page]
    assert not missing, missing
    assert not [word for word in english if word in page]
    assert " / " not in _main(page) and '<span class="muted">/' not in page

    switched = client.post("/language", data={"language": "en", "next": path})
    assert switched.status_code == 302
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    assert '<html lang="en">' in page
    missing = [word for word in english if word not in page]
    assert not missing, missing
    assert not [word for word in DUTCH if word in _main(page)]
    assert " / " not in _main(page) and '<span class="muted">/' not in page


def _main(page: str) -> str:
    """The page's own content (the header's language button names the other language in that language)."""
    return page[page.index("<main"):page.index("</main>")]


def test_forms_without_the_token_are_refused_and_change_nothing(client: Any, database: Any) -> None:
    with database.write_session() as s:
        user, _ = f.staff(s, "coordinator")
        callback_id = _request(s)
    _sign_in(client, user)
    url = f"/callbacks/{callback_id}"
    for path, data in (("/duty", {"phone": "06 12345678", "on_duty": "on"}),
                       (f"{url}/claim", {}), (f"{url}/attempts", {"outcome": "no_answer"}),
                       (f"{url}/close", {"status": "done"}),
                       (f"{url}/close", {"status": "done", "csrf_token": "not-the-token"})):
        refused = client.raw_post(path, data=data)
        assert refused.status_code == 400, path
        assert "niets gewijzigd" in refused.get_data(as_text=True)
    with database.session() as s:
        assert (s.get(User, user.id).phone, s.get(User, user.id).on_duty) == (None, False)  # type: ignore[union-attr]
        row = s.get(CallbackRequest, callback_id)
        assert row is not None and (row.status, row.assignee_id) == ("open", None)
        assert s.scalar(select(func.count()).select_from(CallbackAttempt)) == 0
    assert client.post(f"{url}/claim").status_code == 303  # the same POST with the page's token works
