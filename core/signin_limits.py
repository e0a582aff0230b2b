"""Failed sign-ins, counted per account and per address, so passwords cannot be guessed online.

The counting is Flask-Limiter's: its `limits` engine, moving windows, on Redis
when REDIS_URL is set (every gunicorn process counts together) and in memory
on the embedded defaults. Flask-Limiter's request hooks are not installed:
they would run on every request, Twilio's webhooks included, for a limit
only the sign-in form has.

- Only failures count. While a limit is reached, no password is checked at
  all, the right one included: it waits until the oldest failure in the
  window has aged out, and the page says how long that is.
- The address limit is per IPv4 address or IPv6 /64 (one household's or
  one server's share).
- Both could be abused to keep a colleague out for good (keep failing in her
  name, or from her office's address). So a browser she signed in with before
  carries a signed "known device" cookie, and her attempts from it count in a
  bucket of their own, instead of the account's and the address's: a
  stranger's failures lock out strangers, not her.

Keys hold no e-mail address: an account is a keyed hash of it.
"""
from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer
from limits import RateLimitItem, parse

from core.config import Settings
from core.rate_limits import address_key, keyed_hash, moving_window

__all__ = ["DEVICE_COOKIE", "DEVICE_COOKIE_DAYS", "Attempt", "SignInLimits", "address_key"]

DEVICE_COOKIE = "pendel_device"
DEVICE_COOKIE_DAYS = 400  # the longest a browser keeps a cookie


@dataclass(frozen=True)
class Attempt:
    """Who is trying: the account bucket (the account, or the account on a known device) and, from an
    unknown device, the address bucket."""

    account: tuple[str, ...]
    address: tuple[str, ...] | None
    account_hash: str

    @property
    def known_device(self) -> bool:
        return self.address is None


class SignInLimits:
    def __init__(self, settings: Settings) -> None:
        self._secret = settings.secret_key.encode()
        self._devices = URLSafeSerializer(settings.secret_key, salt="pendel-known-device")
        self._strategy = moving_window(settings.redis_url)
        self.per_account: RateLimitItem = parse(settings.sign_in_limit_account)
        self.per_address: RateLimitItem = parse(settings.sign_in_limit_address)

    def _account_hash(self, email: str) -> str:
        return keyed_hash(self._secret, email)

    def attempt(self, email: str, remote_addr: str | None, device_cookie: str | None) -> Attempt:
        account = self._account_hash(email)
        device = self._device(device_cookie, account)
        if device:
            return Attempt(("pendel-sign-in", "device", device), None, account)
        return Attempt(("pendel-sign-in", "account", account), ("pendel-sign-in", "address", address_key(remote_addr)),
                       account)

    def _device(self, cookie: str | None, account: str) -> str | None:
        if not cookie:
            return None
        try:
            data = self._devices.loads(cookie)
        except BadSignature:
            return None
        if not isinstance(data, dict) or data.get("a") != account or not isinstance(data.get("d"), str):
            return None
        return data["d"]

    def device_cookie(self, attempt: Attempt) -> str:
        """For the browser that just signed in: its attempts at this account count on their own from now."""
        return self._devices.dumps({"a": attempt.account_hash, "d": secrets.token_urlsafe(16)})

    def wait_seconds(self, attempt: Attempt, now: float) -> int:
        """0 when this attempt may be checked; otherwise the whole seconds until it may."""
        waits = [self._strategy.get_window_stats(item, *key).reset_time - now
                 for item, key in self._buckets(attempt) if not self._strategy.test(item, *key)]
        return max(1, math.ceil(max(waits))) if waits else 0

    def _buckets(self, attempt: Attempt) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        buckets = [(self.per_account, attempt.account)]
        if attempt.address is not None:
            buckets.append((self.per_address, attempt.address))
        return buckets

    def failed(self, attempt: Attempt) -> None:
        for item, key in self._buckets(attempt):
            self._strategy.hit(item, *key)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: earlier slips on this account (or device) are forgotten."""
        self._strategy.clear(self.per_account, *attempt.account)
