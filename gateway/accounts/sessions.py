"""Web sessions kept in the database: a restart logs nobody out, and several processes share them.

The cookie's token is random (`secrets`) and only its sha256 is stored, so reading the database gives no
live cookie; the CSRF token is derived from the token, so it is not stored at all. A session ends after
`idle_seconds` without a request, at logout, and when its user is removed or their password changes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from gateway.accounts.users import check_role, config_login, credential_stamp
from gateway.clock import as_utc, now
from gateway.db import schema
from gateway.db.engine import Database
from gateway.errors import NotFoundError
from gateway.settings import WebSettings

SESSION_IDLE_SECONDS = 8 * 3600
TOUCH_SECONDS = 60          # last_seen is written at most this often per session (a read per request else)
MAX_TOKEN_CHARS = 200       # a longer cookie is no session, without hashing it


@dataclass(frozen=True)
class Session:
    """One browser: its cookie token, its CSRF token and, once logged in, the user's name and live role."""

    token: str
    csrf: str
    user: str | None
    role: str | None

    def csrf_matches(self, submitted: object) -> bool:
        """True when `submitted` is this session's CSRF token (compared in constant time)."""
        if not isinstance(submitted, str) or not submitted:
            return False
        return hmac.compare_digest(submitted.encode("utf-8", "surrogatepass"), self.csrf.encode())


def token_hash(token: str) -> str:
    """What the database stores for a token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _csrf(token: str) -> str:
    return hmac.new(token.encode("utf-8"), b"stockgate csrf", hashlib.sha256).hexdigest()


class SessionStore:
    """Sessions in the `web_sessions` table. `web` is the configuration's `[web]` section: its login (an
    admin) may log in too, and its sessions end when its password hash changes in the file."""

    def __init__(self, db: Database, idle_seconds: float = SESSION_IDLE_SECONDS, *, web: WebSettings | None = None,
                 touch_seconds: float = TOUCH_SECONDS, clock: Callable[[], datetime] = now):
        self.db, self.web, self.clock = db, web, clock
        self.idle = timedelta(seconds=idle_seconds)
        self.touch = timedelta(seconds=touch_seconds)

    def create(self) -> Session:
        """A new anonymous session (it carries a CSRF token for the login form). Idle sessions are
        dropped here too, so the table holds only live ones."""
        token, at = secrets.token_urlsafe(32), self.clock()
        s = schema.web_sessions
        with self.db.write() as conn:
            conn.execute(delete(s).where(s.c.last_seen_at < at - self.idle))
            conn.execute(s.insert().values(token_hash=token_hash(token), created_at=at, last_seen_at=at))
        return Session(token, _csrf(token), None, None)

    def get(self, token: object) -> Session | None:
        """The live session with this token, or None (unknown, idle too long, or its user gone or with
        another password: such a session is deleted)."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            return None
        s, u = schema.web_sessions.c, schema.users.c
        key = token_hash(token)
        with self.db.read() as conn:
            row = conn.execute(
                select(s.user_id, s.user_name, s.credential, s.last_seen_at, u.name, u.role, u.password_hash)
                .select_from(schema.web_sessions.outerjoin(schema.users, u.id == s.user_id))
                .where(s.token_hash == key)).first()
        if row is None:
            return None
        at = self.clock()
        last_seen = as_utc(row.last_seen_at)
        user = self._live_user(row)
        if at - last_seen > self.idle or user is False:
            self._drop(key)
            return None
        if at - last_seen >= self.touch:
            with self.db.write() as conn:
                conn.execute(update(schema.web_sessions).where(s.token_hash == key).values(last_seen_at=at))
        name, role = user if user else (None, None)
        return Session(token, _csrf(token), name, role)

    def _live_user(self, row) -> tuple[str, str] | None | bool:
        """(name, role) of a logged-in session's user, None for an anonymous one, False when it must end."""
        if row.user_name is None:
            return None
        if row.user_id is not None:
            if row.name is None or credential_stamp(row.password_hash) != row.credential:
                return False
            return row.name, row.role
        login = config_login(self.web)
        if login is None or login[0] != row.user_name or credential_stamp(login[1]) != row.credential:
            return False
        return login[0], "admin"

    def login(self, token: object, user_name: str, role: str) -> Session:
        """Log `user_name` in: the session `token` ends and a new one, with a new token, is returned (a token
        handed out before the login is worth nothing after it). `role` must be a role's name, but the session
        gets its user's own: a database user's, read again at every request, or admin for the `[web]` login.
        NotFoundError for a name that is neither (fails closed)."""
        check_role(role)
        u = schema.users.c
        new, at = secrets.token_urlsafe(32), self.clock()
        with self.db.write() as conn:
            if isinstance(token, str) and token:
                conn.execute(delete(schema.web_sessions).where(schema.web_sessions.c.token_hash == token_hash(token)))
            row = conn.execute(select(u.id, u.role, u.password_hash).where(u.name == user_name)).first()
            login = config_login(self.web)
            if row is not None:
                values = {"user_id": row.id, "role": row.role, "credential": credential_stamp(row.password_hash)}
            elif login is not None and login[0] == user_name:
                values = {"user_id": None, "role": "admin", "credential": credential_stamp(login[1])}
            else:
                raise NotFoundError(f"no user {user_name!r} to log in")
            conn.execute(schema.web_sessions.insert().values(token_hash=token_hash(new), user_name=user_name,
                                                             created_at=at, last_seen_at=at, **values))
        return Session(new, _csrf(new), user_name, values["role"])

    def logout(self, token: object) -> None:
        """End the session `token` (nothing happens for an unknown one)."""
        if isinstance(token, str) and token and len(token) <= MAX_TOKEN_CHARS:
            self._drop(token_hash(token))

    def _drop(self, key: str) -> None:
        with self.db.write() as conn:
            conn.execute(delete(schema.web_sessions).where(schema.web_sessions.c.token_hash == key))
