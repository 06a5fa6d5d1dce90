"""The web page's HTTP server: the standard library's ThreadingHTTPServer in a thread, started and
stopped by `stockgate serve` like the FTP server.

Every request passes the same gate: only GET and POST; a known Host when no login is configured (DNS
rebinding); a login unless the route is public; a CSRF token on every POST; security headers on every
answer; no header holding a line break; a one-line error page instead of a traceback. Reads are bounded
(`web.read_timeout_seconds`, see `connection`): a post over its limit is answered 413 without waiting
for its body, a body that stops arriving gets 408.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from gateway.db.engine import Database
from gateway.errors import ConfigError, RetryableError
from gateway.settings import Settings
from gateway.web.auth import csrf_matches, session_cookie, session_token_from
from gateway.web.connection import allow_send, buffered_reader, linger_close
from gateway.web.forms import FormError, parse_form
from gateway.web.routes import find_route
from gateway.web.site import Request, Response, Site, redirect

log = logging.getLogger(__name__)

SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)
MAX_FORM_BYTES = 64 * 1024          # a post other than an upload
UPLOAD_OVERHEAD_BYTES = 64 * 1024   # multipart headers and fields around the file
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
STREAM_BLOCK_BYTES = 256 * 1024     # a download sent from a file goes out this much at a time


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128    # the default 5 made a burst of connections wait for SYN retries (1 s, 3 s, ...)

    def __init__(self, address, handler, site: Site):
        self.site = site
        self.read_timeout = site.settings.web.read_timeout_seconds
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, handler)

    def handle_error(self, request, client_address) -> None:
        """A client that went away mid-answer: a debug line, not a traceback on stderr."""
        log.debug("web connection from %s failed", client_address[0], exc_info=True)


class WebHandler(BaseHTTPRequestHandler):
    """Turns one HTTP request into a `Request` for a route handler and writes its `Response`."""

    server_version = "StockGate"
    sys_version = ""
    server: _HttpServer
    _body_read = False

    def version_string(self) -> str:
        return self.server_version               # no Python version on the wire

    def setup(self) -> None:
        super().setup()
        self.rfile.close()                       # replaced by one whose reads are bounded
        self.rfile, self._reader = buffered_reader(self.connection, self.server.read_timeout)

    def handle_one_request(self) -> None:
        """The request line and headers (or, between requests, the next one) must arrive within the read
        timeout, however slowly they trickle; past it the connection is closed."""
        self._reader.deadline = time.monotonic() + self.server.read_timeout
        self._body_read = False
        super().handle_one_request()

    def parse_request(self) -> bool:
        parsed = super().parse_request()         # reads the headers, still under the deadline
        self._reader.deadline = None             # from here (the body) each read waits the timeout
        self.connection.settimeout(self.server.read_timeout)
        return parsed

    def __getattr__(self, name: str):
        if name.startswith("do_"):          # PUT, DELETE, HEAD, OPTIONS, anything else
            return self._method_not_allowed
        raise AttributeError(name)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _method_not_allowed(self) -> None:
        self._send(Response(405, b"method not allowed: only GET and POST\n", "text/plain; charset=utf-8",
                            [("Allow", "GET, POST")]))

    def end_headers(self) -> None:
        for name, value in SECURITY_HEADERS:    # on every answer, including http.server's own errors
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        log.debug("web %s %s", self.address_string(), format % args)

    # --- the gate

    def _serve(self) -> None:
        site = self.server.site
        try:
            response, request = self._dispatch(site)
        except RetryableError as exc:
            response, request = Response(503, f"{exc} (try again)\n".encode(), "text/plain; charset=utf-8"), None
        except Exception:
            log.exception("web request %s %s failed", self.command, self.path.split("?", 1)[0])
            response, request = Response(500, b"internal error: it has been logged\n", "text/plain; charset=utf-8"), None
        if request is not None and request.new_session is not None:
            response.headers.append(("Set-Cookie", session_cookie(request.new_session)))
        self._send(response)

    def _dispatch(self, site: Site) -> tuple[Response, Request | None]:
        plain = "text/plain; charset=utf-8"
        if not site.login_required and not self._host_allowed(site):
            return Response(421, b"unexpected Host header: open the page as http://127.0.0.1:PORT/\n", plain), None
        parts = urlsplit(self.path)
        found = find_route(parts.path)
        if found is None:
            return Response(404, b"not found\n", plain), None
        route, params = found
        if self.command not in route.methods:
            allow = ", ".join(route.methods)
            return Response(405, f"method not allowed here: use {allow}\n".encode(), plain, [("Allow", allow)]), None
        try:
            query = {k: v[0] for k, v in parse_qs(parts.query, max_num_fields=20).items()}
        except ValueError:
            return Response(400, b"too many query parameters\n", plain), None
        request = Request(self.command, parts.path, query, self.headers, self.client_address[0],
                          session=site.sessions.get(session_token_from(self.headers.get("Cookie"))), params=params)
        logged_in = request.session is not None and request.session.user is not None
        if site.login_required and not route.public and not logged_in:
            if self.command == "GET":
                return redirect("/login?" + urlencode({"next": self.path})), request
            return Response(403, b"log in first\n", plain), request
        if self.command == "POST":
            refused = self._read_form(site, request)
            if refused is not None:
                return refused, request
        return route.methods[self.command](site, request), request

    def _host_allowed(self, site: Site) -> bool:
        host = self.headers.get("Host")
        if host is None:
            return True
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.strip("[]").lower()
        return name in LOOPBACK_NAMES or name == site.settings.web.host.lower()

    def _read_form(self, site: Site, request: Request) -> Response | None:
        """Read and check a post: its size, its origin and its CSRF token; a refusal, or None."""
        plain = "text/plain; charset=utf-8"
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.strip().isdigit():
            self.close_connection = True
            return Response(411, b"a post needs a Content-Length\n", plain)
        length = int(length_text)
        limit = (site.settings.files.max_file_mb * 1024 * 1024 + UPLOAD_OVERHEAD_BYTES
                 if request.path == "/upload" else MAX_FORM_BYTES)
        if length > limit:                       # answered at once: the body may never come
            what = (f"the upload is larger than the limit of {site.settings.files.max_file_mb:,} MB"
                    if request.path == "/upload" else f"the form is larger than the limit of {limit // 1024} KB")
            return Response(413, f"{what}\n".encode(), plain)
        origin = self.headers.get("Origin")
        host = self.headers.get("Host")
        if origin and origin != "null" and host and urlsplit(origin).netloc.lower() != host.lower():
            return Response(403, b"cross-site post refused\n", plain)
        self._body_read = True
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            self.close_connection = True
            return Response(408, f"the post stopped arriving (nothing for {self.server.read_timeout:g} s): "
                            "send it again\n".encode(), plain)
        if len(body) < length:
            self.close_connection = True
            return Response(400, b"the post was cut short\n", plain)
        try:
            request.form = parse_form(body, self.headers.get("Content-Type"))
        except FormError as exc:
            return Response(400, f"{exc}\n".encode(), plain)
        if not csrf_matches(request.session, request.form.get("csrf_token")):
            return Response(403, b"the form's security token is missing or out of date: reload the page and "
                                 b"send it again\n", plain)
        return None

    def _body_unread(self) -> bool:
        """True when the request came with a body that nobody read (a refused post)."""
        if self._body_read or self.headers is None:
            return False
        length_text = self.headers.get("Content-Length", "").strip()
        return (length_text.isdigit() and int(length_text) > 0) or "Transfer-Encoding" in self.headers

    def _send(self, response: Response) -> None:
        try:
            self._send_checked(response)
        finally:
            if response.stream is not None:
                response.stream.close()

    def _send_checked(self, response: Response) -> None:
        broken = [name for name, value in response.headers if any(c in name + value for c in "\r\n\0")]
        if broken:                               # named, never shown: a value may hold a session token
            log.error("web %s %s: refused to send a header holding a line break: %s", self.command,
                      self.path.split("?", 1)[0], ", ".join(broken))
            response = Response(500, b"internal error: it has been logged\n", "text/plain; charset=utf-8")
        linger = self._body_unread()
        if linger:
            self.close_connection = True         # the unread body must not be taken for the next request
        stream = response.stream
        size = len(response.body) if stream is None else os.fstat(stream.fileno()).st_size - stream.tell()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(size))
        names = {name.lower() for name, _ in response.headers}
        if "cache-control" not in names:
            self.send_header("Cache-Control", "no-store")
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD" and stream is None:
            allow_send(self.connection, self.server.read_timeout, len(response.body))
            self.wfile.write(response.body)
        elif self.command != "HEAD":
            while block := stream.read(STREAM_BLOCK_BYTES):     # a large download, a block at a time
                allow_send(self.connection, self.server.read_timeout, len(block))
                self.wfile.write(block)
        if linger:
            linger_close(self.connection)


class WebServer:
    """The web page as a `serve` service: `start()` binds `web.host`:`web.port` (port 0: a free one, see
    `.port`) and serves in a thread; `stop(timeout)` stops accepting and waits for the thread."""

    name = "web"

    def __init__(self, db: Database, settings: Settings, *, on_received: Callable[[str], None] | None = None):
        self.settings = settings
        self.site = Site(db, settings, on_received)
        self._server: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (after `start`)."""
        if self._server is None:
            raise RuntimeError("the web server is not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        host = self.settings.web.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        web = self.settings.web
        try:
            self._server = _HttpServer((web.host, web.port), WebHandler, self.site)
        except OSError as exc:
            raise ConfigError(f"{self.settings.key('web.port')}: cannot listen on {web.host}:{web.port}: "
                              f"{exc.strerror or exc}") from exc
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="web", daemon=True)
        self._thread.start()
        log.info("web page on %s (login %s)", self.url, "required" if self.site.login_required else "not required")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting requests; requests in progress finish in their own (daemon) threads."""
        if self._server is None:
            return
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout)
        self._server.server_close()
        self._server = None
