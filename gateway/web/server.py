"""`WebServer`: the web page as a `stockgate serve` service: uvicorn running `create_app` in a thread,
on a socket bound at `start()` (so a busy port is a `ConfigError` naming `web.port`, and port 0 gives a
free one, see `.port`), stopped gracefully by `stop(timeout)`.

uvicorn's h11 protocol is used with the header deadline of `protocol` (`web.read_timeout_seconds`); idle
kept-alive connections are closed after the same time.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

import uvicorn

from gateway.db.engine import Database
from gateway.errors import ConfigError
from gateway.settings import Settings
from gateway.web.app import create_app
from gateway.web.auth import login_required
from gateway.web.protocol import bounded_protocol

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024      # a request line and headers larger than this are refused (400)
BACKLOG = 128                   # a burst of connections is queued, not made to wait for SYN retries


class WebServer:
    """`start()` binds `web.host`:`web.port` and serves in a thread; `stop(timeout)` stops accepting,
    lets requests in progress finish for up to `timeout` seconds, then cancels them."""

    name = "web"

    def __init__(self, db: Database, settings: Settings, *, on_received: Callable[[str], None] | None = None):
        self.settings, self.db = settings, db
        self.app = create_app(db, settings, on_received=on_received)
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (after `start`)."""
        if self._socket is None:
            raise RuntimeError("the web server is not started")
        return self._socket.getsockname()[1]

    @property
    def url(self) -> str:
        host = self.settings.web.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    def start(self, stop_timeout: float = 10.0) -> None:
        web = self.settings.web
        self._socket = self._bind(web.host, web.port)
        config = uvicorn.Config(
            self.app, http=bounded_protocol(web.read_timeout_seconds), lifespan="off", log_config=None,
            access_log=False, server_header=False, timeout_keep_alive=max(1, int(web.read_timeout_seconds)),
            timeout_graceful_shutdown=max(1, int(stop_timeout)), h11_max_incomplete_event_size=MAX_HEAD_BYTES,
            backlog=BACKLOG)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, name="web",
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        log.info("web page on %s (login %s)", self.url,
                 "required" if login_required(self.settings.web, self.db) else "not required")

    def _bind(self, host: str, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host.strip("[]"), port))
            sock.listen(BACKLOG)
        except OSError as exc:
            sock.close()
            raise ConfigError(f"{self.settings.key('web.port')}: cannot listen on {host}:{port}: "
                              f"{exc.strerror or exc}") from exc
        sock.set_inheritable(True)
        return sock

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting requests; requests in progress get up to `timeout` seconds to finish."""
        if self._server is None:
            return
        self._server.config.timeout_graceful_shutdown = max(1, int(timeout))
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout + 5)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(5)
        if self._socket is not None:
            self._socket.close()
        self._server = None
