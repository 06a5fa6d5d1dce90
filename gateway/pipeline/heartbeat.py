"""A claim's heartbeat: while a worker processes a file, a small thread refreshes the file's `claimed_at`,
so recovery can tell a live claim (fresh heartbeat) from one abandoned by a dead or stuck worker.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Self

from sqlalchemy import update

from gateway.clock import now
from gateway.core.files import FileStatus
from gateway.db import schema
from gateway.db.engine import Database

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0
# a claim whose heartbeat is older than this is abandoned: well beyond any gap between two beats (on SQLite
# a beat waits for the file's own write transaction, bounded by the 30 s busy timeout)
STALE_AFTER = timedelta(minutes=2)
_JOIN_SECONDS = 5.0


class Heartbeat:
    """`with Heartbeat(db, file_id, worker_id):` keeps the worker's claim on the file fresh until the block
    ends. A beat that fails (database busy or away) is logged and tried again at the next interval."""

    def __init__(self, db: Database, file_id: str, worker_id: str, *, every: float | None = None):
        self.db, self.file_id, self.worker_id = db, file_id, worker_id
        self.every = every or HEARTBEAT_SECONDS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{file_id}", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(_JOIN_SECONDS)   # a beat waiting for a lock ends on its own; it changes nothing then

    def beat(self) -> bool:
        """Refresh `claimed_at`; False when the file is no longer `processing` under this worker's claim."""
        f = schema.files.c
        with self.db.write() as conn:
            result = conn.execute(update(schema.files)
                                  .where(f.file_id == self.file_id, f.status == FileStatus.PROCESSING.value,
                                         f.claimed_by == self.worker_id)
                                  .values(claimed_at=now()))
        return result.rowcount == 1

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                if not self.beat():
                    return   # finished, given back or taken back: nothing left to keep alive
            except Exception as exc:  # noqa: BLE001 - the next beat tries again; recovery waits STALE_AFTER
                log.warning("heartbeat of file %s failed: %s: %s", self.file_id, type(exc).__name__, exc)
