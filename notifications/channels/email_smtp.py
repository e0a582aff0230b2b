"""Email through SMTP: a plain-text part, an HTML alternative, and the invitation.

The invitation follows the iMIP shape that Google Calendar itself sends and
that Outlook, Gmail and Apple Mail all recognise (RFC 6047):

    multipart/mixed
      multipart/alternative
        text/plain
        text/html                                  (when given)
        text/calendar; method=REQUEST; charset=UTF-8   (inline: the RSVP card)
      text/calendar; method=REQUEST; charset=UTF-8; name=invite.ics  (attachment)

Outlook reads the inline part, some clients look only at attachments, so the
invitation is in both. The method parameter is copied from the METHOD line of
the ics; an ics without METHOD is not an iMIP message and goes only as the
attachment. Calendar parts are base64 so the CRLF line ends and folding of
the ics arrive byte for byte.

Failures are sorted by what waiting can change. 4xx replies, dropped
connections and timeouts: retry. 5xx replies to MAIL, RCPT or DATA (550 no
such user, 553 bad address, 552 too big): this message will never go. Trouble
before any message is offered — STARTTLS missing or failing, login refused —
is the server's or our configuration, not the message's: retry (the attempt
cap still ends it dead and visible), and never fall back to sending in clear.
Server replies often quote the address, so errors carry only the reply code.
"""
from __future__ import annotations

import re
import secrets
import smtplib
import socket
import ssl
from datetime import datetime, timezone
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from notifications.channels.base import Accepted, Envelope, PermanentSendError, SendError, TransientSendError

DEFAULT_TIMEOUT_SECONDS = 30.0


class _HeaderClasses(HeaderRegistry):
    """The email package's header registry, making each header's class once instead of per header.

    `HeaderRegistry.__getitem__` builds a new class with `type()` for every header it sets or
    reads, some thirty for one of our invitations: about a fifth of the time it takes to build
    the message, and more in a freshly forked work horse. The classes it makes hold no state,
    so one per header name serves every message.
    """

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls


# 7bit: text parts with non-ASCII get quoted-printable or base64, so the mail
# passes servers that do not announce 8BITMIME. SMTP policy: CRLF on the wire.
MAIL_POLICY = policy.SMTP.clone(cte_type="7bit", header_factory=_HeaderClasses())
_METHOD = re.compile(r"^METHOD:([A-Za-z-]+)\s*$", re.MULTILINE)
_ENHANCED = re.compile(rb"^([245]\.\d{1,3}\.\d{1,3})\b")
_WARM_UP = Envelope(  # the shape of a real message (text, HTML, invitation), no one's data
    message_id=0, channel="email", to="warm-up@example.org", body="Warm-up.", subject="Warm-up",
    html_body="<p>Warm-up.</p>",
    attachment_ics="BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n")


def ics_method(ics: str) -> str | None:
    """The iTIP method of a VCALENDAR (REQUEST, CANCEL, PUBLISH...), upper case, or None."""
    match = _METHOD.search(ics)
    return match.group(1).upper() if match else None


def message_id(domain: str) -> str:
    """A Message-ID short enough for the outbox's provider_id column (64 characters).

    `email.utils.make_msgid` spends ~38 characters before the domain (time, pid,
    a 64-bit number); 96 random bits say as much in 24, so even a long office
    domain fits.
    """
    return f"<{secrets.token_hex(12)}@{domain}>"


def build_message(envelope: Envelope, mail_from: str) -> EmailMessage:
    """The MIME message for an envelope; its Message-ID is the provider id."""
    _, from_address = parseaddr(mail_from)
    domain = from_address.rpartition("@")[2] or "localhost"
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["From"] = mail_from
    msg["To"] = envelope.to
    msg["Subject"] = envelope.subject or ""
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = message_id(domain)
    msg.set_content(envelope.body, subtype="plain", charset="utf-8")
    if envelope.html_body:
        msg.add_alternative(envelope.html_body, subtype="html", charset="utf-8")
    if envelope.attachment_ics:
        data = envelope.attachment_ics.encode("utf-8")
        method = ics_method(envelope.attachment_ics)
        params = {"charset": "UTF-8"} | ({"method": method} if method else {})
        if method:
            msg.add_alternative(data, maintype="text", subtype="calendar", cte="base64", params=params)
        msg.add_attachment(data, maintype="text", subtype="calendar", cte="base64",
                           filename="invite.ics", params=params | {"name": "invite.ics"})
    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]  # the email package repeats it on every part; only the top needs it
    return msg


def _reply_code(code: int, reply: bytes | str | None, stage: str) -> SendError:
    """Transient for 4xx, permanent for 5xx; the text names only codes and the stage."""
    raw = reply.encode("utf-8", "replace") if isinstance(reply, str) else (reply or b"")
    enhanced = _ENHANCED.match(raw.strip())
    what = f"SMTP {code}" + (f" {enhanced.group(1).decode()}" if enhanced else "") + f" at {stage}"
    if 500 <= code < 600:
        return PermanentSendError(what, code=str(code))
    return TransientSendError(what, code=str(code))


