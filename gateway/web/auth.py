"""Who is asking: the roles and their order, the check of the configured login (fails closed), the CSRF
token comparison and the session cookie's name and attributes.

A login is asked for whenever `web.username` and `web.password_hash` are configured (settings refuse a
non-loopback `web.host` without them); without them, on loopback, every visitor is let in as `admin`.
"""

from __future__ import annotations

import hmac

from gateway.passwords import verify_password
from gateway.settings import WebSettings

SESSION_COOKIE = "sg_session"
MAX_CREDENTIAL_CHARS = 1024      # longer user names or passwords are refused without hashing them
ROLES = ("viewer", "operator", "admin")   # each may do what the ones before it may
CONFIGURED_USER_ROLE = "admin"            # the single login of `[web]` (until accounts with roles land)
OPEN_USER = ("local", "admin")            # who an open loopback page (no login configured) serves


def login_required(web: WebSettings) -> bool:
    """True when credentials are configured: then every route but the public ones needs a login."""
    return bool(web.username and web.password_hash)


def role_allows(role: str | None, needed: str) -> bool:
    """True when `role` is `needed` or above it in `ROLES`."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


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
