"""A TCP proxy that a test can cut and restore: what a network failure between Pendel and PostgreSQL does.

`CutProxy(("127.0.0.1", 5432))` listens on a free loopback port and pipes
every connection to the target. `cut()` stops listening (new connections are
refused, as by a host whose database went away) and shuts down every open
connection in both directions at once, so a client mid-query sees its
connection die; `restore()` listens again on the same port. While restored
nothing is changed: every byte passes untouched, in order.

Unlike tests/support/lossy_proxy.py (which loses exactly one COMMIT reply),
this one is for blunt outages of any length, e.g. a chaos run's.
Thread-safe; `close()` ends it for good.
"""
from __future__ import annotations

import socket
import threading


def _shut(sock: socket.socket) -> None:
    for step in (lambda: sock.shutdown(socket.SHUT_RDWR), sock.close):
        try:
            step()
        except OSError:
            pass


class CutProxy:
    def __init__(self, target: tuple[str, int], host: str = "127.0.0.1") -> None:
        self.target, self.host = target, host
        self._lock = threading.Lock()
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._listener: socket.socket | None = None
        self.port = 0
        self.cuts = 0            # how many times `cut()` cut something
        self.connections = 0     # connections piped so far (for a test to see traffic went through)
        self._listen()

    @property
    def is_cut(self) -> bool:
        return self._listener is None

    def _listen(self) -> None:
        listener = socket.create_server((self.host, self.port))  # SO_REUSEADDR: the same port again at once
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name=f"cut-proxy-{self.port}", daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and break every open one (idempotent)."""
        with self._lock:
            listener, self._listener = self._listener, None
            pairs, self._pairs = list(self._pairs), set()
            if listener is not None or pairs:
                self.cuts += 1
        if listener is not None:
            _shut(listener)
        for client, server in pairs:
            _shut(client)
            _shut(server)

    def restore(self) -> None:
        """Listen again on the same port (idempotent)."""
        with self._lock:
            if self._listener is None:
                self._listen()

    def close(self) -> None:
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut or closed
            try:
                server = socket.create_connection(self.target, timeout=10)
                server.settimeout(None)
            except OSError:
                _shut(client)
                continue
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = (client, server)
            with self._lock:
                if self._listener is not listener:  # cut while connecting
                    _shut(client)
                    _shut(server)
                    return
                self._pairs.add(pair)
                self.connections += 1
            threading.Thread(target=self._pipe, args=(client, server, pair), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, pair), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, pair: tuple[socket.socket, socket.socket]) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        # One side ended: end both, as a broken line would.
        with self._lock:
            self._pairs.discard(pair)
        _shut(source)
        _shut(sink)
