"""GET an ICS feed over HTTP(S) without letting a URL reach the office network.

A calendar URL is typed in by staff (or pasted from an e-mail), and the
worker that fetches it sits inside the office network: a URL naming
`localhost`, a router, a metadata service or a database would make Pendel a
proxy into places the internet cannot reach (SSRF). So, unless the setting
allows private addresses (tests, on-premise calendar servers):

- the host name is resolved ONCE and every address it resolves to is checked
  (`address_allowed`); the connection then goes to a checked address, so a
  DNS answer that changes between check and connect (rebinding) cannot win;
- the Host header, TLS SNI and the certificate check still use the host name
  (`_PinnedConnection`), so HTTPS is verified exactly as by any client;
- each redirect (at most 3) is checked the same way, and https never falls
  back to plain http (the URL usually carries a private token).

Every fetch is bounded: `timeout` per connect or read, a watchdog that cuts
the socket at the total deadline (a server that drips one byte at a time
cannot hold a worker), and `max_bytes`; name lookup keeps the system
resolver's own timeouts. Proxies from the environment are not used. A login
in the URL (user:password@) is sent to that origin only, never across a
redirect. Every failure is a `SourceError` fit for staff, without the URL.
"""
from __future__ import annotations

import base64
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import unquote, urljoin, urlsplit

from calendars.errors import SourceError

MAX_REDIRECTS = 3
_REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 64 * 1024
_SNIFFED_TYPES = ("", "text/plain", "application/octet-stream", "text/x-vcalendar", "application/ics")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_HTTP_REASONS = {401: "access denied (the link may have expired)", 403: "access denied (the link may have expired)",
                 404: "calendar not found (the link may have changed)", 410: "calendar no longer published",
                 429: "too many requests to the calendar server"}
USER_AGENT = "Pendel-calendar-sync/1"


@dataclass(frozen=True)
class FetchResult:
    status: int                # 200 or 304
    body: bytes | None         # None on 304
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class Target:
    """A URL reduced to what a request needs; `host` is the ASCII (IDNA) host name or IP literal."""

    scheme: str
    host: str
    port: int
    path: str
    auth: tuple[str, str] | None


def parse_url(url: str) -> Target:
    """http, https and webcal (read as https) URLs with a host; SourceError otherwise."""
    if not url or len(url) > 2048 or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise SourceError("not a valid web address")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        raise SourceError("not a valid web address") from None
    scheme = {"webcal": "https"}.get(parts.scheme.lower(), parts.scheme.lower())
    if scheme not in ("http", "https"):
        raise SourceError("only http, https and webcal addresses can be fetched")
    if not host:
        raise SourceError("the web address has no host name")
    auth = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path, auth)