class SmtpEmailChannel:
    """Sends an `Envelope` as one email over SMTP; returns its Message-ID.

    Port 465 means implicit TLS (SMTPS); elsewhere `starttls` decides.
    """

    name = "email"

    def __init__(self, host: str, port: int = 587, username: str | None = None, password: str | None = None,
                 starttls: bool = True, mail_from: str = "noreply@example.org",
                 timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.starttls = starttls
        self.mail_from = mail_from
        self.timeout = timeout
        self._ehlo_name: str | None = None
        self._tls: ssl.SSLContext | None = None

    def _local_hostname(self) -> str:
        # smtplib asks socket.getfqdn() on every connection, a DNS lookup; once is enough.
        if self._ehlo_name is None:
            self._ehlo_name = socket.getfqdn() or "localhost"
        return self._ehlo_name

    def _tls_context(self) -> ssl.SSLContext:
        # Loading the system CA store costs ~50 ms: once per channel, and only when TLS is used.
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    def prepare(self) -> None:
        """Resolve the EHLO name and load the TLS context now, not at the first message.

        A forking worker calls this before it forks: otherwise every work horse
        would do both again for its one message and throw them away.
        """
        self._local_hostname()
        if self.port == 465 or self.starttls:
            self._tls_context()
        # One message built and written, sent nowhere: the `email` package compiles its generator's
        # patterns and sets up its header and content machinery on first use, per process.
        try:
            build_message(_WARM_UP, self.mail_from).as_bytes()
        except (ValueError, TypeError):  # a From the email package refuses: each send will say so
            pass

    def _connect(self) -> smtplib.SMTP:
        if self.port == 465:
            return smtplib.SMTP_SSL(self.host, self.port, local_hostname=self._local_hostname(),
                                    timeout=self.timeout, context=self._tls_context())
        smtp = smtplib.SMTP(self.host, self.port, local_hostname=self._local_hostname(), timeout=self.timeout)
        if not self.starttls:
            return smtp
        try:
            code, _ = smtp.starttls(context=self._tls_context())
        except smtplib.SMTPNotSupportedError:
            smtp.close()
            raise TransientSendError("SMTP server offers no STARTTLS", code="starttls") from None
        except BaseException:
            smtp.close()
            raise
        if code != 220:
            smtp.close()
            raise TransientSendError(f"SMTP {code} at STARTTLS", code=str(code))
        return smtp

    def send(self, envelope: Envelope) -> Accepted:
        try:
            msg = build_message(envelope, self.mail_from)
        except (ValueError, TypeError) as exc:  # e.g. a header the email package refuses
            raise PermanentSendError(f"email could not be built ({type(exc).__name__})", code="build") from None
        envelope_from = parseaddr(self.mail_from)[1] or self.mail_from
        # An address with non-ASCII characters needs SMTPUTF8 (RFC 6531) and a UTF-8 header.
        international = not (envelope.to.isascii() and envelope_from.isascii())
        try:
            raw = msg.as_bytes(policy=MAIL_POLICY.clone(utf8=True)) if international else msg.as_bytes()
        except (ValueError, TypeError) as exc:
            raise PermanentSendError(f"email could not be built ({type(exc).__name__})", code="build") from None
        options = ("SMTPUTF8",) if international else ()
        try:
            smtp = self._connect()
            try:
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.sendmail(envelope_from, [envelope.to], raw, mail_options=options)
            finally:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
        except SendError:
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (451, b""))
            raise _reply_code(code, reply, "RCPT") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise TransientSendError(f"SMTP {exc.smtp_code} at AUTH", code=str(exc.smtp_code)) from None
        except smtplib.SMTPNotSupportedError as exc:
            if "SMTPUTF8" in str(exc):  # this address can never go through this server
                raise PermanentSendError("SMTP server lacks SMTPUTF8 for this address", code="smtputf8") from None
            raise TransientSendError("SMTP server lacks a needed extension (AUTH)", code="unsupported") from None
        except smtplib.SMTPSenderRefused as exc:
            if exc.smtp_code == 530:  # "authentication required": our configuration, not this message
                raise TransientSendError("SMTP 530 at MAIL", code="530") from None
            raise _reply_code(exc.smtp_code, exc.smtp_error, "MAIL") from None
        except smtplib.SMTPDataError as exc:
            raise _reply_code(exc.smtp_code, exc.smtp_error, "DATA") from None
        except (smtplib.SMTPConnectError, smtplib.SMTPHeloError) as exc:
            # Refused at greeting or EHLO: the server's state, not this message.
            raise TransientSendError(f"SMTP {exc.smtp_code} at connect", code=str(exc.smtp_code)) from None
        except smtplib.SMTPResponseException as exc:
            raise _reply_code(exc.smtp_code, exc.smtp_error, "SMTP") from None
        except smtplib.SMTPServerDisconnected as exc:
            if isinstance(exc.__context__, TimeoutError):  # smtplib reports a read timeout this way
                raise TransientSendError("SMTP server did not answer in time", code="timeout") from None
            raise TransientSendError("SMTP server closed the connection", code="disconnected") from None
        except (socket.timeout, TimeoutError):
            raise TransientSendError("SMTP server did not answer in time", code="timeout") from None
        except ssl.SSLError as exc:
            raise TransientSendError(f"SMTP TLS failed ({type(exc).__name__})", code="tls") from None
        except OSError as exc:
            raise TransientSendError(f"SMTP server could not be reached ({type(exc).__name__})",
                                     code="connection") from None
        except UnicodeError:
            raise PermanentSendError("address cannot be encoded for SMTP", code="encoding") from None
        except smtplib.SMTPException as exc:
            raise TransientSendError(f"SMTP failed ({type(exc).__name__})", code="smtp") from None
        return Accepted(str(msg["Message-ID"]))
