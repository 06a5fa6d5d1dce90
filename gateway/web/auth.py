"""Web logins: sessions in a random HttpOnly cookie, a CSRF token per session, a password check that fails
closed, and a throttle on failed logins per client address.

A login is asked for whenever `web.username` and `web.password_hash` are configured (settings refuse a
non-loopback `web.host` without them); without them, on loopback, every visitor is let in.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

from gateway.passwords import verify_password
from gateway.settings import WebSettings

SESSION_COOKIE = "sg_session"
SESSION_IDLE_SECONDS = 8 * 3600
MAX_SESSIONS = 10_000            # the oldest unused session is dropped beyond this
MAX_CREDENTIAL_CHARS = 1024      # longer user names or passwords are refused without hashing them
MAX_FAILED_LOGINS = 5
LOCKOUT_SECONDS = 15 * 60


@dataclass
class Session:
    """One browser: its cookie token, its CSRF token and, once logged in, the user name."""

    token: str
    csrf: str
    user: str | None
    last_seen: float


def login_required(web: WebSettings) -> bool:
    """True when credentials are configured: then every route but the public ones needs a login."""
    return bool(web.username and web.password_hash)


class SessionStore:
    """Sessions in memory (a restart logs everyone out), dropped after `idle_seconds` without a request."""

    def __init__(self, *, idle_seconds: float = SESSION_IDLE_SECONDS, max_sessions: int = MAX_SESSIONS,
                 clock: Callable[[], float] = time.monotonic):
        self.idle_seconds, self.max_sessions, self.clock = idle_seconds, max_sessions, clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

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

    def create(self, user: str | None = None) -> Session:
        """A new session with fresh random tokens."""
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), user, self.clock())
        with self._lock:
            self._sessions[session.token] = session
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        return session

    def drop(self, token: str) -> None:
        """Forget a session (logout, or replaced at login)."""
        with self._lock:
            self._sessions.pop(token, None)

    def logged_in_users(self) -> list[str]:
        """The user names of every session that is logged in."""
        with self._lock:
            return [s.user for s in self._sessions.values() if s.user is not None]


class LoginThrottle:
    """After `max_failures` failed logins from one address, refuse its logins for `lockout_seconds`."""

    def __init__(self, max_failures: int = MAX_FAILED_LOGINS, lockout_seconds: float = LOCKOUT_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.max_failures, self.lockout_seconds, self.clock = max_failures, lockout_seconds, clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def locked(self, address: str) -> bool:
        """True while `address` has too many recent failures."""
        with self._lock:
            recent = self._recent(address)
            return len(recent) >= self.max_failures

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


def check_credentials(web: WebSettings, username: object, password: object) -> bool:
    """True only when both match the configured login; anything odd (wrong types, huge values, a broken
    hash, an exception) is False: the check fails closed."""
    try:
        if not login_required(web) or not isinstance(username, str) or not isinstance(password, str):
            return False
        if not password or len(username) > MAX_CREDENTIAL_CHARS or len(password) > MAX_CREDENTIAL_CHARS:
            return False
        name_ok = hmac.compare_digest(username.encode("utf-8", "surrogatepass"), web.username.encode("utf-8"))
        password_ok = verify_password(web.password_hash, password)   # checked even for a wrong name
        return bool(name_ok and password_ok)
    except Exception:
        return False


def csrf_matches(session: Session | None, submitted: object) -> bool:
    """True when `submitted` is this session's CSRF token."""
    if session is None or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(submitted.encode("utf-8", "surrogatepass"), session.csrf.encode())


def session_token_from(cookie_header: str | None) -> str | None:
    """The session cookie's value from a Cookie header; None when absent or malformed."""
    if not cookie_header:
        return None
    cookie = SimpleCookie()
    try:
        cookie.load(cookie_header)
    except CookieError:
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel is not None and morsel.value else None


def session_cookie(session: Session | None) -> str:
    """The Set-Cookie value that hands out `session` (or, for None, clears the cookie)."""
    if session is None:
        return f"{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    return f"{SESSION_COOKIE}={session.token}; Path=/; HttpOnly; SameSite=Strict"
