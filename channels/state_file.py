"""A JSON document on disk that several processes may read and change: a lock file, atomic replaces.

Changes happen under an exclusive `fcntl` lock on `<name>.lock`; the new document is written to a
temporary name, flushed and renamed over the old one, so a reader never sees half a document and a crash
leaves either the old or the new state.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from channels.errors import ChannelConfigError


class StateFileError(ChannelConfigError):
    """A state file that cannot be read (damaged by hand or by a full disk): the message says which."""


class StateFile:
    """A JSON document at `path`; `empty()` gives the document used before the file exists."""

    def __init__(self, path: Path, empty: Callable[[], dict[str, Any]]):
        self.path = Path(path)
        self._empty = empty
        self._lock_path = self.path.with_name(self.path.name + ".lock")

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a+") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _load(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return self._empty()
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StateFileError(f"{self.path} is not valid JSON ({exc.msg} at line {exc.lineno}): restore it "
                                 "from a backup, or move it aside to start from an empty state") from None
        if not isinstance(document, dict):
            raise StateFileError(f"{self.path} does not hold a JSON object: restore it from a backup, or move "
                                 "it aside to start from an empty state")
        return document

    def read(self) -> dict[str, Any]:
        """The current document (a copy: changing it changes nothing on disk)."""
        with self._locked(exclusive=False):
            return self._load()

    @contextlib.contextmanager
    def change(self) -> Iterator[dict[str, Any]]:
        """Hold the lock, yield the document to change in place, write it back when the block succeeds."""
        with self._locked(exclusive=True):
            document = self._load()
            yield document
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(document, fh, ensure_ascii=False, indent=1, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
