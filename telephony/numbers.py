"""Phone numbers as the phone line meets them: the caller's own, or one keyed in.

Twilio has no single value for a withheld number, so several count as
"withheld". A keyed-in number is read in the Dutch way (region NL: 06...,
010..., 0031..., +32 via 0032...) and must be a real, callable number;
premium-rate and shared-cost numbers are refused, since staff would call
them from the office line.
"""
from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

WITHHELD = frozenset({"", "anonymous", "restricted", "unavailable", "unknown", "private",
                      "+266696687", "+7378742833", "+86282452253"})
REGION = "NL"
MAX_KEYED_DIGITS = 20
_UNCALLABLE_TYPES = frozenset({PhoneNumberType.UNKNOWN, PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST})


def _valid_e164(raw: str) -> str | None:
    try:
        parsed = phonenumbers.parse(raw, REGION)
    except phonenumbers.NumberParseException:
        return None
    # number_type is UNKNOWN exactly when is_valid_number is False: one pass over the metadata, not two.
    if phonenumbers.number_type(parsed) in _UNCALLABLE_TYPES:
        return None
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def caller_number(raw_from: str | None) -> str | None:
    """The calling number in E.164, or None when it is withheld or not a phone number (a SIP client)."""
    value = (raw_from or "").strip()
    if value.lower() in WITHHELD or not value.startswith("+"):
        return None
    return _valid_e164(value)


def keyed_number(digits: str | None) -> str | None:
    """A number the caller keyed in, in E.164, or None when it cannot be a number we may call."""
    value = (digits or "").strip().rstrip("#")
    if not value or not value.isdigit() or len(value) > MAX_KEYED_DIGITS:
        return None
    return _valid_e164(value)


_TYPED_EXTRAS = str.maketrans("", "", " -.()/\u00a0")
MAX_TYPED_CHARS = 30


def typed_number(text: str | None) -> str | None:
    """A number typed on a web page (06-12 34 56 78, +31 (0)6..., 0032...), in E.164, or None when it cannot
    be a number we may call: read as `keyed_number` reads one, after dropping spaces, dashes, dots and
    brackets; a leading + is allowed."""
    value = (text or "").strip()
    if not value or len(value) > MAX_TYPED_CHARS:
        return None
    value = value.translate(_TYPED_EXTRAS)
    if value.startswith("+"):
        return _valid_e164(value) if value[1:].isdigit() and len(value) <= MAX_KEYED_DIGITS + 1 else None
    return keyed_number(value)


def last_four(number: str) -> list[str]:
    """The digits read back to the caller: enough to recognise, not enough to reveal."""
    return list(number[-4:])


def office_caller_id(twilio_number: str | None, office_phone: str | None) -> str | None:
    """The number every call we place shows: the Twilio number, else the office number in E.164.

    Staff phones see it when the line rings them, and callers see it when we
    call back, so nobody's own number is ever shown and a caller can ring back.
    """
    for raw in (twilio_number, office_phone):
        if raw:
            try:
                parsed = phonenumbers.parse(raw, REGION)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(parsed):
                return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    return None


def as_sent(raw_from: str | None) -> str | None:
    """The calling number as Twilio sends it (E.164, unparsed), or None when it is not one.

    For a number `caller_number` accepts this is the same string; an answer
    applied as asked claims it and its UPDATE checks it against the number
    stored for the call (telephony.ivr_store.save_if_asked), so no parsing
    is needed after a call's first webhook.
    """
    value = (raw_from or "").strip()
    if value in WITHHELD or len(value) < 2 or value[0] != "+" or not value[1:].isdecimal():
        return None
    return value
