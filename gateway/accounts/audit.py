"""The audit log: who did what, when (UTC), to what. One row per action; secrets never go in."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from gateway.clock import as_utc, iso, now
from gateway.db import schema
from gateway.db.engine import Database
from gateway.errors import UsageError

REDACTED = "[redacted]"
# A detail key containing one of these words is never stored with its value (a password, its hash, a cookie).
SECRET_WORDS = ("password", "passwd", "hash", "token", "secret", "csrf", "cookie", "credential")
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class AuditEntry:
    """One recorded action: `actor` (web:NAME, cli:OS_USER) did `action` to `target` at `at`."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    detail: dict

    def as_dict(self) -> dict:
        """The entry as `stockgate audit --json` prints it."""
        return {"id": self.id, "at": iso(self.at), "actor": self.actor, "action": self.action,
                "target": self.target, "detail": self.detail}


def _scrub(value):
    """`value` with every secret-looking key's value, and every argon2 hash, replaced by REDACTED."""
    if isinstance(value, dict):
        return {str(k): REDACTED if any(w in str(k).lower() for w in SECRET_WORDS) else _scrub(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    if isinstance(value, str) and value.startswith("$argon2"):
        return REDACTED
    return value


def record(conn_or_db: Connection | Database, *, actor: str, action: str, target: str | None,
           detail: dict | None = None, clock: Callable[[], datetime] = now) -> None:
    """Write one entry; given a connection, in its transaction (so the entry stands or falls with the
    change it describes), given a Database, in a transaction of its own."""
    if isinstance(conn_or_db, Database):
        with conn_or_db.write() as conn:
            record(conn, actor=actor, action=action, target=target, detail=detail, clock=clock)
        return
    text = json.dumps(_scrub(detail), ensure_ascii=False, default=str, sort_keys=True) if detail else None
    conn_or_db.execute(schema.audit_log.insert().values(
        at=clock(), actor=actor[:200], action=action[:60], target=_scrub(target), detail=text))


def entries(db: Database, *, actor: str | None = None, action: str | None = None, since: datetime | None = None,
            until: datetime | None = None, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
    """Entries newest first, filtered by exact actor, exact action and time (`since` inclusive, `until`
    exclusive)."""
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise UsageError(f"an audit listing takes a limit of 1 to {MAX_LIMIT:,} and an offset of 0 or more "
                         f"(not {limit} and {offset})")
    a = schema.audit_log.c
    query = select(a.id, a.at, a.actor, a.action, a.target, a.detail)
    if actor is not None:
        query = query.where(a.actor == actor)
    if action is not None:
        query = query.where(a.action == action)
    if since is not None:
        query = query.where(a.at >= since)
    if until is not None:
        query = query.where(a.at < until)
    query = query.order_by(a.at.desc(), a.id.desc()).limit(limit).offset(offset)
    with db.read() as conn:
        rows = conn.execute(query).all()
    return [AuditEntry(r.id, as_utc(r.at), r.actor, r.action, r.target, json.loads(r.detail) if r.detail else {})
            for r in rows]
