"""A TCP proxy in front of PostgreSQL that can lose the server's reply to a COMMIT.

What a database restart or a broken network does at the worst moment: the
server has committed, the client never hears so, and the connection is
gone. Armed, the proxy forwards the next COMMIT, then closes both sides
instead of passing on the reply; every other byte goes through untouched.
"""
from __future__ import annotations

import socket
import threading


class LossyProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.armed = False
        self.fired = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        for sock in [self._server, *self._sockets]:
            try:
                sock.close()
            except OSError:
                pass

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self._sockets += [client, server]
            committing = threading.Event()
            threading.Thread(target=self._up, args=(client, server, committing), daemon=True).start()
            threading.Thread(target=self._down, args=(server, client, committing), daemon=True).start()

    def _up(self, client: socket.socket, server: socket.socket, committing: threading.Event) -> None:
        try:
            while data := client.recv(65536):
                if self.armed and b"COMMIT" in data:
                    committing.set()
                server.sendall(data)
        except OSError:
            pass

    def _down(self, server: socket.socket, client: socket.socket, committing: threading.Event) -> None:
        try:
            while data := server.recv(65536):
                if committing.is_set() and self.armed:
                    self.armed, self.fired = False, self.fired + 1
                    for sock in (client, server):  # the reply to COMMIT never arrives
                        try:
                            sock.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                        sock.close()
                    return
                client.sendall(data)
        except OSError:
            pass
