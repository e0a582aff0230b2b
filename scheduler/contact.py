"""Phone numbers and email addresses, checked and normalised before they are stored."""
from __future__ import annotations

import re

import phonenumbers
from phonenumbers import PhoneNumberType

from core.inputs import CONTROLS, described
from core.problems import InvalidInput

_ADDRESS_CHARACTER = rf"[^@\s{CONTROLS}]"
# Surrounding spaces are allowed (and dropped); no other white space, no control character anywhere.
EMAIL_PATTERN = described(rf"^ *{_ADDRESS_CHARACTER}+@{_ADDRESS_CHARACTER}+\.{_ADDRESS_CHARACTER}+ *$",
                          "is not an email address")
_EMAIL = re.compile(EMAIL_PATTERN)
# What phonenumbers can tell apart: texts reach mobiles (and, where a number may be either, we let it be).
_TEXTABLE = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def normalize_phone(raw: str, field: str, region: str = "NL") -> str:
    """E.164, or InvalidInput naming the field. Dutch numbers may be written nationally (06…)."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(field, "is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(field, "is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def can_receive_texts(e164: str) -> bool:
    """Whether a stored (E.164) number can receive an SMS: not a landline, free or premium number."""
    try:
        return phonenumbers.number_type(phonenumbers.parse(e164)) in _TEXTABLE
    except phonenumbers.NumberParseException:
        return False


def normalize_email(raw: str, field: str) -> str:
    value = raw.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidInput(field, "is not an email address")
    return value
