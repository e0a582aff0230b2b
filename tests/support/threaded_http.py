"""A small HTTP/1.1 server in a thread that a test can start, stop and start again.

The part that is easy to get wrong is stopping: `ThreadingHTTPServer.shutdown()`
stops accepting, but a kept-alive connection (the `twilio` client's requests
session keeps one) would go on being served by its handler thread, so a
"Twilio is down" test would still reach it. `stop()` therefore cuts every open
connection, including one accepted in the moment it runs. After `stop()`,
`start()` listens on the same port again.
"""
from __future__ import annotations

import base64
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs

# (method, path with query, form fields, basic-auth pair) -> (status, body bytes, content type), optionally
# with a dict of extra response headers as a fourth item, or None to close the connection without an answer.
Answer = Callable[[str, str, dict[str, str], "tuple[str, str] | None"], "tuple[Any, ...] | None"]


def _cut(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: "ThreadedHTTPServer"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (or a stop that cut the line) is normal here, not a traceback."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as real clients expect
    timeout = 30                    # an idle kept-alive connection is closed after this
    disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, True)

    def finish(self) -> None:
        self.server.owner._track(self.connection, False)
        super().finish()

    def _handle(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8", "replace")
        form = {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}
        auth: tuple[str, str] | None = None
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode("utf-8", "replace").partition(":")
            auth = (user, password)
        answer = self.server.owner.answer(self.command, self.path, form, auth)
        if answer is None:
            self.close_connection = True
            return
        status, body, content_type, *more = answer
        self.send_response(status)
        for name, value in (more[0] if more else {}).items():
            self.send_header(name, value)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    do_POST = do_GET = do_DELETE = do_PUT = _handle


class ThreadedHTTPServer:
    """Serves `answer` on host:port (0: a free port) in a thread; thread-safe start and stop."""

    handler_class: type[BaseHTTPRequestHandler] = _Handler

    def __init__(self, answer: Answer, host: str = "127.0.0.1", port: int = 0) -> None:
        self.answer, self.host, self.port = answer, host, port
        self.stopping = threading.Event()  # set while stopping: a delayed answer should give up
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the server is already running")
        self.stopping.clear()
        server = _Server((self.host, self.port), self.handler_class)
        server.owner = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"http-standin-{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and cut every open connection: from now on, connects are refused."""
        server, self._server = self._server, None
        if server is None:
            return
        with self._lock:
            self.stopping.set()
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            _cut(conn)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def _track(self, conn: socket.socket, is_open: bool) -> None:
        with self._lock:
            (self._connections.add if is_open else self._connections.discard)(conn)
            if is_open and self.stopping.is_set():  # accepted just as `stop()` ran
                _cut(conn)
