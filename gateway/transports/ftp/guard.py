"""What the FTP server refuses before touching anything: addresses locked out after repeated failed
logins, and path arguments that try to leave the home (backslashes, NUL, control characters, `..`,
look-alike dots and slashes).
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0


class LoginGuard:
    """Counts failed logins per address; after `max_failures` in a row the address is locked out for
    `lockout_seconds`. Unknown user names count like wrong passwords. In memory: a restart forgets."""

    def __init__(self, max_failures: int, lockout_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.max_failures = max(1, max_failures)
        self.lockout_seconds = max(0.0, lockout_seconds)
        self._clock = clock
        self._by_address: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def seconds_locked(self, address: str) -> float:
        """How long `address` stays locked out (0 when it may try to log in)."""
        with self._lock:
            entry = self._by_address.get(address)
            if entry is None or not entry.locked_until:
                return 0.0
            remaining = entry.locked_until - self._clock()
            if remaining <= 0:
                del self._by_address[address]     # the lockout is over: a fresh start
                return 0.0
            return remaining

    def record_failure(self, address: str) -> bool:
        """Count one failed login from `address`; True when this failure locks the address out."""
        with self._lock:
            entry = self._by_address.setdefault(address, _Failures())
            entry.count += 1
            if entry.count >= self.max_failures and not entry.locked_until:
                entry.locked_until = self._clock() + self.lockout_seconds
                return True
            return False

    def record_success(self, address: str) -> None:
        """A successful login clears the address's count of failures."""
        with self._lock:
            self._by_address.pop(address, None)


_LOOKALIKES = "./\\"


def path_refusal(argument: str) -> str | None:
    """Why an FTP path argument is refused, or None when it may be resolved inside the home.

    Refused: NUL and other control characters, backslashes (Windows separators and UNC paths), any `..`
    segment, and characters that normalise (NFKC) to dots or slashes, such as full-width dots.
    """
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in argument):
        return "control characters are not allowed in names"
    if "\\" in argument:
        return "backslashes are not allowed in names"
    if any(segment == ".." for segment in argument.split("/")):
        return "'..' is not allowed in paths"
    normalised = unicodedata.normalize("NFKC", argument)
    if any(normalised.count(ch) != argument.count(ch) for ch in _LOOKALIKES):
        return "characters that look like dots or slashes are not allowed in names"
    return None
