"""Who is asking: the roles and their order, when a login is asked for, the CSRF token comparison and
the session cookie's name and attributes. Credentials are checked by `gateway.accounts.users.authenticate`.

A login is asked for whenever `web.username` and `web.password_hash` are configured, or any user exists
in the database (`stockgate users add`), or `web.host` is not a loopback address (settings refuse that
without a `[web]` login anyway); otherwise every visitor is let in as `admin`, as before accounts.
"""

from __future__ import annotations

import hmac

from gateway.accounts.users import ROLES, config_login, has_users, role_allows  # noqa: F401 (the rooms' import)
from gateway.db.engine import Database
from gateway.settings import WebSettings, is_loopback_host

SESSION_COOKIE = "sg_session"
OPEN_USER = ("local", "admin")            # who an open loopback page (no login configured) serves


def login_required(web: WebSettings, db: Database | None = None) -> bool:
    """True when every route but the public ones needs a login: a `[web]` login is configured, the page is
    not on loopback (fails closed), or `db` holds a user."""
    if config_login(web) is not None or not is_loopback_host(web.host):
        return True
    return db is not None and has_users(db)


def csrf_matches(expected: str | None, submitted: object) -> bool:
    """True when `submitted` is the session's CSRF token `expected`."""
    if not expected or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(submitted.encode("utf-8", "surrogatepass"), expected.encode())


def session_cookie(token: str | None) -> str:
    """The Set-Cookie value that hands out `token` (or, for None, clears the cookie)."""
    if token is None:
        return f"{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    return f"{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