def address_allowed(address: str) -> bool:
    """True for a public unicast address; the IPv4 inside a mapped, 6to4 or NAT64 address decides for it."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if inner is not None:
            return address_allowed(str(inner))
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_unspecified or ip.is_reserved)


Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
Lookup = Callable[..., list[tuple[Any, ...]]]
NOT_ALLOWED = "address not allowed: the calendar server is on a private or local network"


class HostNotFound(SourceError):
    """The name does not resolve (now): nothing to check, nothing to connect to."""


def _localhost_name(host: str) -> bool:
    """RFC 6761: localhost and every name under it is the loopback, whatever a resolver says (or does not)."""
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def resolve(host: str, port: int, allow_private: bool, allow_networks: Networks = (),
            lookup: Lookup = socket.getaddrinfo) -> list[tuple[int, tuple]]:
    """Every (family, sockaddr) of `host`, all checked; the caller connects only to these.

    The one rule for which calendar servers Pendel may reach, at every fetch and
    when a source is added or changed. The system resolver reads the host as a
    connect would, so every spelling of an address (2130706433, 0x7f000001,
    127.1, 0177.0.0.1) and every name is checked by the address it stands for.
    `allow_networks` lets named private networks through (one on-premise server) without opening all.
    """
    if _localhost_name(host) and not allow_private:
        raise SourceError(NOT_ALLOWED)
    try:
        infos = lookup(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise HostNotFound("host name not found") from None
    addresses = list(dict.fromkeys((family, sockaddr) for family, _, _, _, sockaddr in infos))
    ips = [ipaddress.ip_address(sockaddr[0].split("%", 1)[0]) for _, sockaddr in addresses]
    if not allow_private and not all(address_allowed(str(ip)) or any(ip in net for net in allow_networks
                                                                     if net.version == ip.version) for ip in ips):
        raise SourceError(NOT_ALLOWED)
    return addresses


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP(S) to an address checked beforehand; Host, SNI and certificate use the host name."""

    def __init__(self, target: Target, address: tuple[int, tuple], timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.default_port = 443 if target.scheme == "https" else 80  # Host header without ":443"
        self._tls = target.scheme == "https"
        self._address = address
        self.watch: socket.socket | None = None  # a duplicate of the raw socket, for the watchdog

    def connect(self) -> None:
        family, sockaddr = self._address
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(sockaddr)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.watch = sock.dup()
            if self._tls:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class _Watchdog:
    """Cuts the connection when the total deadline passes, whatever it is blocked in."""

    def __init__(self, seconds: float, conn: _PinnedConnection) -> None:
        self.fired = False
        self._conn = conn
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        if self._conn.watch is not None:
            try:
                self._conn.watch.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._timer.cancel()
        if self._conn.watch is not None:
            self._conn.watch.close()
        self._conn.close()


def _size(n: int) -> str:
    return f"{n / 1048576:g} MB" if n >= 1048576 else f"{n / 1024:g} KB"


def _media_type(value: str | None) -> str:
    kind = (value or "").split(";", 1)[0].strip().lower()
    return "".join(ch for ch in kind if ch.isalnum() or ch in "/.+-")[:60]


def _looks_like_ical(body: bytes) -> bool:
    return body.removeprefix(b"\xef\xbb\xbf").lstrip()[:15].upper() == b"BEGIN:VCALENDAR"


def _read_body(response: http.client.HTTPResponse, max_bytes: int) -> bytes:
    declared = response.getheader("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise SourceError(f"calendar is larger than {_size(max_bytes)}")
    chunks, total = [], 0
    while chunk := response.read(_CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise SourceError(f"calendar is larger than {_size(max_bytes)}")
        chunks.append(chunk)
    if declared.isdigit() and total < int(declared):
        raise http.client.IncompleteRead(b"", int(declared) - total)
    return b"".join(chunks)


def _describe(exc: BaseException, timeout: float) -> str:
    """A staff-fit sentence for a network failure (never the exception text: it may quote the host)."""
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"calendar server did not answer within {timeout:g} s"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "calendar server's TLS certificate is not valid for its name"
    if isinstance(exc, ssl.SSLError):
        return "secure (TLS) connection to the calendar server failed"
    if isinstance(exc, ConnectionRefusedError):
        return "calendar server refused the connection"
    if isinstance(exc, (http.client.HTTPException, ConnectionResetError)):
        return "calendar server closed the connection or sent an invalid answer"
    return "could not connect to the calendar server"


def _one_request(target: Target, headers: dict[str, str], timeout: float, deadline: float, total: float,
                 max_bytes: int, allow: tuple[bool, Networks]) -> tuple[int, dict[str, str], bytes | None]:
    """(status, selected headers, body for a 200) from one hop; only checked addresses are dialled."""
    last_error: BaseException | None = None
    for address in resolve(target.host, target.port, *allow):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        conn = _PinnedConnection(target, address, min(timeout, left))
        with _Watchdog(left, conn) as watchdog:
            try:
                conn.connect()
            except OSError as exc:  # refused, unreachable, timed out: the host's next address may answer
                if watchdog.fired:
                    raise SourceError(f"calendar took longer than {total:g} s to download") from None
                if isinstance(exc, ssl.SSLError):
                    raise SourceError(_describe(exc, timeout)) from None
                last_error = exc
                continue
            try:
                conn.request("GET", target.path, headers=headers)
                response = conn.getresponse()
                kept = {name: response.getheader(name) or "" for name in
                        ("Location", "ETag", "Last-Modified", "Content-Type", "Content-Encoding")}
                if response.status != 200:
                    return response.status, kept, None
                media = _media_type(kept["Content-Type"])
                if media != "text/calendar" and media not in _SNIFFED_TYPES:
                    raise SourceError(f"not iCalendar (content type {media})")
                if kept["Content-Encoding"].strip().lower() not in ("", "identity"):
                    raise SourceError("calendar server sent a compressed answer Pendel cannot read")
                body = _read_body(response, max_bytes)
                if watchdog.fired:  # the cut socket looks like an early end of the body
                    raise SourceError(f"calendar took longer than {total:g} s to download")
                return 200, kept, body
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if watchdog.fired:
                    raise SourceError(f"calendar took longer than {total:g} s to download") from None
                raise SourceError(_describe(exc, timeout)) from None
    if last_error is None:
        raise SourceError(f"calendar took longer than {total:g} s to download")
    raise SourceError(_describe(last_error, timeout))


def fetch_ics(url: str, *, etag: str | None = None, last_modified: str | None = None, timeout: float = 15,
              max_bytes: int = 5 * 1048576, allow_private: bool = False, allow_networks: Networks = (),
              total: float | None = None) -> FetchResult:
    """Conditional GET of an iCalendar feed; 304 comes back as status 304 without a body.

    `total` (default four times `timeout`) bounds the whole fetch, redirects included.
    """
    total = total if total is not None else 4 * timeout
    deadline = time.monotonic() + total
    target = parse_url(url)
    origin, auth = (target.scheme, target.host, target.port), target.auth  # a login goes to its own origin only
    conditional = {"If-None-Match": etag or "", "If-Modified-Since": last_modified or ""}
    conditional = {name: value for name, value in conditional.items() if value}
    for _hop in range(MAX_REDIRECTS + 1):
        headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, text/plain;q=0.5, */*;q=0.1",
                   "Accept-Encoding": "identity", "Connection": "close", **conditional}
        if auth and (target.scheme, target.host, target.port) == origin:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        status, got, body = _one_request(target, headers, timeout, deadline, total, max_bytes,
                                         (allow_private, allow_networks))
        if status in _REDIRECTS:
            if not got["Location"]:
                raise SourceError(f"calendar server answered HTTP {status} without a new address")
            host = f"[{target.host}]" if ":" in target.host else target.host
            following = parse_url(urljoin(f"{target.scheme}://{host}:{target.port}{target.path}", got["Location"]))
            if target.scheme == "https" and following.scheme == "http":
                raise SourceError("calendar server redirected from https to insecure http")
            target = following
            continue
        if status == 304 and conditional:
            return FetchResult(304, None, got["ETag"] or etag, got["Last-Modified"] or last_modified)
        if status != 200 or body is None:
            reason = _HTTP_REASONS.get(status)
            raise SourceError(f"calendar server answered HTTP {status}" + (f": {reason}" if reason else ""))
        if _media_type(got["Content-Type"]) != "text/calendar" and not _looks_like_ical(body):
            raise SourceError(f"not iCalendar (content type {_media_type(got['Content-Type']) or 'missing'})")
        return FetchResult(200, body, got["ETag"] or None, got["Last-Modified"] or None)
    raise SourceError(f"calendar server redirected more than {MAX_REDIRECTS} times")
