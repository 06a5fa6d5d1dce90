"""Access tokens of a channel, refreshed once for every worker and process that uses the channel.

`TokenRefresher.token()` answers the token in memory while it has more than `margin_seconds` left;
otherwise it reads the channel's `TokenStore` (another process may have refreshed it) and only then, holding
the store's refresh lock, asks the marketplace for a new one, reading the store once more under the lock so
that two processes waiting on it refresh once. `refused(token)` is called on a 401: the token is dropped
here and from the store (if the store still holds that one), and the next `token()` fetches a new one.
The gateway's store keeps the token in a 0600 file and takes the lock as a database lease
(`gateway.channel_sync.token_store`); `MemoryTokenStore` serves one process (tests, a one-off check).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ContextManager, Protocol


@dataclass(frozen=True)
class AccessToken:
    """A bearer token and when it stops working (POSIX seconds)."""

    value: str
    expires_at: float

    def fresh(self, now: float, margin: float) -> bool:
        """More than `margin` seconds of life left at `now`."""
        return self.expires_at - now > margin


class TokenStore(Protocol):
    """Where a channel's current token is shared between processes."""

    def load(self) -> AccessToken | None:
        """The stored token, or None."""

    def save(self, token: AccessToken) -> None:
        """Store `token` for every process of the channel."""

    def discard(self, value: str) -> None:
        """Forget the stored token if it is `value` (the marketplace refused it)."""

    def refresh_lock(self) -> ContextManager[None]:
        """Held by one process at a time while it asks the marketplace for a token."""


class MemoryTokenStore:
    """A token store for one process."""

    def __init__(self) -> None:
        self._token: AccessToken | None = None
        self._lock = threading.Lock()

    def load(self) -> AccessToken | None:
        return self._token

    def save(self, token: AccessToken) -> None:
        self._token = token

    def discard(self, value: str) -> None:
        if self._token is not None and self._token.value == value:
            self._token = None

    @contextlib.contextmanager
    def refresh_lock(self) -> Iterator[None]:
        with self._lock:
            yield


class TokenRefresher:
    """Hands out the channel's access token, fetching a new one (`fetch`) only when none usable is stored.
    `on_new` is told every token fetched (the adapter's redactor hides it from logs)."""

    def __init__(self, fetch: Callable[[], AccessToken], store: TokenStore | None = None, *,
                 margin_seconds: float = 60.0, now: Callable[[], float] = time.time,
                 on_new: Callable[[str], None] = lambda value: None):
        self._fetch, self._store = fetch, store or MemoryTokenStore()
        self.margin, self._now, self._on_new = float(margin_seconds), now, on_new
        self._token: AccessToken | None = None
        self._lock = threading.Lock()
        self.fetches = 0                      # tokens this process asked the marketplace for

    def token(self) -> str:
        """A token with more than the margin left: in memory, from the store, or fetched."""
        current = self._token
        if current is not None and current.fresh(self._now(), self.margin):
            return current.value
        with self._lock:
            current = self._usable(self._token) or self._usable(self._store.load())
            if current is None:
                with self._store.refresh_lock():
                    current = self._usable(self._store.load())
                    if current is None:
                        current = self._fetch()
                        self.fetches += 1
                        self._on_new(current.value)
                        self._store.save(current)
            self._on_new(current.value)
            self._token = current
            return current.value

    def refused(self, value: str) -> None:
        """The marketplace answered 401 to `value`: never hand it out again."""
        with self._lock:
            if self._token is not None and self._token.value == value:
                self._token = None
            self._store.discard(value)

    def _usable(self, token: AccessToken | None) -> AccessToken | None:
        return token if token is not None and token.fresh(self._now(), self.margin) else None
