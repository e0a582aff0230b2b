"""Rate limits of the public pages: how often one address may post a form, one number ask for a callback,
and how many confirmation texts a public page may cause, per number and per address.

The engine, storage and keys are those of the sign-in limits (core.rate_limits): moving windows in Redis
when REDIS_URL is set, in memory on the embedded defaults; an address counts by its IPv4 address or IPv6
/64; a phone number only ever as a keyed hash, so neither Redis nor the log holds one in clear.

Why not Flask-Limiter's decorators: a per-number limit needs the number as the form parsed it, and the
text limits are not about requests at all but about what a request may cause (the SMS-pumping guard:
the request is taken, the text is not sent). So views call `hit` where the decision is made:

    limits = public_limits()
    if not limits.hit("form_address", request.remote_addr):
        return too_many()

Limits come from Settings (PUBLIC_FORM_LIMIT_ADDRESS, CALLBACK_LIMIT_NUMBER, CONFIRMATION_TEXT_LIMIT_*,
LINK_FAILURE_LIMIT_ADDRESS: participant pages asked for with a link that does not work).
"""
from __future__ import annotations

import logging
import math
import time
from typing import Literal

from flask import current_app, render_template, request
from limits import RateLimitItem, parse
from werkzeug.wrappers import Response

from core.config import Settings
from core.rate_limits import address_key, keyed_hash, moving_window

log = logging.getLogger("pendel.public_limits")

Scope = Literal["form_address", "callback_number", "text_number", "text_address", "link_address"]
SCOPES: tuple[Scope, ...] = ("form_address", "callback_number", "text_number", "text_address", "link_address")
_EXTENSION = "pendel_public_limits"


class PublicLimits:
    """One app's counters for its public pages (see the module's docstring)."""

    def __init__(self, settings: Settings) -> None:
        self._secret = settings.secret_key.encode()
        self._strategy = moving_window(settings.redis_url)
        self.items: dict[Scope, RateLimitItem] = {
            "form_address": parse(settings.public_form_limit_address),
            "callback_number": parse(settings.callback_limit_number),
            "text_number": parse(settings.confirmation_text_limit_number),
            "text_address": parse(settings.confirmation_text_limit_address),
            "link_address": parse(settings.link_failure_limit_address),  # participants.link_access
        }

    def key(self, scope: Scope, value: str | None) -> str:
        """What a bucket is named by: an address reduced to its client, a number as a keyed hash.

        Also what a log line may name (never the number itself)."""
        if scope.endswith("_address"):
            return address_key(value)
        return "n" + keyed_hash(self._secret, value or "")

    def _bucket(self, scope: Scope, value: str | None) -> tuple[RateLimitItem, str, str, str]:
        return self.items[scope], "pendel-public", scope, self.key(scope, value)

    def hit(self, scope: Scope, value: str | None) -> bool:
        """Count one for `value` (an address as the request gave it, or a number in E.164): True while
        within the limit; False, counting nothing, once it is reached."""
        item, *key = self._bucket(scope, value)
        allowed = self._strategy.hit(item, *key)
        if not allowed:
            log.info("public limit reached: %s %s", scope, key[-1])
        return allowed

    def hit_all(self, *buckets: tuple[Scope, str | None]) -> bool:
        """Count one in every bucket, or in none when any is full (a text refused for its address does not
        use up its number's allowance). Two requests at the same instant may both pass the test: a limit
        may be exceeded by the number of concurrent requests, never more."""
        full = [(scope, self.key(scope, value)) for scope, value in buckets
                if not self._strategy.test(*self._bucket(scope, value))]
        if full:
            log.info("public limit reached: %s", ", ".join(f"{scope} {key}" for scope, key in full))
            return False
        return all([self._strategy.hit(*self._bucket(scope, value)) for scope, value in buckets])

    def wait_seconds(self, scope: Scope, value: str | None, now: float | None = None) -> int:
        """0 when `value` may do `scope` now; else the whole seconds until the oldest hit ages out."""
        bucket = self._bucket(scope, value)
        if self._strategy.test(*bucket):
            return 0
        reset = self._strategy.get_window_stats(*bucket).reset_time
        return max(1, math.ceil(reset - (time.time() if now is None else now)))

    def clear(self, scope: Scope, value: str | None) -> None:
        self._strategy.clear(*self._bucket(scope, value))


def public_limits() -> PublicLimits:
    """The current app's counters, made on first use from its settings (one per app: with counting in
    memory, two would each allow the limit)."""
    extensions = current_app.extensions
    limits = extensions.get(_EXTENSION)
    if limits is None:
        limits = extensions.setdefault(_EXTENSION, PublicLimits(extensions["pendel"].settings))
    return limits


def too_many(wait_seconds: int | None = None) -> tuple[str, int, dict[str, str]]:
    """The kind 429 page of a public page: nothing was kept, try again later or call the office."""
    headers = {"Retry-After": str(wait_seconds)} if wait_seconds else {}
    hours = math.ceil(wait_seconds / 3600) if wait_seconds else None
    return render_template("core/public_too_many.html", hours=hours), 429, headers


def form_post_allowed() -> Response | tuple[str, int, dict[str, str]] | None:
    """For a public form's POST: None while its address is within PUBLIC_FORM_LIMIT_ADDRESS (the post is
    counted), else the 429 page to answer with."""
    limits = public_limits()
    if limits.hit("form_address", request.remote_addr):
        return None
    return too_many(limits.wait_seconds("form_address", request.remote_addr))
