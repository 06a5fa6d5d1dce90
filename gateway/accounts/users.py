"""Web users: a name, an argon2 password hash (as the FTP accounts') and a role; the login check.

Roles, each allowing what the one below it does: `viewer` reads, `operator` also acts on files, stock,
listings and orders, `admin` also edits settings and users. The `[web]` username/password_hash of the
configuration is a login too: an admin that lives in the file, not in the database.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, select, update

from gateway.accounts import audit
from gateway.clock import as_utc, iso, now
from gateway.db import schema
from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.passwords import hash_password, verify_password
from gateway.settings import WebSettings

ROLES = ("viewer", "operator", "admin")          # each allows what the ones before it do
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
MIN_PASSWORD_CHARS = 8
MAX_CREDENTIAL_CHARS = 1024      # longer names or passwords are refused at login without hashing them
CONFIG_SOURCE, DATABASE_SOURCE = "config", "database"


@dataclass(frozen=True)
class User:
    """A login: `source` says whether it is a database user or the configuration's `[web]` one."""

    name: str
    role: str
    source: str = DATABASE_SOURCE
    created_at: datetime | None = None
    password_changed_at: datetime | None = None

    def as_dict(self) -> dict:
        """The user as `stockgate users list --json` prints it (never the hash)."""
        return {"name": self.name, "role": self.role, "source": self.source, "created_at": iso(self.created_at),
                "password_changed_at": iso(self.password_changed_at)}


def role_allows(role: str | None, needed: str) -> bool:
    """True when `role` may do what `needed` (a role name) may: `role_allows("admin", "operator")`."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def credential_stamp(password_hash: str) -> str:
    """A digest of a password hash: a session remembers it, and ends when the password changes."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()


def config_login(web: WebSettings | None) -> tuple[str, str] | None:
    """(username, password_hash) of the configuration's `[web]` login, or None when none is set."""
    if web is None or not (web.username and web.password_hash):
        return None
    return web.username, web.password_hash


def check_role(role: object) -> str:
    if role not in ROLES:
        raise UsageError(f"role {role!r} is not one of {', '.join(reversed(ROLES))}")
    return role


def check_name(name: object) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise UsageError(f"user name {name!r} must be 1-100 letters, digits, '.', '_', '@' or '-', "
                         "starting with a letter or digit")
    return name


