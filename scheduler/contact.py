"""Phone numbers and email addresses, checked and normalised before they are stored."""
from __future__ import annotations

import re

import phonenumbers

from core.problems import InvalidInput

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_phone(raw: str, field: str, region: str = "NL") -> str:
    """E.164, or InvalidInput naming the field. Dutch numbers may be written nationally (06…)."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(field, "is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(field, "is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str, field: str) -> str:
    value = raw.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidInput(field, "is not an email address")
    return value
