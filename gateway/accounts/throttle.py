"""The login throttle, in the database so that every process sees the same failures: after 5 failed
logins from one address within 15 minutes, that address's logins are refused until the oldest of those
failures is 15 minutes old (the rule the in-memory throttle of the web page had)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from gateway.clock import now
from gateway.db import schema
from gateway.db.engine import Database

MAX_FAILED_LOGINS = 5
LOCKOUT_SECONDS = 15 * 60


class LoginThrottle:
    """Failed logins per client address, kept `lockout_seconds`; `allowed` is False at `max_failures`."""

    def __init__(self, db: Database, max_failures: int = MAX_FAILED_LOGINS, lockout_seconds: float = LOCKOUT_SECONDS,
                 *, clock: Callable[[], datetime] = now):
        self.db, self.max_failures, self.clock = db, max_failures, clock
        self.window = timedelta(seconds=lockout_seconds)

    @staticmethod
    def _key(address: str) -> str:
        return str(address)[:100]

    def allowed(self, address: str) -> bool:
        """False while `address` has `max_failures` failures within the window: refuse its login unchecked."""
        f = schema.login_failures.c
        with self.db.read() as conn:
            recent = conn.execute(select(func.count()).where(f.address == self._key(address),
                                                             f.at > self.clock() - self.window)).scalar()
        return recent < self.max_failures

    def failed(self, address: str) -> None:
        """Count a failed login from `address` (and forget every failure older than the window)."""
        at = self.clock()
        with self.db.write() as conn:
            conn.execute(delete(schema.login_failures).where(schema.login_failures.c.at <= at - self.window))
            conn.execute(schema.login_failures.insert().values(address=self._key(address), at=at))

    def succeeded(self, address: str) -> None:
        """A login from `address` succeeded: its failures are forgotten."""
        with self.db.write() as conn:
            conn.execute(delete(schema.login_failures).where(schema.login_failures.c.address == self._key(address)))
