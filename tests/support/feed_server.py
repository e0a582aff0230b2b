"""A calendar server for tests: scripted replies per path, ETag/304, delays, redirects, optional TLS.

Built on `ThreadedHTTPServer` (its stop cuts kept-alive connections), with a
handler that also sees request headers (If-None-Match, Host) and sends
response headers (ETag, Location), which the colleague's `Answer` callback
does not carry. TLS uses a throw-away CA made with `cryptography`; a test
trusts it through SSL_CERT_FILE, which `ssl.create_default_context()` reads,
so the code under test verifies certificates exactly as in production.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.threaded_http import ThreadedHTTPServer, _Handler, _Server


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/calendar; charset=utf-8"
    etag: str | None = None                 # sent as ETag; a request with If-None-Match equal to it gets 304
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0                      # seconds to wait before answering
    declare_length: bool = True             # False: no Content-Length, the body ends when the connection closes
    drip: float = 0.0                       # > 0: the body goes out 64 bytes at a time, this many seconds apart


class _FeedHandler(_Handler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        owner: FeedServer = self.server.owner  # type: ignore[assignment]
        with owner.lock:
            owner.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            reply = owner.routes.get(self.path, Reply(404, b"not here", "text/plain"))
        if reply.delay and owner.stopping.wait(reply.delay):
            return
        not_modified = reply.etag is not None and self.headers.get("If-None-Match") == reply.etag
        body = b"" if not_modified else reply.body
        self.send_response(304 if not_modified else reply.status)
        if body:
            self.send_header("Content-Type", reply.content_type)
        if reply.etag:
            self.send_header("ETag", reply.etag)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.declare_length or not_modified:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        try:
            pieces = [body[i:i + 64] for i in range(0, len(body), 64)] if reply.drip else [body]
            for piece in pieces:
                self.wfile.write(piece)
                self.wfile.flush()
                if reply.drip and owner.stopping.wait(reply.drip):
                    return
        except OSError:
            pass  # the client gave up (size limit, deadline): that is what the test is about

    do_POST = do_PUT = do_DELETE = do_GET


class FeedServer(ThreadedHTTPServer):
    """`routes` maps a path (with query) to a `Reply`; `requests` records (path, lower-cased headers)."""

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        super().__init__(answer=lambda *_: None, host=host)
        self.routes: dict[str, Reply] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.tls = tls

    def url(self, path: str, scheme: str | None = None, host: str | None = None) -> str:
        return f"{scheme or ('https' if self.tls else 'http')}://{host or self.host}:{self.port}{path}"

    def start(self) -> None:
        """As the base class, with our handler (and TLS on the listening socket when asked)."""
        if self._server is not None:
            raise RuntimeError("the server is already running")
        self.stopping.clear()
        server = _Server((self.host, self.port), _FeedHandler)
        if self.tls is not None:
            server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        server.owner = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"feed-server-{self.port}", daemon=True)
        self._thread.start()


_VALID_FROM = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
_VALID_UNTIL = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)


def make_tls(directory: Path, names: tuple[str, ...] = ("localhost",)) -> tuple[ssl.SSLContext, Path]:
    """(server context with a certificate for `names`, CA file to trust); names may be IP addresses.

    The certificates hold from 2000 to the end of X.509 time, not around Python's "now": OpenSSL checks
    them against the real clock, which `--clock-offset-days` does not move.
    """

    def cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name | None,
             signer: ec.EllipticCurvePrivateKey | None, ca: bool) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(_VALID_FROM).not_valid_after(_VALID_UNTIL)
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            builder = builder.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                            critical=True)
        else:
            sans: list[x509.GeneralName] = []
            for entry in names:
                try:
                    sans.append(x509.IPAddress(ipaddress.ip_address(entry)))
                except ValueError:
                    sans.append(x509.DNSName(entry))
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return builder.sign(signer or key, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = cert("Pendel test CA", ca_key, None, None, True)
    leaf = cert(names[0], leaf_key, ca_cert.subject, ca_key, False)
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (directory / "leaf.pem").write_bytes(leaf.public_bytes(pem) + ca_cert.public_bytes(pem))
    (directory / "leaf.key").write_bytes(leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                                serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "leaf.pem", directory / "leaf.key")
    return context, directory / "ca.pem"
