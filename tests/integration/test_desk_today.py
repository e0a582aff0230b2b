"""Today, the office's dashboard: each package's figures, counted from seeded rows, as charts with their numbers
in a table for screen readers; for coordinators only."""
from __future__ import annotations

import ast
import re
from itertools import count
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.db import utcnow
from notifications.models import OutboxMessage
from scheduler.models import Appointment, Room
from scheduler.week_layout import monday_of
from telephony.models import CallbackAttempt, CallbackRequest
from tests import factories as f
from tests.support.days import OFFICE, local

AMS = ZoneInfo("Europe/Amsterdam")
PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]
_NUMBERS = count(1)  # one open request per number


def _sign_in(client: Any, user: Any) -> None:
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def _table(page: str, key: str) -> list[list[str]]:
    """The rows (label, values...) of a chart's hidden table."""
    figure = re.search(rf'<figure class="chart" id="chart-{key}">(.*?)</figure>', page, re.S)
    assert figure is not None, key
    body = re.search(r"<tbody>(.*?)</tbody>", figure.group(1), re.S)
    assert body is not None
    return [[label, *re.findall(r"<td>(.*?)</td>", cells)]
            for label, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', body.group(1))]


def _today() -> date:
    return utcnow().astimezone(AMS).date()


def _callback(s: Any, created: Any, due: Any, status: str = "open", attempt: Any = None) -> None:
    row = CallbackRequest(number=f"+316123400{next(_NUMBERS):02d}", number_typed_in=False, caller_number=None, language="nl",
                          moment="no_preference", may_identify=False, wants_confirmation=False, status=status,
                          created_at=created, updated_at=created, window_start=created, due_at=due)
    s.add(row)
    s.flush()
    if attempt is not None:
        s.add(CallbackAttempt(callback_id=row.id, at=attempt, outcome="no_answer"))
        s.flush()


def _message(s: Any, n: int, status: str, sent: Any = None, finished: Any = None) -> None:
    s.add(OutboxMessage(idempotency_key=f"today-{n}", kind="appointment_confirmed", channel="sms",
                        recipient_kind="participant", status=status, sent_at=sent, finished_at=finished))


@pytest.fixture
def coordinator(database: Any) -> Any:
    with database.write_session() as s:
        user, _ = f.staff(s, "coordinator")
        return user


def test_callback_requests_per_day_and_the_share_called_back_in_time(client: Any, database: Any,
                                                                     coordinator: Any) -> None:
    day = _today() - timedelta(days=3)
    noon = local(day, 12)
    with database.write_session() as s:
        _callback(s, noon, noon + timedelta(hours=20), "in_progress", attempt=noon + timedelta(hours=2))  # in time
        _callback(s, noon, noon + timedelta(hours=20), "done", attempt=noon + timedelta(hours=30))  # late
        _callback(s, noon, noon + timedelta(hours=20))  # never called, window over: late
        _callback(s, noon, noon + timedelta(hours=20), "cancelled")  # no longer needed: left out
        _callback(s, noon - timedelta(days=40), noon)  # before the four weeks
    _sign_in(client, coordinator)
    page = client.get("/today").get_data(as_text=True)
    rows = _table(page, "callbacks")
    assert len(rows) == 28
    assert rows[-4] == [_label(day), "1", "2", "1"]
    assert all(r[1:] == ["0", "0", "0"] for i, r in enumerate(rows) if i != 24)
    assert re.search(r'<p class="headline"><strong>33%</strong> <span>binnen de beloofde tijd teruggebeld '
                     r"\(4 verzoeken, afgelopen 28 dagen\)</span>", page)


def test_messages_sent_and_failed_per_day(client: Any, database: Any, coordinator: Any) -> None:
    yesterday = local(_today() - timedelta(days=1), 11)
    now = utcnow()
    with database.write_session() as s:
        _message(s, 1, "sent", yesterday, yesterday)
        _message(s, 2, "delivered", yesterday, yesterday)
        _message(s, 3, "undelivered", yesterday, now)      # sent yesterday, failed today
        _message(s, 4, "dead", None, now)                  # never went
        _message(s, 5, "pending")                          # not yet
        _message(s, 6, "sent", yesterday - timedelta(days=20), yesterday - timedelta(days=20))  # too long ago
    _sign_in(client, coordinator)
    page = client.get("/today").get_data(as_text=True)
    rows = _table(page, "messages")
    assert len(rows) == 14
    assert rows[-2][1:] == ["3", "0"] and rows[-1][1:] == ["0", "2"]
    assert sum(int(r[1]) for r in rows) == 3 and sum(int(r[2]) for r in rows) == 2
    assert re.search(r"<strong>3</strong> <span>verstuurd in de afgelopen 14 dagen · 2 mislukt</span>", page)


def test_intakes_per_week_and_room_occupancy(client: Any, database: Any, coordinator: Any) -> None:
    monday = monday_of(_today())
    ahead = monday + timedelta(weeks=2, days=1)   # Tuesday in two weeks
    back = monday - timedelta(weeks=3, days=-2)   # Wednesday three weeks ago
    with database.write_session() as s:
        mediator = f.mediator(s)
        room = f.location(s).rooms[0]
        f.location(s).rooms[0].active = False     # a room no longer in use is not available
        case = f.case(s, [mediator])
        for start, status, kind, room_id in ((local(ahead, 10), "confirmed", "intake", room.id),
                                             (local(ahead, 13), "held", "intake", room.id),
                                             (local(ahead, 15), "cancelled", "intake", None),
                                             (local(back, 9), "completed", "intake", None),
                                             (local(back, 11), "confirmed", "meeting", room.id)):
            s.add(Appointment(case_id=case.id, kind=kind, mode="in_person", start=start, status=status,
                              end=start + timedelta(hours=2), room_id=room_id))
        assert s.query(Room).count() == 2
    _sign_in(client, coordinator)
    page = client.get("/today").get_data(as_text=True)
    intakes = _table(page, "intakes")
    assert [r[1] for r in intakes] == ["0"] * 5 + ["1"] + ["0"] * 4 + ["1"] + ["0"] * 2
    assert intakes[8][0].startswith(f"week {monday.isocalendar()[1]} ")
    occupancy = _table(page, "occupancy")
    hours = [8 * sum(OFFICE.is_working_day(m + timedelta(days=d)) for d in range(7))
             for m in (monday - timedelta(weeks=3), monday + timedelta(weeks=2))]
    assert occupancy[5][1] == f"{_half_up(2 / hours[0])}%"
    assert occupancy[10][1] == f"{_half_up(2 / hours[1])}%"
    assert [r[1] for i, r in enumerate(occupancy) if i not in (5, 10)] == ["0%"] * 11
    assert re.search(r"<strong>0</strong> <span>intakes deze week · 1 gepland voor de komende weken</span>", page)


def test_the_page_is_charts_to_look_at_with_their_words(client: Any, coordinator: Any) -> None:
    _sign_in(client, coordinator)
    response = client.get("/today")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    keys = re.findall(r'<figure class="chart" id="chart-([a-z]+)">', page)
    assert keys == ["callbacks", "intakes", "messages", "occupancy"]
    for key in keys:
        assert f'aria-labelledby="chart-{key}-title chart-{key}-desc"' in page
        assert re.search(rf'<title id="chart-{key}-title">[^<]+</title><desc id="chart-{key}-desc">[^<]+</desc>', page)
    assert "style=" not in page and "<script>" not in page
    assert "charts.css" in page and 'media="print"' in page
    assert "Vandaag" in page and "Terugbelverzoeken per dag" in page


def test_home_sends_a_mediator_to_their_week_and_the_office_to_today(client: Any, database: Any,
                                                                     coordinator: Any) -> None:
    with database.write_session() as s:
        mediator, _ = f.staff(s, "mediator", f.mediator(s))
    _sign_in(client, mediator)
    home = client.get("/")  # shown at "/" itself: the one address to come home to
    assert home.status_code == 200 and "<h1>Mijn week</h1>" in home.get_data(as_text=True)
    nav = client.get("/week").get_data(as_text=True)
    assert 'aria-current="page">Mijn week</a>' in nav and ">Vandaag</a>" not in nav
    response = client.get("/today")  # the office's figures are the office's
    assert response.status_code == 403 and "<svg" not in response.get_data(as_text=True)
    client.post("/logout")
    _sign_in(client, coordinator)
    home = client.get("/")
    assert home.status_code == 200 and "Vandaag" in home.get_data(as_text=True)
    assert home.get_data(as_text=True).count('<figure class="chart"') == 4
    page = client.get("/today").get_data(as_text=True)
    assert 'aria-current="page">Vandaag</a>' in page and ">Mijn week</a>" not in page


@pytest.mark.parametrize("module", ["scheduler/desk_today.py", "scheduler/desk_week.py", "scheduler/week_layout.py"])
def test_scheduler_pages_import_neither_telephony_nor_notifications(module: str) -> None:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module} | \
        {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m.split(".")[0] in ("telephony", "notifications")}


def _label(day: date) -> str:
    from babel.dates import format_date

    return format_date(day, "EEEE d MMMM", locale="nl")


def _half_up(share: float) -> int:
    return int(share * 100 + .5)
