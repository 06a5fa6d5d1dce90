"""Pick up complete files from a source's store exactly once: fetch to a temporary name, check the byte
count, hand the file to `receive_file`, and only after that commit acknowledge the sender (delete, move).

Files found ready together are taken in the order of the moment they describe (the name's timestamp,
else the mtime; then the name), and a ready file waits while one seen beside it, older, is not yet
stable (`pickup_order`): files are applied in order of receipt, and a snapshot received after a newer
one is stale.

Table `remote_files` remembers every fetch by (source, path, size, mtime): `fetched` once the bytes are
downloaded, with the file id once received, `done` once acknowledged. A poll that finds a `fetched` row
resolves what an earlier, interrupted poll left: the file is received once, acknowledged once. Whatever
a row says, a file is only acknowledged once it is known to be the very version received: looked at
again right before the delete or move (a new version written meanwhile is left for the next poll), and
a file listed again under a known name, size and mtime (`keep`, or back after a move) has its content
compared with the received file's sha256 (a local folder's ctime spares that download).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import and_, select, update

from channels.stability import RemoteEntry, StabilityTracker, candidates, markers_for
from gateway.clock import as_utc, now
from gateway.db import schema
from gateway.db.engine import Database
from gateway.db.upsert import insert_ignore
from gateway.filenames import NAME_MAX, fit_name, split_extension
from gateway.intake import Delivery, receive_file
from gateway.settings import SourceSettings
from gateway.transports.sources.pickup_order import take_in_turn

log = logging.getLogger("stockgate.sources")
RECHECK_HASH_MAX_BYTES = 8 * 1024 * 1024   # over SFTP, a file up to this size is hashed again before delete/move


class FileStore(Protocol):
    """Where a source's files are: an SFTP folder or a local folder."""

    transport: str                                               # "sftp" | "folder"
    version_shows_rewrites: bool    # True: `RemoteEntry.version` changes with any write (no hash needed)

    def list(self) -> list[RemoteEntry]:
        """The files in the folder (no sub-folders, no symlinks)."""

    def current(self, name: str) -> RemoteEntry | None:
        """The file `name` as it is now; None when it is gone."""

    def path_of(self, name: str) -> str:
        """The full path of `name`, as remembered in `remote_files`."""

    def fetch(self, entry: RemoteEntry, target: Path) -> tuple[int, str]:
        """Copy the file to the new local file `target`; return (bytes copied, sha256 hex)."""

    def digest(self, entry: RemoteEntry) -> str:
        """The sha256 of the file's content now (needed when `version_shows_rewrites` is False)."""

    def acknowledge(self, entry: RemoteEntry, file_id: str, markers: Sequence[str]) -> str:
        """Tell the sender the file is safe (delete, move or keep it; remove its markers); say what was done."""


def name_beside(name: str, file_id: str, *, limit: int = NAME_MAX) -> str:
    """The name a received file is moved under when its own is taken: `stock.csv` -> `stock.<file_id>.csv`,
    its stem shortened (by bytes, the file id and extension kept) to fit in `limit` bytes."""
    stem, extension = split_extension(name)
    return fit_name(stem, after=f".{file_id}{extension}", limit=limit)


@dataclass
class PickupResult:
    """What one poll of a source did."""

    fetched: list[dict] = field(default_factory=list)    # {"name", "file_id", "size", "after"}
    waiting: list[str] = field(default_factory=list)     # not yet stable, or no marker yet
    errors: list[str] = field(default_factory=list)      # one line per file that failed

    def as_dict(self) -> dict:
        return {"fetched": self.fetched, "waiting": self.waiting, "errors": self.errors}


def delivery_for(source: SourceSettings, transport: str, entry: RemoteEntry) -> Delivery:
    """The Delivery of a file fetched from `source`: its warehouse, mode and options; as_of = its mtime."""
    return Delivery(
        name=entry.name, transport=transport, source=source.name, warehouse=source.warehouse,
        mode=source.mode, as_of=datetime.fromtimestamp(entry.mtime, UTC),
        options={"columns": dict(source.columns), "create_unknown_skus": source.create_unknown_skus,
                 "max_zero_fraction": source.max_zero_fraction, "min_rows": source.min_rows,
                 "sheet": source.sheet, "allowed_warehouses": [source.warehouse]})


