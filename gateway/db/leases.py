"""Named leases in the database: one holder at a time, until it releases the lease or lets it expire.

Used for the single channel scheduler per database and for one poll of a source at a time. A holder is
`host:pid[:tag]`; a lease whose holder is a dead process of this host may be taken over at once.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import delete, select, update

from gateway.clock import as_utc, now
from gateway.db import schema
from gateway.db.engine import Database
from gateway.db.upsert import insert_ignore


def process_holder(tag: bool = True) -> str:
    """A holder name for this process: `host:pid`, plus a random tag unless `tag` is False."""
    base = f"{socket.gethostname()}:{os.getpid()}"
    return f"{base}:{uuid.uuid4().hex[:6]}" if tag else base


def holder_is_dead_local(holder: str) -> bool:
    """True when `holder` names a process of this host that no longer runs (it crashed holding a lease)."""
    host, _, rest = holder.partition(":")
    pid = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Lease:
    """A named lease row: held by one holder until it expires; `hold` takes or renews it."""

    def __init__(self, db: Database, name: str, holder: str, seconds: float):
        self.db, self.name, self.holder, self.seconds = db, name, holder, seconds

    def hold(self) -> bool:
        """Take the lease if it is free, expired or left by a dead local process; renew it if ours.
        Returns whether this holder has it now."""
        at = now()
        expires = at + timedelta(seconds=self.seconds)
        le = schema.leases.c
        with self.db.write() as conn:
            insert_ignore(conn, schema.leases, [{"name": self.name, "holder": self.holder, "expires_at": expires}],
                          ["name"])
            current = conn.execute(select(le.holder, le.expires_at).where(le.name == self.name)).one()
            if current.holder != self.holder and not (as_utc(current.expires_at) < at
                                                      or holder_is_dead_local(current.holder)):
                return False
            # the WHERE on the holder seen makes a concurrent take-over lose (PostgreSQL re-checks it)
            return bool(conn.execute(update(schema.leases).where(le.name == self.name, le.holder == current.holder)
                                     .values(holder=self.holder, expires_at=expires)).rowcount)

    def current_holder(self) -> str | None:
        """Who holds the lease now (expired or not), if anyone."""
        with self.db.read() as conn:
            return conn.execute(select(schema.leases.c.holder).where(schema.leases.c.name == self.name)).scalar()

    def release(self) -> None:
        """Give the lease up at once (another process may take it over without waiting for expiry)."""
        le = schema.leases.c
        with self.db.write() as conn:
            conn.execute(delete(schema.leases).where(le.name == self.name, le.holder == self.holder))
