"""A line between Pendel and one provider stand-in that can go silent: what a provider timing out looks like.

The Twilio stand-in and the SMTP server can answer with failures of their
own (503, 451, 554 ...), but they cannot fail to answer without taking the
message: the stand-in's `delay()` still takes it, which is a slow provider,
not one that is away. A provider whose network silently drops packets is
what makes a client's timeout fire, and then nothing reached the provider.
So the app and the workers reach each stand-in through a `ProviderLine`: the
harness's CutProxy (tests/support/cut_proxy.py), whose target is either the
stand-in or `Silence`, a listener that accepts and never answers.

- `lead_to(address)`: from now on, to the stand-in (once it listens);
- `silent()`: open connections are broken (a request on them fails at once,
  as on a line that just went down); new ones are accepted and never
  answered, so the client waits for its own timeout (Twilio client 10 s,
  SMTP 30 s) and nothing reaches the provider;
- `passing()`: the silent connections are broken too, and new ones reach the
  stand-in again.

A switch is a cut and a restore of the proxy on its port: a connection that
arrives in that instant is refused, which is one more transient failure.
"""
from __future__ import annotations

import socket
import threading

from tests.support.cut_proxy import CutProxy

NOWHERE = ("127.0.0.1", 9)  # until `lead_to`: the discard port, where nothing listens


class Silence:
    """Accepts connections and holds them, unread and unanswered, until `hang_up()`."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.address: tuple[str, int] = self._listener.getsockname()[:2]
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name=f"silence-{self.address[1]}", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                self._held.append(sock)

    def hang_up(self) -> None:
        with self._lock:
            held, self._held = self._held, []
        for sock in held:
            sock.close()

    def close(self) -> None:
        self._listener.close()
        self.hang_up()


class ProviderLine:
    def __init__(self) -> None:
        self.proxy, self.silence = CutProxy(NOWHERE), Silence()
        self.provider = NOWHERE

    @property
    def host(self) -> str:
        return self.proxy.host

    @property
    def port(self) -> int:
        return self.proxy.port

    @property
    def url(self) -> str:
        return f"http://{self.proxy.host}:{self.proxy.port}"

    def lead_to(self, address: tuple[str, int]) -> None:
        self.provider = self.proxy.target = address

    def silent(self) -> None:
        self._switch(self.silence.address)

    def passing(self) -> None:
        self._switch(self.provider)
        self.silence.hang_up()

    def _switch(self, target: tuple[str, int]) -> None:
        self.proxy.cut()
        self.proxy.target = target
        self.proxy.restore()

    def close(self) -> None:
        self.proxy.close()
        self.silence.close()
