"""May a request from a web page cause a confirmation text? The guard against SMS pumping.

On the phone line a text only ever goes to the number that called: the caller proved they hold it. On a
web page anyone can type any number, and a text costs money per message and far more to some
destinations (premium numbers, foreign networks that share the revenue of texts sent to them: "SMS
pumping"). So a page may cause a text only

- to a Dutch mobile number of a person (06: no landline, no 097 machine number, no 0900/0909 premium
  or 084/087 internet number, nothing foreign),
- that has not asked us to stop texting it (STOP: notifications' opt-outs, handed in as `may_text`),
- within CONFIRMATION_TEXT_LIMIT_NUMBER for that number and CONFIRMATION_TEXT_LIMIT_ADDRESS for the
  address that asked (core.public_limits: a refused text counts in neither).

Every refusal is logged with its reason and the number's keyed hash, never the number.
"""
from __future__ import annotations

import logging
from typing import Callable, Literal

import phonenumbers
from phonenumbers import PhoneNumberType
from sqlalchemy.orm import Session

from core.public_limits import PublicLimits, Scope

log = logging.getLogger("pendel.sms_guard")

Refusal = Literal["not_dutch_mobile", "opted_out", "limit"]
MayText = Callable[[Session, str], bool]


def is_dutch_mobile(number: str) -> bool:
    """A Dutch mobile number of a person, 06 and eight digits (E.164 in, as telephony.numbers gives)."""
    try:
        parsed = phonenumbers.parse(number, "NL")
    except phonenumbers.NumberParseException:
        return False
    return (phonenumbers.region_code_for_number(parsed) == "NL"
            and phonenumbers.number_type(parsed) == PhoneNumberType.MOBILE
            and str(parsed.national_number).startswith("6") and len(str(parsed.national_number)) == 9)


def confirmation_refused(session: Session, number: str, address: str | None, limits: PublicLimits,
                         may_text: MayText) -> Refusal | None:
    """None when a confirmation text may go to `number` (and it is counted); else why not (logged).

    `address` is the client's that asked (None when no web client did: only the number's limit holds)."""
    refusal: Refusal | None = None
    if not is_dutch_mobile(number):
        refusal = "not_dutch_mobile"
    elif not may_text(session, number):
        refusal = "opted_out"
    else:
        buckets: list[tuple[Scope, str | None]] = [("text_number", number)]
        if address is not None:
            buckets.append(("text_address", address))
        if not limits.hit_all(*buckets):
            refusal = "limit"
    if refusal is not None:
        log.info("confirmation text refused (%s) for number %s", refusal, limits.key("text_number", number))
    return refusal
