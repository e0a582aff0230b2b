"""The provider line (tests/chaos/line.py): passes everything, then goes silent (a client times out and the
provider saw nothing), then passes again; open connections break at each switch."""
from __future__ import annotations

import socket
import threading
from typing import Iterator

import pytest

from tests.chaos.line import ProviderLine


@pytest.fixture
def echo() -> Iterator[tuple[tuple[str, int], list[bytes]]]:
    """A provider that answers each line with the same line, and notes what reached it."""
    server = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(1024):
                seen.append(data)
                conn.sendall(data)

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[:2], seen
    server.close()


def _ask(line: ProviderLine, what: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection((line.host, line.port), timeout=timeout) as conn:
        conn.sendall(what)
        return conn.recv(1024)


def test_a_silent_line_answers_nothing_and_delivers_nothing(echo: tuple[tuple[str, int], list[bytes]]) -> None:
    address, seen = echo
    line = ProviderLine()
    try:
        line.lead_to(address)
        assert _ask(line, b"one") == b"one"
        open_before = socket.create_connection((line.host, line.port), timeout=5)
        assert _ask(line, b"warm") == b"warm"
        line.silent()
        assert open_before.recv(1024) == b""  # the line went down under an open connection
        with pytest.raises(socket.timeout):
            _ask(line, b"two", timeout=0.5)
        line.passing()
        assert _ask(line, b"three") == b"three"
        assert b"two" not in seen and seen[-1] == b"three"
        open_before.close()
    finally:
        line.close()
