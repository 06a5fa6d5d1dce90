"""Watched-folder sources: a watchdog observer wakes the source's poller when something changes in the
folder, a periodic rescan catches what events missed, and a file received is moved to `processed/`.

Only regular files directly in the folder are considered: sub-folders are not entered and symlinks are
never followed (a file is opened with O_NOFOLLOW, so one swapped for a link after the listing is refused).
A file's version is its device, inode, size, mtime and ctime: a file replaced by a rename, rewritten in
place, or rewritten with its old mtime put back (ctime cannot be set) is a new version.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from channels.stability import RemoteEntry
from gateway.errors import PermanentError, RetryableError
from gateway.intake import copy_to_new_file
from gateway.settings import SourceSettings
from gateway.transports.sources.pickup import name_beside

PROCESSED = "processed"


def version_of(info: os.stat_result) -> tuple:
    """What tells one version of a local file from another (see `RemoteEntry.version`)."""
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


class FolderStore:
    """A source's local folder (see `FileStore` in `pickup`); created when missing."""

    transport = "folder"
    version_shows_rewrites = True          # the ctime changes with every write, whatever the mtime says

    def __init__(self, source: SourceSettings):
        self.source = source
        self.folder = Path(source.path).absolute()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:          # e.g. the path is a file: said like a listing that fails
            raise RetryableError(f"source {source.name}: cannot use {self.folder} as its folder: {exc}") from exc

    def path_of(self, name: str) -> str:
        return str(self.folder / name)

    def list(self) -> list[RemoteEntry]:
        entries = []
        try:
            with os.scandir(self.folder) as listing:
                for item in listing:
                    if item.is_symlink():
                        continue                      # never followed, in or out of the folder
                    info = item.stat(follow_symlinks=False)
                    if stat.S_ISREG(info.st_mode):
                        entries.append(self._entry(item.name, info))
        except OSError as exc:
            raise RetryableError(f"source {self.source.name}: cannot list {self.folder}: {exc}") from exc
        return entries

    @staticmethod
    def _entry(name: str, info: os.stat_result) -> RemoteEntry:
        return RemoteEntry(name, info.st_size, info.st_mtime, version_of(info))

    def current(self, name: str) -> RemoteEntry | None:
        """The file `name` as it is now (None: gone, or no longer a regular file)."""
        try:
            info = os.lstat(self.folder / name)
        except FileNotFoundError:
            return None
        return self._entry(name, info) if stat.S_ISREG(info.st_mode) else None

    def fetch(self, entry: RemoteEntry, target: Path) -> tuple[int, str]:
        """Copy the file (opened without following links) to `target`. A byte count differing from the
        listing's size (-1 when the file is not the version listed, before or after the copy) tells the
        caller the file is still being written, or was replaced."""
        fd = os.open(self.folder / entry.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as src:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise PermanentError(f"{entry.name} is not a regular file")
            if entry.version and version_of(info) != entry.version:
                return -1, ""
            copied = copy_to_new_file(src, target)
            if version_of(os.fstat(fd)) != (entry.version or version_of(info)):
                return -1, ""
        return copied

    def acknowledge(self, entry: RemoteEntry, file_id: str, markers: Sequence[str]) -> str:
        """Move the file into `processed/` (or `move_to`; a name taken there gets the file id added),
        delete it, or keep it, per `after`; then remove its markers."""
        path = self.folder / entry.name
        try:
            if self.source.after == "delete":
                path.unlink()
                done = "deleted"
            elif self.source.after == "move":
                target_dir = self.folder / (self.source.move_to or PROCESSED)
                target_dir.mkdir(parents=True, exist_ok=True)
                target = target_dir / entry.name
                if target.exists() or target.is_symlink():
                    target = target_dir / name_beside(entry.name, file_id)
                os.rename(path, target)
                done = f"moved to {target}"
            else:
                done = "kept"
            for marker in markers:
                (self.folder / marker).unlink(missing_ok=True)
        except OSError as exc:
            raise PermanentError(f"received as file {file_id}, but `after = {self.source.after}` failed on "
                                 f"{path}: {exc.strerror} (retried at the next poll; not received again)") from exc
        return done


class _Wake(FileSystemEventHandler):
    def __init__(self, folder: Path, on_change: Callable[[], None]):
        self.folder, self.on_change = folder, on_change

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in ("opened", "closed_no_write"):
            return
        paths = [event.src_path, getattr(event, "dest_path", "")]
        if any(p and Path(os.fsdecode(p)).parent == self.folder for p in paths):
            self.on_change()


class FolderWatcher:
    """A watchdog observer on one folder (not recursive) calling `on_change` on any file event."""

    def __init__(self, folder: Path, on_change: Callable[[], None]):
        self.folder = Path(folder).absolute()
        self.on_change = on_change
        self._observer = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        observer = Observer()
        observer.daemon = True
        observer.schedule(_Wake(self.folder, self.on_change), str(self.folder), recursive=False)
        observer.start()
        self._observer = observer

    def stop(self, timeout: float = 5) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
            self._observer = None
