"""The shared rule for "is this file complete?": temporary names are ignored, and a file is ready when
its size and mtime were the same on two looks `stable_seconds` apart, or (marker mode) when NAME.done or
NAME.ok exists beside it. The feed adapter reads its order files by it, and the gateway's FTP inbox and
file sources use it too (here, because channels/ imports nothing from gateway/).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field

TEMPORARY_SUFFIXES = (".tmp", ".part", ".filepart")
MARKER_SUFFIXES = (".done", ".ok")


@dataclass(frozen=True)
class RemoteEntry:
    """One file as a listing shows it: its name (no folder), size in bytes and mtime (POSIX seconds;
    whole seconds over SFTP, fractional for a local folder). `version` is what else the store can tell
    apart one version of the file from another (a local folder: device, inode, size and the mtime and
    ctime in nanoseconds; empty over SFTP, which shows no more than size and mtime)."""

    name: str
    size: int
    mtime: float
    version: tuple = field(default=(), compare=False)


def is_temporary_name(name: str) -> bool:
    """True for names a writer uses while a file is incomplete: `*.tmp`, `*.part`, `*.filepart`, `.x`."""
    return name.startswith(".") or name.lower().endswith(TEMPORARY_SUFFIXES)


def is_marker_name(name: str) -> bool:
    """True for `NAME.done` / `NAME.ok` completion markers."""
    return name.lower().endswith(MARKER_SUFFIXES)


def matches_pattern(name: str, pattern: str) -> bool:
    """fnmatch, without regard to case (an ERP writing `STOCK.CSV` matches `*.csv`)."""
    return fnmatch.fnmatchcase(name.lower(), (pattern or "*").lower())


def markers_for(name: str, names: Iterable[str]) -> list[str]:
    """The completion markers of `name` present among `names` (NAME.done, NAME.ok)."""
    present = set(names)
    return [name + suffix for suffix in MARKER_SUFFIXES if name + suffix in present]


def candidates(entries: Iterable[RemoteEntry], pattern: str, *, done_marker: bool) -> list[RemoteEntry]:
    """Entries that may be data files: matching `pattern`, not temporary, not a marker in marker mode."""
    return [e for e in entries if matches_pattern(e.name, pattern) and not is_temporary_name(e.name)
            and not (done_marker and is_marker_name(e.name))]


class StabilityTracker:
    """Remembers, per file name, the size and mtime first seen and when, to decide when a file is stable.

    `observe` returns True when the file had the same size and mtime on two looks at least
    `stable_seconds` apart (with `stable_seconds = 0`, on the first look). Times are from a monotonic
    clock, passed in by the caller.
    """

    def __init__(self, stable_seconds: float):
        self.stable_seconds = max(0.0, float(stable_seconds))
        self._seen: dict[str, tuple[int, float, float]] = {}

    def observe(self, entry: RemoteEntry, at: float) -> bool:
        """Record one look at `entry`; True when it is stable."""
        seen = self._seen.get(entry.name)
        if seen is None or seen[:2] != (entry.size, entry.mtime):
            self._seen[entry.name] = (entry.size, entry.mtime, at)
            return self.stable_seconds == 0
        return at - seen[2] >= self.stable_seconds

    def ready_at(self, name: str) -> float | None:
        """When the file `name` becomes stable if it does not change again (None: never seen)."""
        seen = self._seen.get(name)
        return None if seen is None else seen[2] + self.stable_seconds

    def forget(self, name: str) -> None:
        """Drop what is known about `name` (fetched, vanished, or changed during a fetch)."""
        self._seen.pop(name, None)

    def keep_only(self, names: Iterable[str]) -> None:
        """Forget every file not in `names` (gone from the listing)."""
        keep = set(names)
        for name in [n for n in self._seen if n not in keep]:
            del self._seen[name]

    @property
    def pending(self) -> list[str]:
        """Names seen but not yet fetched."""
        return list(self._seen)
