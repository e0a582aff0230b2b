"""The delivery channels against real local servers: the `twilio` client against the
Twilio stand-in, `smtplib` against aiosmtpd. No mocks: what is asserted is what
went over the wire, and how each provider failure is sorted (retry or dead).
"""
from __future__ import annotations

import logging
import re
import socket
from dataclasses import replace

import pytest

from core.config import ConfigError, Settings
from core.twilio_client import BaseUrlHttpClient, make_twilio_client
from notifications.channels.base import Envelope, PermanentSendError, TransientSendError
from notifications.channels.console import ConsoleChannel
from notifications.channels.email_smtp import SmtpEmailChannel
from notifications.channels.registry import build_channels
from notifications.channels.sms_twilio import TwilioSmsChannel
from tests.support.fixtures import smtp_server, twilio_standin  # noqa: F401
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_standin import TwilioStandin

NUMBER = "+31612345678"
BODY = "Uw afspraak is op dinsdag 3 maart om 10:00. Groet, het bureau"
CALLBACK = "https://pendel.test/telephony/sms/status"
ADDRESS = "j.jansen@example.nl"
MAIL_FROM = "Het bureau <afspraken@bureau.example>"
ICS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Pendel//NL\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
       "UID:appt-7@pendel\r\nDTSTAMP:20260301T090000Z\r\nDTSTART:20260303T090000Z\r\n"
       "DTEND:20260303T100000Z\r\nSUMMARY:Afspraak met Zoë\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def sms(to: str = NUMBER, body: str = BODY, callback: str | None = CALLBACK) -> Envelope:
    return Envelope(message_id=7, channel="sms", to=to, body=body, status_callback_url=callback)


def mail(to: str = ADDRESS, html: str | None = None, ics: str | None = None) -> Envelope:
    return Envelope(message_id=8, channel="email", to=to, body="Beste J. Jansen,\n\nTot dan.\n",
                    subject="Uw afspraak", html_body=html, attachment_ics=ics)


def sms_channel(standin: TwilioStandin, sender: str | None = None, timeout: float = 10.0) -> TwilioSmsChannel:
    client = make_twilio_client(Settings(**standin.settings_changes()), timeout=timeout)
    return TwilioSmsChannel(client, sender or standin.phone_number, "https://pendel.test")


def email_channel(server: SmtpServer, **changes: object) -> SmtpEmailChannel:
    options: dict = {"host": server.host, "port": server.port, "starttls": False, "mail_from": MAIL_FROM}
    return SmtpEmailChannel(**(options | changes))  # type: ignore[arg-type]


