"""The email channel's header registry makes each header class once and changes nothing on the wire."""
from __future__ import annotations

import re
from email import policy

import pytest

from notifications.channels import email_smtp
from notifications.channels.base import Envelope
from notifications.channels.email_smtp import MAIL_POLICY, build_message

ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:x@pendel.test\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
ENVELOPES = [
    Envelope(message_id=1, channel="email", to="deelnemer@example.org", subject="Uw afspraak",
             body="Tot dinsdag.\n", html_body="<p>Tot dinsdag.</p>", attachment_ics=ICS),
    Envelope(message_id=2, channel="email", to="zoë@voorbeeld.nl", subject="Afspraak – één wijziging " * 4,
             body="Met ë en ï.\n" + "lange regel " * 40, html_body=None, attachment_ics=None),
]
_VARYING = re.compile(rb"^(Date|Message-ID): .*$|={15}\d+==", re.MULTILINE)


def _wire(envelope: Envelope, utf8: bool) -> bytes:
    msg = build_message(envelope, "Bureau Hérstel <noreply@example.org>")
    raw = msg.as_bytes(policy=email_smtp.MAIL_POLICY.clone(utf8=True)) if utf8 else msg.as_bytes()
    return _VARYING.sub(b"", raw)


@pytest.mark.parametrize("utf8", [False, True])
@pytest.mark.parametrize("envelope", ENVELOPES, ids=["invitation", "non-ascii"])
def test_the_same_bytes_as_the_stock_registry(monkeypatch: pytest.MonkeyPatch, envelope: Envelope,
                                              utf8: bool) -> None:
    ours = _wire(envelope, utf8)
    monkeypatch.setattr(email_smtp, "MAIL_POLICY", policy.SMTP.clone(cte_type="7bit"))
    assert ours == _wire(envelope, utf8)


def test_one_class_per_header_name_whatever_its_case() -> None:
    registry = MAIL_POLICY.header_factory
    assert registry["Subject"] is registry["subject"] is registry["SUBJECT"]
    assert registry["To"] is not registry["Subject"]
    first = build_message(ENVELOPES[0], "noreply@example.org")
    second = build_message(ENVELOPES[1], "noreply@example.org")
    assert type(first["Subject"]) is type(second["Subject"])
    assert str(second["To"]) == "zoë@voorbeeld.nl"
