"""What the state of every marketplace contract server shares: a lock (the servers are threaded), the
requests received and the violations found, a controllable clock, the app's client credentials, and the
failures a test queues for the next matching requests (CHANNEL_APIS.md section 10)."""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Failure:
    """One queued failure: for the next request whose path starts with `path` (and method `method`)."""

    kind: str                       # 429 | 500 | 401 | 403 | 503_after_apply | drop_after_apply | a vendor's own
    path: str
    method: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class ContractMarket:
    """The shared part of a contract server's state; every method takes the lock."""

    def __init__(self, client_id: str, client_secret: str):
        self.lock = threading.RLock()
        self.client_id, self.client_secret = client_id, client_secret
        self.clients = {client_id: client_secret}
        self.tokens_issued = 0
        self.offset = 0.0                           # server clock = real time + offset
        self.failures: list[Failure] = []
        self.requests: list[dict] = []
        self.violations: list[str] = []

    def now(self) -> float:
        return time.time() + self.offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def basic_ok(self, header: str | None) -> bool:
        """Whether an `Authorization: Basic` header carries a known client id and its secret."""
        if not header or not header.startswith("Basic "):
            return False
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return self.clients.get(client_id) == secret

    def fail(self, kind: str, path: str, *, times: int = 1, method: str | None = None, **headers: str) -> None:
        """Queue `times` failures of `kind` for requests to `path...` (header names with _ become -)."""
        with self.lock:
            for _ in range(times):
                self.failures.append(Failure(kind, path, method, {k.replace("_", "-"): v for k, v in headers.items()}))

    def take_failure(self, method: str, path: str) -> Failure | None:
        with self.lock:
            for f in self.failures:
                if path.startswith(f.path) and (f.method is None or f.method == method):
                    self.failures.remove(f)
                    return f
            return None

    def latest_visible(self, now: float, keep) -> list[dict]:
        """The latest version visible at `now` of each order in `self.orders` (id -> [(visible_at, order)])
        for which `keep(order)` holds."""
        with self.lock:
            shown = []
            for versions in self.orders.values():
                visible = [o for at, o in versions if at <= now]
                if visible and keep(visible[-1]):
                    shown.append(visible[-1])
            return shown
