"""Where a marketplace channel's access token is shared by every process: a 0600 file in the data folder,
refreshed under a database lease (`token:<channel>`), so two processes that find it stale refresh once.

The token never goes into the database: a database dump or the web pages cannot show it, and it is only
as readable as the data folder's owner makes it (the file is created 0600, in a 0700 folder). It lives at
most the marketplace's token lifetime (Walmart: 15 minutes) and is refused once the credentials change.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from channels.errors import RetryableChannelError
from channels.tokens import AccessToken
from gateway.db.engine import Database
from gateway.db.leases import Lease, process_holder

LOCK_WAIT_SECONDS = 30.0
LEASE_SECONDS = 30.0


def token_path(data_dir: Path, channel: str) -> Path:
    """`<data_dir>/tokens/<channel>.json`, the channel name made safe for a file name."""
    return Path(data_dir) / "tokens" / f"{re.sub(r'[^A-Za-z0-9._-]', '_', channel)}.json"


class FileTokenStore:
    """A channel's token in a 0600 file; the refresh lock is a database lease when `db` is given (every
    process sharing the database), a lock of this process otherwise."""

    def __init__(self, path: Path, channel: str, db: Database | None = None):
        self.path, self.channel, self.db = Path(path), channel, db
        self._local = None if db is not None else threading.Lock()

    def load(self) -> AccessToken | None:
        try:
            data = json.loads(self.path.read_text())
            return AccessToken(str(data["access_token"]), float(data["expires_at"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, token: AccessToken) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"access_token": token.value, "expires_at": token.expires_at}, out)
        os.replace(temporary, self.path)

    def discard(self, value: str) -> None:
        stored = self.load()
        if stored is not None and stored.value == value:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    @contextlib.contextmanager
    def refresh_lock(self) -> Iterator[None]:
        if self._local is not None:
            with self._local:
                yield
            return
        lease = Lease(self.db, f"token:{self.channel}"[:100], process_holder(), LEASE_SECONDS)
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while not lease.hold():
            if time.monotonic() > deadline:
                raise RetryableChannelError(f"channel {self.channel}: another process has been refreshing the "
                                            f"access token for {LOCK_WAIT_SECONDS:.0f} s (lease held by "
                                            f"{lease.current_holder()})")
            time.sleep(0.05)
        try:
            yield
        finally:
            lease.release()
