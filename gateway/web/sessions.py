"""Browser sessions and the login throttle, kept in memory: the one place to swap for the database-backed
`gateway.accounts` (same class names, same methods), so a restart logs nobody out once that lands.

    SessionStore(db).create() -> Session ; .get(token) -> Session | None
                    .login(token, user_name, role) -> Session (a new token) ; .logout(token)
    LoginThrottle(db).allowed(address) -> bool ; .failed(address) ; .succeeded(address)
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

SESSION_IDLE_SECONDS = 8 * 3600
MAX_SESSIONS = 10_000            # the oldest unused session is dropped beyond this
MAX_FAILED_LOGINS = 5
LOCKOUT_SECONDS = 15 * 60


@dataclass
class Session:
    """One browser: its cookie token, its CSRF token and, once logged in, the user name and role."""

    token: str
    csrf: str
    user: str | None = None
    role: str | None = None
    last_seen: float = field(default=0.0, compare=False)


class SessionStore:
    """Sessions in memory (a restart logs everyone out), dropped after `idle_seconds` without a request.
    `db` is taken for the interface of the database-backed store and not used here."""

    def __init__(self, db: object = None, *, idle_seconds: float = SESSION_IDLE_SECONDS,
                 max_sessions: int = MAX_SESSIONS, clock: Callable[[], float] = time.monotonic):
        self.idle_seconds, self.max_sessions, self.clock = idle_seconds, max_sessions, clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def create(self) -> Session:
        """A new anonymous session with fresh random tokens (it carries the CSRF token of a login form)."""
        return self._add(Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), last_seen=self.clock()))

    def get(self, token: str | None) -> Session | None:
        """The live session with this token (and mark it used), or None."""
        if not token:
            return None
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            now = self.clock()
            if now - session.last_seen > self.idle_seconds:
                del self._sessions[token]
                return None
            session.last_seen = now
            self._sessions.move_to_end(token)
            return session

    def login(self, token: str | None, user_name: str, role: str) -> Session:
        """The session `token` becomes a logged-in one under a new token and CSRF token (no session fixation)."""
        self.logout(token)
        return self._add(Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), user_name, role,
                                 self.clock()))

    def logout(self, token: str | None) -> None:
        """Forget a session (logout, or replaced at login)."""
        if token:
            with self._lock:
                self._sessions.pop(token, None)

    def _add(self, session: Session) -> Session:
        with self._lock:
            self._sessions[session.token] = session
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        return session


class LoginThrottle:
    """After `max_failures` failed logins from one address, refuse its logins for `lockout_seconds`."""

    def __init__(self, db: object = None, *, max_failures: int = MAX_FAILED_LOGINS,
                 lockout_seconds: float = LOCKOUT_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.max_failures, self.lockout_seconds, self.clock = max_failures, lockout_seconds, clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def allowed(self, address: str) -> bool:
        """False while `address` has too many recent failures."""
        with self._lock:
            return len(self._recent(address)) < self.max_failures

    def failed(self, address: str) -> None:
        with self._lock:
            self._recent(address).append(self.clock())

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)

    def _recent(self, address: str) -> list[float]:
        horizon = self.clock() - self.lockout_seconds
        recent = [t for t in self._failures.get(address, []) if t > horizon]
        self._failures[address] = recent
        return recent
