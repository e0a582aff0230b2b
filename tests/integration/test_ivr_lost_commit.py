"""A webhook whose COMMIT went through but whose reply was lost is answered again, once.

The phone line's webhooks skip the pool's ping and are done once more when
their connection turns out dead (core.db.once_more_if_disconnected). The
nastiest case is a connection that dies after the server committed: the
second run must find the work done and answer as if it were Twilio's own
retry — the same question, one callback request, one confirmation text, and
for a first webhook the safety line again. The status callback that says the
caller hung up is done once more the same way: the request is taken once.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from core.config import Settings
from notifications.models import OutboxMessage
from telephony.models import IvrCall
from tests.integration.ivr_helpers import Caller, hang_up, local, record_events, requests
from tests.support.lossy_proxy import LossyProxy


@pytest.fixture
def proxy(database: Any) -> Iterator[LossyProxy]:
    url = make_url(database.url)
    lossy = LossyProxy((url.host or "127.0.0.1", url.port or 5432))
    yield lossy
    lossy.close()


@pytest.fixture
def settings(database: Any, proxy: LossyProxy) -> Settings:
    url = make_url(database.url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    return Settings(environment="testing", database_url=url, secret_key="test-secret",
                    twilio_auth_token="test-auth-token", public_base_url="https://pendel.test",
                    office_phone="030 123 4567")


@pytest.fixture(autouse=True)
def monday_morning(app: Any) -> None:
    app.config["PENDEL_NOW"] = local(2026, 11, 30, 10, 0)


def test_an_answer_as_asked(client: Any, runtime: Any, proxy: LossyProxy) -> None:
    caller = Caller(client)
    caller.walk("2", "1")
    proxy.armed = True
    heard = caller.press("1")
    assert proxy.fired == 1
    assert heard.text.startswith("Misschien neemt iemand anders de telefoon op.")
    with runtime.db.session() as s:
        call = s.get_one(IvrCall, caller.sid)
        assert (call.step, call.turn, call.moment) == ("identify", 3, "morning")


def test_the_answer_that_confirms_the_number(client: Any, runtime: Any, proxy: LossyProxy) -> None:
    caller = Caller(client)
    caller.walk("2")
    proxy.armed = True
    heard = caller.press("1")
    assert proxy.fired == 1
    assert heard.text.startswith("Wanneer komt het u het best uit?")
    [request] = requests(runtime)
    assert (request.number, request.defaulted) == ("+31612345678", "moment,may_identify,wants_confirmation")
    with runtime.db.session() as s:
        call = s.get_one(IvrCall, caller.sid)
        assert (call.step, call.turn, call.number, call.callback_id) == ("moment", 2, "+31612345678", request.id)


def test_the_hang_up(client: Any, runtime: Any, proxy: LossyProxy) -> None:
    events = record_events(runtime)
    caller = Caller(client)
    caller.walk("2", "1", "2")
    proxy.armed = True
    hang_up(caller)
    assert proxy.fired == 1
    [request] = requests(runtime)
    assert (request.moment, request.may_identify, request.defaulted) == (
        "afternoon", False, "may_identify,wants_confirmation")
    assert len(events) == 1  # the second run found the call over already: nothing taken twice
    with runtime.db.session() as s:
        assert s.get_one(IvrCall, caller.sid).call_status == "completed"


def test_the_answer_that_takes_the_request(client: Any, runtime: Any, proxy: LossyProxy) -> None:
    caller = Caller(client)
    caller.walk("2", "1", "1", "1")
    proxy.armed = True
    heard = caller.press("1")
    assert proxy.fired == 1
    assert heard.hung_up and heard.text.startswith("Dank u wel. Wij bellen u")
    assert len(requests(runtime)) == 1
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_the_first_webhook_of_a_call(client: Any, proxy: LossyProxy) -> None:
    Caller(client).dial()  # a connection in the pool, through the proxy
    proxy.armed = True
    heard = Caller(client, "+31687654321").dial()
    assert proxy.fired == 1
    assert "112" in heard.says[0][1]
