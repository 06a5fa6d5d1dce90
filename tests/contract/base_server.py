"""What every marketplace contract server shares: a threaded HTTP server on 127.0.0.1 port 0 started in a
daemon thread, and a JSON request handler that records each request in `market.requests`, validates it
against the vendor's published description (`spec_validation`), answers JSON, and plays the failures a
test queued (a 429 storm, a write applied whose answer is lost or a 503).

A vendor's server subclasses `ContractServer` and `JsonHandler` and keeps only its own routes, headers
and error envelopes. The market (the server's state) needs `lock`, `requests`, `violations`, `now()`."""

from __future__ import annotations

import email.utils
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl

AFTER_APPLY = ("drop_after_apply", "503_after_apply")


def query_params(query: str) -> dict[str, str]:
    """The first value of each query parameter (blank values kept)."""
    return {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}


class JsonHandler(BaseHTTPRequestHandler):
    """Request plumbing; a subclass routes in `handle_request` and aliases the methods it serves to
    `do_GET` (`do_POST = do_PUT = JsonHandler.do_GET`)."""

    protocol_version = "HTTP/1.1"
    server: "ContractServer"
    market_clock_date = True        # the Date header is the market's clock (adapters read the server's time)
    record: dict

    def log_message(self, format, *args):     # quiet: the tests read market.requests
        pass

    def date_time_string(self, timestamp=None):
        if not self.market_clock_date:
            return super().date_time_string(timestamp)
        return email.utils.formatdate(self.server.market.now(), usegmt=True)

    def do_GET(self):
        self.handle_request()

    def handle_request(self) -> None:
        raise NotImplementedError

    def read_request(self, **extra) -> tuple[str, str, bytes, dict[str, str]]:
        """(path, query, body, headers) of this request, recorded in `market.requests` (with `extra`)."""
        market = self.server.market
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = dict(self.headers.items())
        self.record = {"method": self.command, "target": self.path, "path": path, "query": query,
                       "headers": headers, "body": body, "status": None, **extra}
        with market.lock:
            market.requests.append(self.record)
        return path, query, body, headers

    def _send(self, status: int, body=None, headers: dict[str, str] | None = None,
                  first: tuple[tuple[str, str], ...] = ()) -> None:
        """Answer `body` as JSON (`{}` for None) with `first` and then `headers`; the status is recorded."""
        data = json.dumps(body if body is not None else {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (*first, *(headers or {}).items()):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.record["status"] = status

    def form(self, body: bytes) -> dict[str, str] | None:
        """A form-encoded body as a dict; None when the request is not `application/x-www-form-urlencoded`."""
        if not (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            return None
        return dict(parse_qsl(body.decode()))

    def spec_problem(self, path: str, query: str, headers: dict[str, str], body: bytes) -> str | None:
        """What the vendor's description finds wrong with this request (kept in `market.violations`), or
        None (also when no description is there to validate against)."""
        validator = self.server.validator
        if validator is None or not validator.available:
            return None
        _, problem = validator.covers_and_errors(self.command, path, query, headers, body)
        if problem:
            self.server.market.violations.append(f"{self.command} {self.path}: {problem}")
        return problem

    def answer_applied(self, failure, status: int, answer, unavailable, **send) -> None:
        """Answer a request already applied, unless a queued failure loses the answer (`drop_after_apply`:
        the connection closes) or replaces it with 503 and the `unavailable` body (`503_after_apply`)."""
        if failure is not None and failure.kind == "drop_after_apply":
            self.close_connection = True        # applied, but the answer never arrives
            self.record["status"] = "dropped"
            return None
        if failure is not None and failure.kind == "503_after_apply":
            return self._send(503, unavailable, failure.headers, **send)
        return self._send(status, answer, **send)


def canned_failure(failure, bodies: dict[int, dict]) -> tuple[int, dict, dict[str, str]] | None:
    """(status, body, headers) of a queued failure whose kind is one of the statuses in `bodies`
    (a 429 storm, 401, 403, 500...), None for no failure or another kind."""
    if failure is None or not failure.kind.isdigit() or int(failure.kind) not in bodies:
        return None
    return int(failure.kind), bodies[int(failure.kind)], failure.headers


class ContractServer(ThreadingHTTPServer):
    """The server on 127.0.0.1 port 0; `url` is where it listens, `market` its state, `validator` the
    vendor's descriptions (None where requests are checked otherwise)."""

    daemon_threads = True

    def __init__(self, handler: type[JsonHandler], market, name: str, validator=None):
        super().__init__(("127.0.0.1", 0), handler)
        self.market = market
        self.validator = validator
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{name}-contract", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def validating(self) -> bool:
        return self.validator is not None and self.validator.available

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
