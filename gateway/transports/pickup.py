"""Pick up complete files from a source's store exactly once: fetch to a temporary name, check the byte
count, hand the file to `receive_file`, and only after that commit acknowledge the sender (delete, move).

Files found ready together are taken in the order of the moment they describe (the name's timestamp,
else the mtime; then the name), and a ready file waits while one seen beside it, older, is not yet
stable (`pickup_order`): files are applied in order of receipt, and a snapshot received after a newer
one is stale.

Table `remote_files` remembers every fetch by (source, path, size, mtime): `fetched` once the bytes are
downloaded, with the file id once received, `done` once acknowledged. A poll that finds a `fetched` row
resolves what an earlier, interrupted poll left: the file is received once, acknowledged once.
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

from gateway.clock import as_utc, now
from gateway.db import schema
from gateway.db.engine import Database
from gateway.db.upsert import insert_ignore
from gateway.filenames import NAME_MAX, fit_name, split_extension
from gateway.intake import Delivery, receive_file
from gateway.settings import SourceSettings
from gateway.transports.pickup_order import take_in_turn
from gateway.transports.stability import RemoteEntry, StabilityTracker, candidates, markers_for

log = logging.getLogger("stockgate.sources")


class FileStore(Protocol):
    """Where a source's files are: an SFTP folder or a local folder."""

    transport: str                                               # "sftp" | "folder"

    def list(self) -> list[RemoteEntry]:
        """The files in the folder (no sub-folders, no symlinks)."""

    def path_of(self, name: str) -> str:
        """The full path of `name`, as remembered in `remote_files`."""

    def fetch(self, entry: RemoteEntry, target: Path) -> tuple[int, str]:
        """Copy the file to the new local file `target`; return (bytes copied, sha256 hex)."""

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
            except Exception as exc:  # one file's failure is reported; the others still go through
                log.warning("source %s: %s: %s", self.source.name, entry.name, exc)
                result.errors.append(f"{entry.name}: {exc}")
        result.waiting = sorted(look.waiting)
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
            if row is not None and row.state == "done":
                self.tracker.forget(entry.name)           # fetched before (`keep`, or a failed delete)
            elif row is not None and row.file_id:         # received; only the acknowledgement is missing
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
        file_id = row.file_id if row is not None else None
        if file_id is None:
            file_id = self._fetch_and_receive(store, entry, identity, row)
            if file_id is None:
                return
        after = store.acknowledge(entry, file_id, markers)
        self._set(identity, state="done")
        self.tracker.forget(entry.name)
        log.info("file received id=%s name=%s transport=%s source=%s warehouse=%s size=%d after=%r", file_id,
                 entry.name, store.transport, self.source.name, self.source.warehouse, entry.size, after)
        result.fetched.append({"name": entry.name, "file_id": file_id, "size": entry.size, "after": after})

    def _fetch_and_receive(self, store: FileStore, entry: RemoteEntry, identity, row) -> str | None:
        self.staging.mkdir(parents=True, exist_ok=True)
        tmp = self.staging / f".{secrets.token_hex(8)}.part"
        try:
            size, sha256 = store.fetch(entry, tmp)
            if size != entry.size:        # still being written: discard, look again next poll
                log.info("source %s: %s changed during the download (%d bytes, listed %d): retried next poll",
                         self.source.name, entry.name, size, entry.size)
                self.tracker.forget(entry.name)
                return None
            file_id = self._received_before(entry, sha256, row) if row is not None else None
            if file_id is None:
                self._claim(identity)
                file_id = self.receive(self.db, self.data_dir, delivery_for(self.source, store.transport, entry),
                                       tmp, move=True)
            self._set(identity, file_id=file_id)
            return file_id
        finally:
            tmp.unlink(missing_ok=True)

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