def assert_discreet(error: Exception, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in str(error) and secret not in repr(error)
    assert error.__suppress_context__ or error.__context__ is None  # no chained provider text


# -- Twilio -----------------------------------------------------------------------------------

def test_sms_sends_exactly_this_request_and_returns_the_sid(twilio_standin: TwilioStandin) -> None:
    accepted = sms_channel(twilio_standin).send(sms())
    sid = accepted.provider_id
    [request] = twilio_standin.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{twilio_standin.account_sid}/Messages.json"
    assert request.auth == (twilio_standin.account_sid, twilio_standin.auth_token)
    assert request.form == {"To": NUMBER, "From": twilio_standin.phone_number, "Body": BODY,
                            "StatusCallback": CALLBACK}
    assert re.fullmatch(r"SM[0-9a-f]{32}", sid) and request.sid == sid and request.status == 201
    assert accepted.provider_status == "queued"  # Twilio's word on accepting it, shown before any callback


@pytest.mark.parametrize("sender, field", [("Bureau", "From"), ("MG" + "a" * 32, "MessagingServiceSid")])
def test_sms_sender_name_or_messaging_service(twilio_standin: TwilioStandin, sender: str, field: str) -> None:
    accepted = sms_channel(twilio_standin, sender=sender).send(sms())
    form = twilio_standin.requests[0].form
    other = ({"From", "MessagingServiceSid"} - {field}).pop()
    assert form[field] == sender and other not in form
    assert accepted.provider_status == ("accepted" if field == "MessagingServiceSid" else "queued")


def test_sms_reaches_the_standin_with_twilio_edge_and_region_set(
        twilio_standin: TwilioStandin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    assert sms_channel(twilio_standin).send(sms()).provider_id.startswith("SM")


def test_base_url_swaps_scheme_and_host_only() -> None:
    client = BaseUrlHttpClient("http://127.0.0.1:9/prefix/")
    assert client.rewrite("https://api.dublin.ie1.twilio.com/2010-04-01/X.json?a=1&b=2") == \
        "http://127.0.0.1:9/prefix/2010-04-01/X.json?a=1&b=2"
    assert client.rewrite("https://example.org/x") == "https://example.org/x"
    assert BaseUrlHttpClient(None).rewrite("https://api.twilio.com/x") == "https://api.twilio.com/x"
    assert client.timeout == 10.0


@pytest.mark.parametrize("status, code", [(503, None), (500, None), (429, 20429), (400, 21611)])
def test_sms_overload_and_server_errors_are_transient(twilio_standin: TwilioStandin, status: int,
                                                      code: int | None) -> None:
    """21611: the sending number's queue is full, a 4xx that means "later"."""
    twilio_standin.fail_next(1, status=status, code=code)
    channel = sms_channel(twilio_standin)
    with pytest.raises(TransientSendError) as caught:
        channel.send(sms())
    assert caught.value.code == str(code or status)
    assert_discreet(caught.value, NUMBER, BODY)
    assert channel.send(sms()).provider_id.startswith("SM")  # the retry goes through
    assert len(twilio_standin.messages) == 1
    assert caught.value.retry_after is None  # Twilio said nothing about when


@pytest.mark.parametrize("header, seconds", [("120", 120.0), ("Wed, 21 Oct 2065 07:28:00 GMT", None)])
def test_sms_429_carries_twilios_retry_after(twilio_standin: TwilioStandin, header: str,
                                             seconds: float | None) -> None:
    twilio_standin.fail_next(1, status=429, retry_after=header)
    channel = sms_channel(twilio_standin)
    with pytest.raises(TransientSendError) as caught:
        channel.send(sms())
    assert caught.value.code == "20429"
    if seconds is not None:
        assert caught.value.retry_after == seconds
    else:  # an HTTP date: the time until then
        assert caught.value.retry_after is not None and caught.value.retry_after > 30 * 365 * 86400
    channel.send(sms())  # the next answer (201) leaves no Retry-After behind for a later failure
    twilio_standin.fail_next(1, status=503)
    with pytest.raises(TransientSendError) as again:
        channel.send(sms())
    assert again.value.retry_after is None


@pytest.mark.parametrize("to, script, code", [
    ("0612345678", None, "21211"),                 # the stand-in rejects a non-E.164 number itself
    ("+31612340000", ("0000", 21610), "21610"),    # unsubscribed (STOP at Twilio)
    (NUMBER, (NUMBER, 21408), "21408"),
    (NUMBER, (NUMBER, 21614), "21614"),
])
def test_sms_invalid_or_unsubscribed_is_permanent_with_the_code(
        twilio_standin: TwilioStandin, to: str, script: tuple[str, int] | None, code: str) -> None:
    if script:
        twilio_standin.fail_number(script[0], code=script[1])
    with pytest.raises(PermanentSendError) as caught:
        sms_channel(twilio_standin).send(sms(to=to))
    assert caught.value.code == code
    assert_discreet(caught.value, to, BODY)
    assert twilio_standin.messages == []


def test_sms_rejected_credentials_are_transient(twilio_standin: TwilioStandin) -> None:
    """A wrong or rotated token is the office's to fix: retry, do not kill every message at once."""
    client = make_twilio_client(Settings(**(twilio_standin.settings_changes() | {"twilio_auth_token": "old"})))
    with pytest.raises(TransientSendError) as caught:
        TwilioSmsChannel(client, twilio_standin.phone_number).send(sms())
    assert caught.value.code == "20003"


def test_sms_connection_refused_is_transient(twilio_standin: TwilioStandin) -> None:
    channel = sms_channel(twilio_standin)
    channel.send(sms())                    # leaves a kept-alive connection in the pool
    twilio_standin.stop()
    with pytest.raises(TransientSendError) as caught:
        channel.send(sms())
    assert caught.value.code == "connection"
    assert_discreet(caught.value, NUMBER, BODY)
    twilio_standin.start()                 # same port: the same client reaches it again
    assert channel.send(sms()).provider_id.startswith("SM")


def test_sms_timeout_is_transient_and_twilio_may_still_have_taken_it(twilio_standin: TwilioStandin) -> None:
    twilio_standin.delay(1.0)
    with pytest.raises(TransientSendError) as caught:
        sms_channel(twilio_standin, timeout=0.2).send(sms())
    assert caught.value.code == "timeout"
    twilio_standin.wait_for(1, timeout=5)  # accepted after all: the one allowed kind of duplicate


def test_sms_answer_lost_after_acceptance_is_transient(twilio_standin: TwilioStandin) -> None:
    twilio_standin.drop_next(1)
    with pytest.raises(TransientSendError):
        sms_channel(twilio_standin).send(sms())
    assert len(twilio_standin.messages) == 1


def test_sms_logs_no_number_or_text(twilio_standin: TwilioStandin, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    twilio_standin.fail_next(1, status=400, code=21610)
    with pytest.raises(PermanentSendError):
        sms_channel(twilio_standin).send(sms())
    sms_channel(twilio_standin).send(sms())
    assert caplog.records
    assert not [r for r in caplog.records if NUMBER in r.getMessage() or "afspraak" in r.getMessage()]


# -- SMTP -------------------------------------------------------------------------------------

def test_email_plain_html_and_invitation_parse_back(smtp_server: SmtpServer) -> None:
    message_id = email_channel(smtp_server).send(mail(html="<p>Beste J. Jansen,</p>", ics=ICS)).provider_id
    [received] = smtp_server.messages
    msg = received.message
    assert received.mail_from == "afspraken@bureau.example" and received.rcpt_tos == (ADDRESS,)
    assert msg["From"] == MAIL_FROM and msg["To"] == ADDRESS and msg["Subject"] == "Uw afspraak"
    assert msg["Message-ID"] == message_id and message_id.endswith("@bureau.example>") and msg["Date"]
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.iter_parts()
    plain, html, inline = alternative.iter_parts()
    assert [p.get_content_type() for p in (alternative, plain, html, inline)] == \
        ["multipart/alternative", "text/plain", "text/html", "text/calendar"]
    assert plain.get_content() == "Beste J. Jansen,\n\nTot dan.\n"
    assert html.get_content().strip() == "<p>Beste J. Jansen,</p>"
    for part in (inline, attachment):
        assert part.get_content_type() == "text/calendar"
        assert part.get_param("method") == "REQUEST" and part.get_param("charset") == "UTF-8"
        assert part.get_payload(decode=True) == ICS.encode("utf-8")  # byte for byte, CRLF and ë
    assert attachment.get_filename() == "invite.ics" and attachment.get_content_disposition() == "attachment"
    assert inline.get_content_disposition() is None


def test_email_prepared_before_the_fork_sends_nothing_and_later_mail_is_whole(smtp_server: SmtpServer) -> None:
    channel = email_channel(smtp_server)
    channel.prepare()  # what a forking worker does before its first work horse
    assert smtp_server.messages == [] and smtp_server.rejections == []
    channel.send(mail(html="<p>Beste J. Jansen,</p>", ics=ICS))
    [received] = smtp_server.messages
    alternative, attachment = received.message.iter_parts()
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html", "text/calendar"]
    assert attachment.get_payload(decode=True) == ICS.encode("utf-8")
    assert "Warm-up" not in received.message.as_string()


def test_email_plain_only_is_a_single_part(smtp_server: SmtpServer) -> None:
    email_channel(smtp_server).send(Envelope(1, "email", ADDRESS, "Tot ziens, Zoë", subject="Geannuleerd é"))
    msg = smtp_server.messages[0].message
    assert msg.get_content_type() == "text/plain" and not msg.is_multipart()
    assert msg.get_content().strip() == "Tot ziens, Zoë" and msg["Subject"] == "Geannuleerd é"


def test_email_cancel_method_and_ics_without_method(smtp_server: SmtpServer) -> None:
    channel = email_channel(smtp_server)
    channel.send(mail(ics=ICS.replace("METHOD:REQUEST", "METHOD:CANCEL")))
    channel.send(mail(ics=ICS.replace("METHOD:REQUEST\r\n", "")))
    cancel, plain_file = (m.message for m in smtp_server.messages)
    assert [p.get_param("method") for p in cancel.walk() if p.get_content_type() == "text/calendar"] == \
        ["CANCEL", "CANCEL"]
    calendars = [p for p in plain_file.walk() if p.get_content_type() == "text/calendar"]
    assert len(calendars) == 1 and calendars[0].get_filename() == "invite.ics"
    assert calendars[0].get_param("method") is None


def test_email_international_address_and_a_long_office_domain(smtp_server: SmtpServer) -> None:
    channel = email_channel(smtp_server, mail_from="Bureau <afspraken@perspectiefherstelbemiddeling.nl>")
    message_id = channel.send(mail(to="zoë@voorbeeld.nl")).provider_id
    assert len(message_id) <= 64  # fits the outbox's provider_id column
    assert smtp_server.messages[0].rcpt_tos == ("zoë@voorbeeld.nl",)
    assert smtp_server.messages[0].message["To"] == "zoë@voorbeeld.nl"


def test_email_starttls_required_but_not_offered_is_transient(smtp_server: SmtpServer) -> None:
    """Decided: a server without STARTTLS is a server or configuration problem, not this
    message's. Retry (the attempt cap still ends it dead and visible), never send in clear."""
    with pytest.raises(TransientSendError) as caught:
        email_channel(smtp_server, starttls=True).send(mail())
    assert caught.value.code == "starttls"
    assert smtp_server.messages == []


def test_email_451_is_transient_and_the_retry_goes(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next(1)
    channel = email_channel(smtp_server)
    with pytest.raises(TransientSendError) as caught:
        channel.send(mail())
    assert caught.value.code == "451" and "4.3.0" in str(caught.value)
    channel.send(mail())
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("script, code", [("rcpt", "550"), ("data", "552")])
def test_email_5xx_is_permanent(smtp_server: SmtpServer, script: str, code: str) -> None:
    if script == "rcpt":
        smtp_server.reject_recipient(ADDRESS, reply=f"550 5.1.1 <{ADDRESS}>: no such user")
    else:
        smtp_server.fail_next(1, reply="552 5.3.4 message too big")
    with pytest.raises(PermanentSendError) as caught:
        email_channel(smtp_server).send(mail())
    assert caught.value.code == code
    assert_discreet(caught.value, ADDRESS, "Jansen")


def test_email_answer_lost_after_acceptance_is_transient(smtp_server: SmtpServer) -> None:
    smtp_server.drop_next(1)
    with pytest.raises(TransientSendError):
        email_channel(smtp_server).send(mail())
    assert len(smtp_server.wait_for(1)) == 1  # taken all the same: the one allowed kind of duplicate


def test_email_unreachable_port_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransientSendError) as caught:
        SmtpEmailChannel("127.0.0.1", port, starttls=False, mail_from=MAIL_FROM, timeout=2).send(mail())
    assert caught.value.code == "connection"


def test_email_timeout_is_transient(smtp_server: SmtpServer) -> None:
    smtp_server.delay(1.0)
    with pytest.raises(TransientSendError) as caught:
        email_channel(smtp_server, timeout=0.2).send(mail())
    assert caught.value.code == "timeout"


def test_email_login_when_a_username_is_set() -> None:
    with SmtpServer(auth=("pendel", "s3cret")) as server:
        email_channel(server, username="pendel", password="s3cret").send(mail())
        assert len(server.messages) == 1
        with pytest.raises(TransientSendError) as caught:  # our credentials: fix and retry
            email_channel(server, username="pendel", password="wrong").send(mail())
        assert caught.value.code == "535"
        with pytest.raises(TransientSendError) as caught:  # no login where one is required
            email_channel(server).send(mail())
        assert caught.value.code == "530"


# -- console and the registry -----------------------------------------------------------------

def test_console_logs_only_id_channel_and_length(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert ConsoleChannel("sms").send(sms()).provider_id == "console-7"
    assert ConsoleChannel("email").send(mail(html="<b>Jansen</b>", ics=ICS)).provider_id == "console-8"
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "7" in text and f"{len(BODY)} characters" in text and "sms" in text and "email" in text
    for secret in (NUMBER, BODY, ADDRESS, "Jansen", "afspraak", "Zoë"):
        assert secret not in text


def test_registry_uses_console_without_provider_settings() -> None:
    channels = build_channels(Settings(twilio_auth_token="only-a-token"))
    assert isinstance(channels["sms"], ConsoleChannel) and isinstance(channels["email"], ConsoleChannel)


def test_registry_sends_through_twilio_and_smtp_when_configured(
        twilio_standin: TwilioStandin, smtp_server: SmtpServer) -> None:
    settings = Settings(**twilio_standin.settings_changes(), **smtp_server.settings_changes(),
                        mail_from=MAIL_FROM, public_base_url="https://pendel.test")
    channels = build_channels(settings)
    assert isinstance(channels["sms"], TwilioSmsChannel) and isinstance(channels["email"], SmtpEmailChannel)
    channels["sms"].send(sms(callback=None))
    channels["email"].send(mail())
    assert twilio_standin.messages[0].form["StatusCallback"] == CALLBACK
    assert twilio_standin.messages[0].form["From"] == twilio_standin.phone_number
    assert smtp_server.messages[0].rcpt_tos == (ADDRESS,)
    named = build_channels(replace(settings, sms_sender="Bureau"))["sms"]
    assert isinstance(named, TwilioSmsChannel) and named.sender == "Bureau"


def test_registry_refuses_twilio_without_a_sender(twilio_standin: TwilioStandin) -> None:
    settings = Settings(**(twilio_standin.settings_changes() | {"twilio_phone_number": None}))
    with pytest.raises(ConfigError, match="TWILIO_PHONE_NUMBER"):
        build_channels(settings)
