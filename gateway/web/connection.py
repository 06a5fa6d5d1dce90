"""Bounded reads and writes on one web connection: a request's line and headers must all arrive within
the read timeout (a client trickling them cannot hold a thread), a post's body may pause at most that
long, an answer may take that long plus a second per 64 KB, and a refused post is answered at once, then
drained for a moment so the client reads the answer, not a reset.
"""

from __future__ import annotations

import io
import socket
import time

LINGER_SECONDS = 5.0                  # after answering a post whose body was not read
MAX_LINGER_BYTES = 32 * 1024 * 1024   # of that body; beyond this the connection is just closed
MIN_SEND_BYTES_PER_SECOND = 64 * 1024  # the slowest reader an answer waits for


class DeadlineReader(io.RawIOBase):
    """The socket's bytes for a `BufferedReader`: each read waits at most `timeout` seconds, and never past
    `deadline` (a `time.monotonic()` value) while one is set; either raises `TimeoutError`."""

    def __init__(self, sock: socket.socket, timeout: float):
        self.sock, self.timeout = sock, timeout
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        wait = self.timeout
        if self.deadline is not None:
            wait = min(wait, self.deadline - time.monotonic())
            if wait <= 0:
                raise TimeoutError("the request line and headers took too long")
        self.sock.settimeout(wait)
        return self.sock.recv_into(buffer)


def buffered_reader(sock: socket.socket, timeout: float) -> tuple[io.BufferedReader, DeadlineReader]:
    """A buffered `rfile` over `sock` and the `DeadlineReader` under it (to set its deadline)."""
    raw = DeadlineReader(sock, timeout)
    return io.BufferedReader(raw), raw


def allow_send(sock: socket.socket, timeout: float, size: int) -> None:
    """Give the next write of `size` bytes `timeout` seconds plus one a `MIN_SEND_BYTES_PER_SECOND`
    (a socket's timeout bounds a whole `sendall`)."""
    sock.settimeout(timeout + size / MIN_SEND_BYTES_PER_SECOND)


def linger_close(sock: socket.socket) -> None:
    """After the answer: half-close, then read and drop what the client still sends (a body nobody read)
    until it stops, `MAX_LINGER_BYTES` or `LINGER_SECONDS`, whichever comes first."""
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline, remaining = time.monotonic() + LINGER_SECONDS, MAX_LINGER_BYTES
        while remaining > 0 and (wait := deadline - time.monotonic()) > 0:
            sock.settimeout(wait)
            chunk = sock.recv(min(remaining, 65536))
            if not chunk:
                break
            remaining -= len(chunk)
    except OSError:             # a reset, or the client went quiet: the answer is out either way
        pass
