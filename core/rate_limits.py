"""What every rate limit of ours shares: Flask-Limiter's `limits` engine, its storage, and its keys.

Moving windows (a burst at the edge of a fixed window cannot double a limit), counted in Redis when
REDIS_URL is set, so every gunicorn process counts together, and in memory on the embedded defaults.
Keys never hold what a person typed: an address is reduced to its IPv4 address or IPv6 /64, and an
e-mail address or phone number becomes a keyed hash (HMAC with the app's secret), so a key in Redis or
a line in the log names nobody.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress

from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


def storage_uri(redis_url: str | None) -> str:
    """`limits`' storage for our REDIS_URL (a unix socket is spelled differently there)."""
    if redis_url is None:
        return "memory://"
    return "redis+unix://" + redis_url.removeprefix("unix://") if redis_url.startswith("unix://") else redis_url


def moving_window(redis_url: str | None) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage_from_string(storage_uri(redis_url)))


def address_key(remote_addr: str | None) -> str:
    """An IPv4 address as is; IPv6 by its /64, which one client usually has whole."""
    try:
        ip = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return "unknown"
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)


def keyed_hash(secret: bytes, value: str) -> str:
    """A value (an e-mail address, a phone number) as a key that cannot be read or guessed back without
    the secret: 128 bits of HMAC-SHA256."""
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:32]