class Pickup:
    """One source's poll: which files are ready, and fetching each exactly once."""

    def __init__(self, db: Database, data_dir: Path, source: SourceSettings, *,
                 receive: Callable[..., str] = receive_file, clock: Callable[[], float] = time.monotonic,
                 as_of_pattern: str = ""):
        self.db, self.data_dir, self.source = db, Path(data_dir), source
        self.tracker = StabilityTracker(source.stable_seconds)
        self.receive, self.clock, self.as_of_pattern = receive, clock, as_of_pattern
        self.staging = self.data_dir / "incoming" / source.name
        self._received_versions: dict[str, tuple] = {}    # name -> version known to be the received bytes

    def poll(self, store: FileStore, *, settle: bool = True, stop: threading.Event | None = None) -> PickupResult:
        """List `store`, fetch what is ready. With `settle`, a file seen changing gets one more look once
        `stable_seconds` have passed, within this poll (so one poll can fetch a file it sees first)."""
        result = PickupResult()
        self._clear_staging()
        look = self._look(store)
        if settle and look.unsettled:
            wait = min(self.tracker.ready_at(e.name) for e in look.unsettled) - self.clock()
            if not (stop or threading.Event()).wait(min(max(wait, 0.0), self.source.stable_seconds) + 0.05):
                look = self._look(store)
        ready, later = take_in_turn(look.ready, look.unsettled, self.as_of_pattern)
        look.waiting.extend(entry.name for entry, _ in later)
        for entry, row in ready:
            if stop is not None and stop.is_set():
                break                                     # shutting down: the rest waits for the next poll
            try:
                self._pick(store, entry, row, markers_for(entry.name, look.names), result)
            except FileNotFoundError:
                self.tracker.forget(entry.name)          # gone between the listing and the fetch
            except Exception as exc:  # one file's failure is reported (by the caller); the others still go through
                result.errors.append(f"{entry.name}: {exc}")
        result.waiting = sorted({*look.waiting, *result.waiting})
        return result

    def _look(self, store: FileStore) -> "_Look":
        """One listing: which data files are ready, which wait (for stability or a marker)."""
        entries = store.list()
        look = _Look(names=[e.name for e in entries])
        data = candidates(entries, self.source.pattern, done_marker=self.source.done_marker)
        self.tracker.keep_only(e.name for e in data)
        rows = self._known(store, data)
        at = self.clock()
        for entry in data:
            row = rows.get(self._identity(store, entry))
            if row is not None and row.file_id:           # received: acknowledged, or only that is missing
                if row.state == "done" and self._is_received_version(store, entry):
                    self.tracker.forget(entry.name)       # kept (or a version seen since): nothing to do
                else:                                     # its content is compared with what was received
                    look.ready.append((entry, row))
            elif self.source.done_marker:
                (look.ready.append((entry, row)) if markers_for(entry.name, look.names)
                 else look.waiting.append(entry.name))
            elif self.tracker.observe(entry, at):
                look.ready.append((entry, row))
            else:
                look.waiting.append(entry.name)
                look.unsettled.append(entry)
        return look

    def _is_received_version(self, store: FileStore, entry: RemoteEntry) -> bool:
        """True when the listing alone shows `entry` is a version already compared with the received
        bytes (a local folder's version changes with any write; over SFTP the content must be hashed)."""
        return store.version_shows_rewrites and self._received_versions.get(entry.name) == entry.version

    @staticmethod
    def _identity(store: FileStore, entry: RemoteEntry) -> tuple[str, int, int]:
        return store.path_of(entry.name), entry.size, int(entry.mtime)

    def _known(self, store: FileStore, entries: list[RemoteEntry]) -> dict:
        r = schema.remote_files.c
        paths = sorted({store.path_of(e.name) for e in entries})
        rows = {}
        with self.db.read() as conn:
            for i in range(0, len(paths), 500):
                for row in conn.execute(select(schema.remote_files).where(
                        r.source == self.source.name, r.path.in_(paths[i:i + 500]))):
                    rows[(row.path, row.size, row.mtime)] = row
        return rows

    # -- fetching -----------------------------------------------------------------------------------

    def _pick(self, store: FileStore, entry: RemoteEntry, row, markers: list[str], result: PickupResult) -> None:
        identity = self._identity(store, entry)
        picked = self._fetch_and_receive(store, entry, identity, row)
        if picked is None:
            return
        file_id, sha256, new = picked
        if not new and row.state == "done" and self.source.after == "keep":
            self._received_versions[entry.name] = entry.version
            self.tracker.forget(entry.name)               # the kept file, unchanged: not received again
            return
        if self.source.after != "keep" and not self._still_as_fetched(store, entry, sha256):
            log.info("source %s: %s changed after it was fetched as file %s: not %s; its new version is fetched "
                     "at the next poll", self.source.name, entry.name, file_id,
                     "deleted" if self.source.after == "delete" else "moved")
            self.tracker.forget(entry.name)
            result.waiting.append(entry.name)
            if new:
                result.fetched.append({"name": entry.name, "file_id": file_id, "size": entry.size,
                                       "after": "left in place: it changed after the download"})
            return
        after = store.acknowledge(entry, file_id, markers)
        self._set(identity, state="done")
        self._received_versions[entry.name] = entry.version
        self.tracker.forget(entry.name)
        log.info("file received id=%s name=%s transport=%s source=%s warehouse=%s size=%d after=%r", file_id,
                 entry.name, store.transport, self.source.name, self.source.warehouse, entry.size, after)
        result.fetched.append({"name": entry.name, "file_id": file_id, "size": entry.size, "after": after})

    def _still_as_fetched(self, store: FileStore, entry: RemoteEntry, sha256: str) -> bool:
        """Whether the file is still the version fetched, looked at right before its delete or move: the
        same size, mtime and version, and (where the version cannot show a rewrite and the file is small
        enough to download again cheaply) the same content."""
        try:
            now_entry = store.current(entry.name)
            if now_entry is None or (now_entry.size, now_entry.mtime, now_entry.version) != \
                    (entry.size, entry.mtime, entry.version):
                return False
            if store.version_shows_rewrites or entry.size > RECHECK_HASH_MAX_BYTES:
                return True
            return store.digest(entry) == sha256
        except FileNotFoundError:
            return False                                  # gone: nothing left to delete or move

    def _fetch_and_receive(self, store: FileStore, entry: RemoteEntry, identity, row
                           ) -> tuple[str, str, bool] | None:
        """Download the file and receive it unless it is the very file received before: (file id, sha256,
        whether it was received now), or None when it changed during the download."""
        self.staging.mkdir(parents=True, exist_ok=True)
        tmp = self.staging / f".{secrets.token_hex(8)}.part"
        try:
            size, sha256 = store.fetch(entry, tmp)
            if size != entry.size:        # still being written: discard, look again next poll
                log.info("source %s: %s changed during the download (listed with %d bytes): retried next poll",
                         self.source.name, entry.name, entry.size)
                self.tracker.forget(entry.name)
                return None
            if row is not None and row.file_id:
                if sha256 == self._sha256_of(row.file_id):
                    return row.file_id, sha256, False
                log.info("source %s: %s has the name, size and mtime of file %s but other bytes: a new version",
                         self.source.name, entry.name, row.file_id)
                self._set(identity, state="fetched", file_id=None, fetched_at=now())
                row = None
            file_id = self._received_before(entry, sha256, row) if row is not None else None
            if file_id is None:
                self._claim(identity)
                file_id = self.receive(self.db, self.data_dir, delivery_for(self.source, store.transport, entry),
                                       tmp, move=True)
            self._set(identity, file_id=file_id)
            return file_id, sha256, True
        finally:
            tmp.unlink(missing_ok=True)

    def _sha256_of(self, file_id: str) -> str | None:
        f = schema.files.c
        with self.db.read() as conn:
            return conn.execute(select(f.sha256).where(f.file_id == file_id)).scalar()

    def _received_before(self, entry: RemoteEntry, sha256: str, row) -> str | None:
        """The file id an interrupted poll received this very file under, if its commit happened."""
        f = schema.files.c
        with self.db.read() as conn:
            found = conn.execute(select(f.file_id, f.received_at).where(
                f.source == self.source.name, f.name == entry.name[:255], f.sha256 == sha256).order_by(f.seq)).all()
        since = as_utc(row.fetched_at)
        return next((fid for fid, at in found if as_utc(at) >= since), None)

    def _claim(self, identity: tuple[str, int, int]) -> None:
        path, size, mtime = identity
        with self.db.write() as conn:
            insert_ignore(conn, schema.remote_files, [{
                "source": self.source.name, "path": path, "size": size, "mtime": mtime, "state": "fetched",
                "fetched_at": now()}], ["source", "path", "size", "mtime"])

    def _set(self, identity: tuple[str, int, int], **values) -> None:
        r = schema.remote_files.c
        path, size, mtime = identity
        with self.db.write() as conn:
            conn.execute(update(schema.remote_files).where(and_(
                r.source == self.source.name, r.path == path, r.size == size, r.mtime == mtime)).values(**values))

    def _clear_staging(self) -> None:
        """Downloads an interrupted poll left behind are only copies: the originals are still remote."""
        if self.staging.is_dir():
            for leftover in self.staging.glob(".*.part"):
                leftover.unlink(missing_ok=True)


@dataclass
class _Look:
    names: list[str]
    ready: list[tuple[RemoteEntry, object]] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    unsettled: list[RemoteEntry] = field(default_factory=list)