def _hash_new_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise UsageError(f"a password must have at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_CREDENTIAL_CHARS:
        raise UsageError(f"a password must have at most {MAX_CREDENTIAL_CHARS} characters")
    return hash_password(password)


def _row(conn: Connection, name: str, *, lock: bool = False):
    u = schema.users.c
    query = select(u.id, u.name, u.role, u.password_hash).where(u.name == name)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFoundError(f"no user {name!r} (`stockgate users list` shows them)")
    return row


def _lock_admins(conn: Connection) -> list[int]:
    """Lock every admin's row, in id order (so that two changes never wait for each other), and return
    their ids: a change that could take the last admin away takes these first, so two cannot both pass."""
    u = schema.users.c
    return conn.execute(select(u.id).where(u.role == "admin").order_by(u.id).with_for_update()).scalars().all()


def _keep_an_admin(admins: list[int], row, what: str) -> None:
    """Refuse to take the last admin away."""
    if row.role == "admin" and row.id in admins and len(admins) <= 1:
        raise UsageError(f"{row.name!r} is the last admin: add another admin before you {what}")


def add_user(db: Database, name: str, password: str, role: str, *, actor: str | None = None) -> User:
    """Create a user; the name must be new (without regard to case). With `actor`, audited."""
    check_name(name)
    check_role(role)
    password_hash = _hash_new_password(password)
    at = now()
    u = schema.users.c
    with db.write() as conn:
        taken = conn.execute(select(u.name).where(func.lower(u.name) == name.lower())).scalar()
        if taken is not None:
            raise UsageError(f"user {taken!r} exists already (names are unique without regard to case)")
        conn.execute(schema.users.insert().values(name=name, password_hash=password_hash, role=role,
                                                  created_at=at, password_changed_at=at))
        if actor:
            audit.record(conn, actor=actor, action="user.add", target=name, detail={"role": role})
    return User(name, role, DATABASE_SOURCE, at, at)


def set_password(db: Database, name: str, password: str, *, actor: str | None = None) -> None:
    """Give a user a new password; every session of theirs ends."""
    password_hash = _hash_new_password(password)
    with db.write() as conn:
        row = _row(conn, name, lock=True)
        conn.execute(update(schema.users).where(schema.users.c.id == row.id)
                     .values(password_hash=password_hash, password_changed_at=now()))
        conn.execute(delete(schema.web_sessions).where(schema.web_sessions.c.user_id == row.id))
        if actor:
            audit.record(conn, actor=actor, action="user.passwd", target=name)


def set_role(db: Database, name: str, role: str, *, actor: str | None = None) -> None:
    """Change a user's role (effective at their next request); the last admin keeps being one."""
    check_role(role)
    with db.write() as conn:
        admins = _lock_admins(conn)
        row = _row(conn, name, lock=True)
        if row.role == role:
            return
        if role != "admin":
            _keep_an_admin(admins, row, f"make {name!r} {role}")
        conn.execute(update(schema.users).where(schema.users.c.id == row.id).values(role=role))
        if actor:
            audit.record(conn, actor=actor, action="user.role", target=name, detail={"from": row.role, "to": role})


def remove_user(db: Database, name: str, *, actor: str | None = None) -> None:
    """Delete a user and end their sessions; the last admin cannot be removed."""
    with db.write() as conn:
        admins = _lock_admins(conn)
        row = _row(conn, name, lock=True)
        _keep_an_admin(admins, row, f"remove {name!r}")
        conn.execute(delete(schema.web_sessions).where(schema.web_sessions.c.user_id == row.id))
        conn.execute(delete(schema.users).where(schema.users.c.id == row.id))
        if actor:
            audit.record(conn, actor=actor, action="user.remove", target=name, detail={"role": row.role})


def list_users(db: Database, web: WebSettings | None = None) -> list[User]:
    """The database's users by name; with `web`, the configuration's `[web]` login first."""
    u = schema.users.c
    with db.read() as conn:
        rows = conn.execute(select(u.name, u.role, u.created_at, u.password_changed_at).order_by(u.name)).all()
    found = [User(r.name, r.role, DATABASE_SOURCE, as_utc(r.created_at), as_utc(r.password_changed_at))
             for r in rows]
    login = config_login(web)
    return ([User(login[0], "admin", CONFIG_SOURCE)] if login else []) + found


def has_users(db: Database) -> bool:
    """True when the database holds at least one user (then the web page asks for a login)."""
    with db.read() as conn:
        return conn.execute(select(schema.users.c.id).limit(1)).first() is not None


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the name is unknown, so that an unknown name costs what a known one does."""
    return hash_password("no such user: this password is never accepted")


def authenticate(db: Database, name: object, password: object, web: WebSettings | None = None) -> User | None:
    """The user whose name and password these are, else None. A database user comes first; then, with
    `web`, the configuration's `[web]` login (an admin). Exactly one argon2 check is made whether the name
    exists or not; odd input (not text, empty, over 1,024 characters) or any error is None: fails closed."""
    try:
        if not isinstance(name, str) or not isinstance(password, str) or not name or not password:
            return None
        if len(name) > MAX_CREDENTIAL_CHARS or len(password) > MAX_CREDENTIAL_CHARS:
            return None
        dummy = _dummy_hash()
        u = schema.users.c
        with db.read() as conn:
            row = conn.execute(select(u.name, u.role, u.password_hash, u.created_at, u.password_changed_at)
                               .where(u.name == name)).first()
        login = config_login(web)
        if row is not None:
            ok = verify_password(row.password_hash, password)
            return User(row.name, row.role, DATABASE_SOURCE, as_utc(row.created_at),
                        as_utc(row.password_changed_at)) if ok else None
        if login is not None and hmac.compare_digest(name.encode("utf-8", "surrogatepass"), login[0].encode("utf-8")):
            return User(login[0], "admin", CONFIG_SOURCE) if verify_password(login[1], password) else None
        verify_password(dummy, password)
        return None
    except Exception:
        return None
