"""uvicorn's h11 connection with one bound it lacks: a request's line and headers (or, on a kept-alive
connection, the next request's) must all arrive within `read_timeout` seconds however slowly they
trickle, else the connection is closed; and its own refusals (a malformed or oversized request) carry
the page's security headers.

A pause in a post's body is bounded in the application (`middleware.BodyTimeout`), where a 408 can be
answered.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.web.headers import SECURITY_HEADERS, SERVER_NAME


def bounded_protocol(read_timeout: float) -> type[H11Protocol]:
    """The protocol class for one server (uvicorn builds one instance per connection)."""
    return type("BoundedH11Protocol", (BoundedH11Protocol,), {"read_timeout": read_timeout})


class BoundedH11Protocol(H11Protocol):
    read_timeout: float = 30.0
    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_request():
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()                       # the next request's head has the same time
            if self._in_request():            # a pipelined request already began
                self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        """A request h11 cannot read (broken, or its line and headers over the size limit)."""
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close"),
                   (b"server", SERVER_NAME.encode()), *[(k.encode(), v.encode()) for k, v in SECURITY_HEADERS]]
        body = b"the request could not be read (malformed, or its line and headers are too long)\n"
        try:
            self.transport.write(self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request")))
            self.transport.write(self.conn.send(h11.Data(data=body)))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
        except h11.LocalProtocolError:        # h11 has already given up on this connection
            pass
        self.transport.close()

    def _in_request(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _arm(self) -> None:
        self._disarm()
        self._head_deadline = self.loop.call_later(self.read_timeout, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if not self._in_request() and not self.transport.is_closing():
            self.transport.close()
