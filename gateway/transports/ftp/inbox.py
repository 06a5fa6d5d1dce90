"""Bookkeeping of FTP inboxes: which temporary-name uploads completed, the staging folder completed
uploads wait in until `receive_file` has spooled them, and the quarantine for what a crash left behind.

A file with a final name in an inbox or one of its sub-folders is always an upload in progress (a
completed one is moved to staging at once), so at start-up every such file, every staged file, and
every temporary-name file without a completion record is a partial upload: it is quarantined, never
processed. Sub-folders themselves are left in place.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from pathlib import Path

from channels.stability import is_temporary_name
from gateway.clock import now
from gateway.filenames import fit_name, name_limit
from gateway.transports.ftp.access import INBOX

log = logging.getLogger(__name__)


def staging_dir(data_dir: Path) -> Path:
    """Where completed FTP uploads wait for `receive_file` (outside every home)."""
    return Path(data_dir) / "ftp-staging"


def quarantine_dir(data_dir: Path) -> Path:
    """Partial uploads and files that could not be received: kept for inspection, never processed."""
    return Path(data_dir) / "quarantine"


class UploadRecords:
    """Completed uploads under temporary names (`x.csv.part`), remembered by size and mtime in
    `<data_dir>/ftp-state/completed.json`, so a rename to the final name is accepted only for a whole
    file, even across a restart. A file is known by its name inside the inbox (`sub/x.csv.part`)."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "ftp-state" / "completed.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._records: dict[str, list[int]] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._records = {}

    @staticmethod
    def _key(username: str, name: str) -> str:
        return f"{username}/{name}"

    def _save(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self._records, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)

    def remember(self, username: str, name: str, path: Path) -> None:
        """Record that the upload `name` (at `path`) completed."""
        st = os.stat(path)
        with self._lock:
            self._records[self._key(username, name)] = [st.st_size, st.st_mtime_ns]
            self._save()

    def forget(self, username: str, name: str) -> None:
        with self._lock:
            if self._records.pop(self._key(username, name), None) is not None:
                self._save()

    def is_complete(self, username: str, name: str, path: Path) -> bool:
        """True when `name` (at `path`) is an upload that completed and has not changed since."""
        with self._lock:
            record = self._records.get(self._key(username, name))
        try:
            st = os.lstat(path)
        except OSError:
            return False
        return record is not None and [st.st_size, st.st_mtime_ns] == record

    def keep_only(self, username: str, names: set[str]) -> None:
        """Drop the records of `username` for files that are no longer there."""
        with self._lock:
            prefix = f"{username}/"
            stale = [k for k in self._records if k.startswith(prefix) and k[len(prefix):] not in names]
            for key in stale:
                del self._records[key]
            if stale:
                self._save()


def stage(data_dir: Path, path: Path) -> Path:
    """Move a completed upload out of the inbox to a fresh staging name (atomic, same file system)."""
    folder = staging_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{now():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    os.replace(path, target)
    return target


def quarantine(data_dir: Path, path: Path, label: str, name: str | None = None) -> Path:
    """Move `path` to the quarantine folder as `<time>-<tag>-<label>-<name>` (`name` defaults to the file's
    own; a sub-folder's `/` becomes `_`; the label and name shortened to fit the file system, the time and
    random tag kept); return where it went."""
    folder = quarantine_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    shown = (name or Path(path).name).replace("/", "_")
    target = folder / fit_name(f"{label}-{shown}", before=f"{now():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}-",
                               limit=name_limit(folder))
    os.replace(path, target)
    return target


def _quarantine_logged(data_dir: Path, path: Path, label: str, moved: list[Path], name: str | None = None) -> None:
    """Quarantine one leftover; a failure is logged and the file left where it is (start-up goes on)."""
    try:
        moved.append(quarantine(data_dir, path, label, name))
    except OSError as exc:
        log.error("partial upload could not be quarantined path=%s error=%s (left in place; it is not "
                  "processed)", path, exc.strerror or exc)


def quarantine_partial_uploads(data_dir: Path, homes: dict[str, Path], records: UploadRecords) -> list[Path]:
    """Quarantine what a crash left: staged files never received, final-name files in inboxes and
    temporary-name files with no completion record. Return the quarantined paths. One file that cannot
    be moved is logged and skipped: it never stops the server from starting."""
    moved: list[Path] = []
    folder = staging_dir(data_dir)
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            _quarantine_logged(data_dir, path, "staged", moved)
    for username, home in homes.items():
        kept = set()
        for path, name in _inbox_files(home / INBOX):
            if is_temporary_name(path.name) and records.is_complete(username, name, path):
                kept.add(name)
                continue
            _quarantine_logged(data_dir, path, username, moved, name)
        records.keep_only(username, kept)
    for path in moved:
        log.warning("partial upload quarantined path=%s (left by an earlier stop; it is not processed)", path)
    return moved


def _inbox_files(inbox: Path) -> list[tuple[Path, str]]:
    """Every entry of `inbox` and its sub-folders that is not a real folder (symbolic links included, never
    followed), with its name inside the inbox (`sub/x.csv`)."""
    found = []
    for folder, dirs, files in os.walk(inbox):
        dirs.sort()
        below = Path(folder)
        for entry in sorted(files + [d for d in dirs if (below / d).is_symlink()]):
            path = below / entry
            found.append((path, path.relative_to(inbox).as_posix()))
    return found
