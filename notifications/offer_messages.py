"""The message that tells a participant times were held for them to choose from (scheduler.offers).

Pure, like `planning`: plain facts in, messages out; the subscriber (notifications.page_events) loads the
facts, issues the link and writes what comes back. The message goes at once, on every channel the
participant allows, and carries their personal link to the offer and the moment it ends, in the office's
time zone. It is about the offer, not about an appointment: its key names the offer (`offer_key`), and the
send job reads the offer's status back from it (`offer_of`), so a message about an offer that was chosen,
withdrawn or has lapsed in the meantime does not go (notifications.sendcheck); its deadline is the offer's
end, so a late one does not go either.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from notifications.outbox import NewMessage
from notifications.planning import Office, Recipient, channels
from notifications.rendering import render
from notifications.sms import segments

KIND = "slots_offered"
_PREFIX = "offer:"


@dataclass(frozen=True)
class OfferFacts(Recipient):
    offer_id: int
    kind: str                # the offered appointments' kind: named only with the full-text opt-in
    expires_at: datetime     # UTC-aware: when the held times are released
    link: str | None = None  # their personal link to the offer (scheduler.links): the writer issues it


def offer_key(offer_id: int, channel: str, participant_id: int) -> str:
    """One message per offer and channel: a repeated event writes nothing new."""
    return f"{_PREFIX}{offer_id}:{KIND}:{channel}:p{participant_id}"


def offer_of(kind: str, key: str) -> int | None:
    """The offer an outbox row is about, read from its key; None for any other message."""
    if kind != KIND or not key.startswith(_PREFIX):
        return None
    number = key[len(_PREFIX):].split(":", 1)[0]
    return int(number) if number.isdigit() else None


def offer_messages(facts: OfferFacts, office: Office) -> list[NewMessage]:
    """The participant's message about their offer, on each channel they allow."""
    if facts.link is None:
        raise ValueError("the message about an offer is its link: issue one first")
    context = dict(kind=facts.kind, full=facts.full_text, expires=facts.expires_at.astimezone(office.tz),
                   link=facts.link, office_phone=office.phone, name=facts.name)
    out = []
    for channel, to in channels(facts):
        rendered = render(channel, KIND, facts.language, context)
        out.append(NewMessage(
            key=offer_key(facts.offer_id, channel, facts.participant_id), kind=KIND, channel=channel,
            recipient_kind="participant", to=to, language=facts.language, body=rendered.text,
            subject=rendered.subject, html_body=rendered.html, participant_id=facts.participant_id,
            deadline=facts.expires_at, segments=segments(rendered.text) if channel == "sms" else None))
    return out
