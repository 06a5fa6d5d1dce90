"""The `feed` adapter: an inventory feed CSV written to a folder, SFTP or FTP server, and order files read back.

Every push rewrites the whole feed (each listing's latest quantity, columns configurable, default
`sku,quantity`) under a temporary name and renames it into place, so a reader never sees half a file;
the feed is written while the state file's lock is held, so concurrent pushes (the scheduler and the
CLI) write one after the other and the last one's quantities stay. Listings come from a catalogue CSV the
marketplace leaves there (`listings_file`), returned whole by every sync. Order files in `orders_dir` are
read once they are complete (same size and mtime on two looks `stable_seconds` apart, or with
`done_marker` once NAME.done / NAME.ok exists): the names read are kept in the order cursor (committed
with the orders) and the files are moved to `processed/` (or, unreadable, to `rejected/` with an
`.error.txt`) afterwards. The folder or server is reached through the `FeedSession` an injected opener
gives (the gateway's `gateway.channel_sync.feed_stores`, or a test's own).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import posixpath
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from channels.base import ListingPage, OrderPage, PushResult, RemoteListing
from channels.errors import PermanentChannelError, RetryableChannelError
from channels.feed_orders import OrderFileError, parse_order_file
from channels.stability import MARKER_SUFFIXES, RemoteEntry, StabilityTracker, candidates, markers_for
from channels.state_file import StateFile

FIELDS = ("listing_id", "sku", "quantity", "size", "title")
FILES_PER_PAGE = 20
DEFAULT_STABLE_SECONDS = 5.0


class FeedSession(Protocol):
    """Files of one feed channel, paths relative to its base path; raises only RetryableChannelError or
    PermanentChannelError for what its folder or server does."""

    def list_files(self, folder: str) -> list[str]: ...
    def list_entries(self, folder: str) -> list[RemoteEntry]: ...
    def read(self, path: str) -> bytes: ...
    def exists(self, path: str) -> bool: ...
    def write_atomic(self, path: str, data: bytes) -> None: ...
    def move(self, source: str, target: str) -> None: ...


FeedOpener = Callable[[], contextlib.AbstractContextManager[FeedSession]]


class FeedAdapter:
    """A feed channel: `opener` opens a session on its folder or server (tests may pass their own)."""

    def __init__(self, name: str, opener: FeedOpener, state_path: Path, *, feed_name: str = "inventory.csv",
                 orders_dir: str = "orders", listings_file: str = "listings.csv",
                 columns: Sequence[tuple[str, str]] = (("sku", "sku"), ("quantity", "quantity")),
                 orders_pattern: str = "*.csv", stable_seconds: float = DEFAULT_STABLE_SECONDS,
                 done_marker: bool = False, clock: Callable[[], float] = time.time):
        self.name = name
        self._open = opener
        self._state = StateFile(state_path, lambda: {"listings": {}})
        self.feed_name, self.orders_dir, self.listings_file = feed_name, orders_dir, listings_file
        self.columns, self.orders_pattern = list(columns), orders_pattern
        self.stable_seconds, self.done_marker, self._clock = float(stable_seconds), bool(done_marker), clock

    # --- listings -------------------------------------------------------------------------------------

    def list_listings(self, cursor: str | None, full: bool) -> ListingPage:
        """The whole catalogue file, for an incremental sync too: a listing added anywhere in the file (not
        only at its end) is seen by the next sync; only a full sync marks the ones gone as missing."""
        with self._open() as session:
            if not self.listings_file or not session.exists(self.listings_file):
                return ListingPage([], None)
            data = session.read(self.listings_file)
        listings = _parse_listings(data, self.listings_file)
        with self._state.change() as state:
            for l in listings:
                known = state["listings"].setdefault(l.listing_id, {"quantity": None})
                known.update(sku=l.sku, size=l.size, title=l.title)
        return ListingPage(listings, None)

    # --- orders ---------------------------------------------------------------------------------------

    def fetch_orders(self, cursor: str | None) -> OrderPage:
        """Complete order files not read before (at most FILES_PER_PAGE per page)."""
        done = set(json.loads(cursor)["done"]) if cursor else set()
        orders, cancellations, read, rejected = [], [], [], {}
        with self._open() as session:
            entries = session.list_entries(self.orders_dir)
            waiting = candidates(entries, self.orders_pattern, done_marker=self.done_marker)
            names = {e.name for e in waiting}
            ready = self._complete(waiting, {e.name for e in entries})
            fresh = [e.name for e in ready if e.name not in done]
            for name in fresh[:FILES_PER_PAGE]:
                try:
                    file_orders, file_cancellations = parse_order_file(session.read(self._order_path(name)), name)
                except OrderFileError as exc:
                    rejected[name] = str(exc)
                    continue
                orders += file_orders
                cancellations += file_cancellations
                read.append(name)
        taken = set(read) | set(rejected)
        new_cursor = json.dumps({"done": sorted((done & names) | taken)})
        leftovers = sorted(done & names)       # committed earlier, not yet moved away
        return OrderPage(orders, cancellations, new_cursor, more=len(fresh) > FILES_PER_PAGE,
                         receipt={"processed": read + leftovers, "rejected": rejected})

    def _complete(self, waiting: list[RemoteEntry], present: set[str]) -> list[RemoteEntry]:
        """The order files no longer being written: with a completion marker beside them (`done_marker`),
        or with the same size and mtime on two looks `stable_seconds` apart (looks kept in the state file,
        so the scheduler and a CLI run share them)."""
        if self.done_marker:
            return [e for e in waiting if markers_for(e.name, present)]
        at = self._clock()
        tracker = StabilityTracker(self.stable_seconds)
        with self._state.change() as state:
            for name, (size, mtime, first_seen) in state.get("order_files", {}).items():
                tracker.observe(RemoteEntry(name, size, mtime), first_seen)
            ready = [e for e in waiting if tracker.observe(e, at)]
            state["order_files"] = {e.name: [e.size, e.mtime, tracker.ready_at(e.name) - tracker.stable_seconds]
                                    for e in waiting}
        return ready

    def orders_committed(self, page: OrderPage) -> None:
        """Move the files of a committed page out of the way: `processed/`, or `rejected/` with the reason."""
        receipt = page.receipt or {}
        if not receipt.get("processed") and not receipt.get("rejected"):
            return
        with self._open() as session:
            for name in receipt.get("processed", []):
                self._move_aside(session, name, "processed")
            for name, error in receipt.get("rejected", {}).items():
                session.write_atomic(posixpath.join(self.orders_dir, "rejected", f"{name}.error.txt"),
                                     (error + "\n").encode())
                self._move_aside(session, name, "rejected")

    def _order_path(self, name: str) -> str:
        return posixpath.join(self.orders_dir, name)

    def _move_aside(self, session, name: str, folder: str) -> None:
        if not session.exists(self._order_path(name)):
            return
        target = posixpath.join(self.orders_dir, folder, name)
        if session.exists(target):   # a file of the same name was read before: keep both
            target = posixpath.join(self.orders_dir, folder, f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{name}")
        session.move(self._order_path(name), target)
        for suffix in MARKER_SUFFIXES if self.done_marker else ():
            if session.exists(self._order_path(name + suffix)):
                session.move(self._order_path(name + suffix), target + suffix)

    # --- quantities -----------------------------------------------------------------------------------

    def push_quantities(self, updates: Sequence[tuple[str, int]]) -> list[PushResult]:
        """Merge `updates` into the feed and rewrite the whole feed file atomically, holding the state lock
        from the merge to the rename (the state keeps the merge only when the feed was written)."""
        if not updates:
            return []
        try:
            with self._state.change() as state:
                for listing_id, quantity in updates:
                    state["listings"].setdefault(listing_id, {"sku": listing_id, "size": None, "title": None})
                    state["listings"][listing_id]["quantity"] = quantity
                with self._open() as session:
                    session.write_atomic(self.feed_name, self.render(state["listings"]))
        except (RetryableChannelError, PermanentChannelError) as exc:
            return [PushResult(listing_id, False, str(exc), isinstance(exc, RetryableChannelError))
                    for listing_id, _ in updates]
        return [PushResult(listing_id, True) for listing_id, _ in updates]

    def render(self, listings: dict[str, dict]) -> bytes:
        """The feed CSV: one row per listing with a quantity, sorted by SKU."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([header for header, _ in self.columns])
        for listing_id, l in sorted(listings.items(), key=lambda kv: (kv[1].get("sku") or "", kv[0])):
            if l.get("quantity") is None:
                continue
            row = {"listing_id": listing_id, **l}
            writer.writerow(["" if row.get(field) is None else row[field] for _, field in self.columns])
        return out.getvalue().encode("utf-8")


def _parse_listings(data: bytes, name: str) -> list[RemoteListing]:
    try:
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise PermanentChannelError(f"listings file {name}: cannot be read: {exc}") from exc
    listings = []
    for number, row in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if not row.get("sku"):
            raise PermanentChannelError(f"listings file {name}: row {number}: column sku is empty or missing")
        quantity = row.get("quantity") or None
        if quantity is not None and not quantity.isdigit():
            raise PermanentChannelError(f"listings file {name}: row {number}: quantity {quantity!r} is not a "
                                        "whole number of 0 or more")
        listings.append(RemoteListing(row.get("listing_id") or row["sku"], row["sku"], row.get("size") or None,
                                      int(quantity) if quantity is not None else None, row.get("title") or None))
    return listings
