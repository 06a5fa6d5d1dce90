"""The `feed` adapter: an inventory feed CSV written to a folder, SFTP or FTP server, and order files read back.

Every push rewrites the whole feed (each listing's latest quantity, columns configurable, default
`sku,quantity`) under a temporary name and renames it into place, so a reader never sees half a file.
Listings come from a catalogue CSV the marketplace leaves there (`listings_file`). Order files in
`orders_dir` are read once: the names read are kept in the order cursor (committed with the orders) and
the files are moved to `processed/` (or, unreadable, to `rejected/` with an `.error.txt`) afterwards.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import posixpath
import re
from datetime import UTC, datetime
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from channels.base import (
    ListingPage, OrderPage, PermanentChannelError, PushResult, RemoteListing, RetryableChannelError,
)
from channels.feed_orders import OrderFileError, parse_order_file
from channels.state_file import StateFile
from gateway.errors import ConfigError

FIELDS = ("listing_id", "sku", "quantity", "size", "title")
TEMP_NAME_PATTERNS = (".*", "*.tmp", "*.part", "*.filepart")
FILES_PER_PAGE = 20


def feed_columns(value: Any, channel: str) -> list[tuple[str, str]]:
    """(header, field) pairs from the `columns` option: a list of fields or a table header -> field."""
    pairs = [(v, v) for v in value] if isinstance(value, list) else list(value.items()) if isinstance(value, dict) \
        else None
    if not pairs:
        raise ConfigError(f"channel {channel!r}: options.columns must be a list of fields or a table, got {value!r}")
    for header, field in pairs:
        if field not in FIELDS:
            raise ConfigError(f"channel {channel!r}: options.columns: {field!r} is not one of {', '.join(FIELDS)}")
    return pairs


class FeedAdapter:
    """A feed channel: `opener` opens a session on its folder or server (tests may pass their own)."""

    def __init__(self, name: str, opener, state_path: Path, *, feed_name: str = "inventory.csv",
                 orders_dir: str = "orders", listings_file: str = "listings.csv",
                 columns: Sequence[tuple[str, str]] = (("sku", "sku"), ("quantity", "quantity")),
                 orders_pattern: str = "*.csv"):
        self.name = name
        self._open = opener
        self._state = StateFile(state_path, lambda: {"listings": {}})
        self.feed_name, self.orders_dir, self.listings_file = feed_name, orders_dir, listings_file
        self.columns, self.orders_pattern = list(columns), orders_pattern

    # --- listings -------------------------------------------------------------------------------------

    def list_listings(self, cursor: str | None, full: bool) -> ListingPage:
        """The catalogue file's listings; incremental sync gets those not seen before (cursor = count)."""
        with self._open() as session:
            if not self.listings_file or not session.exists(self.listings_file):
                return ListingPage([], cursor)
            data = session.read(self.listings_file)
        listings = _parse_listings(data, self.listings_file)
        with self._state.change() as state:
            for l in listings:
                known = state["listings"].setdefault(l.listing_id, {"quantity": None})
                known.update(sku=l.sku, size=l.size, title=l.title)
        start = 0 if full or not cursor else int(cursor)
        return ListingPage(listings[start:], str(len(listings)))

    # --- orders ---------------------------------------------------------------------------------------

    def fetch_orders(self, cursor: str | None) -> OrderPage:
        """Orders from order files not read before (at most FILES_PER_PAGE per page)."""
        done = set(json.loads(cursor)["done"]) if cursor else set()
        orders, cancellations, read, rejected = [], [], [], {}
        with self._open() as session:
            names = [n for n in session.list_files(self.orders_dir) if fnmatch.fnmatch(n, self.orders_pattern)
                     and not any(fnmatch.fnmatch(n, p) for p in TEMP_NAME_PATTERNS)]
            fresh = [n for n in names if n not in done]
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
        new_cursor = json.dumps({"done": sorted((done & set(names)) | taken)})
        leftovers = sorted(done & set(names))       # committed earlier, not yet moved away
        return OrderPage(orders, cancellations, new_cursor, more=len(fresh) > FILES_PER_PAGE,
                         receipt={"processed": read + leftovers, "rejected": rejected})

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

    # --- quantities -----------------------------------------------------------------------------------

    def push_quantities(self, updates: Sequence[tuple[str, int]]) -> list[PushResult]:
        """Merge `updates` into the feed and rewrite the whole feed file atomically."""
        if not updates:
            return []
        with self._state.change() as state:
            for listing_id, quantity in updates:
                state["listings"].setdefault(listing_id, {"sku": listing_id, "size": None, "title": None})
                state["listings"][listing_id]["quantity"] = quantity
            snapshot = json.loads(json.dumps(state["listings"]))
        try:
            with self._open() as session:
                session.write_atomic(self.feed_name, self.render(snapshot))
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


def make_feed_adapter(channel, data_dir: Path, transport=None) -> FeedAdapter:
    """The adapter for a `[[channels]]` entry with `adapter = "feed"` (options: see config/example.toml)."""
    from channels.feed_transport import open_feed_store

    options = dict(channel.options)
    opener = transport or open_feed_store(channel.name, options, data_dir)
    return FeedAdapter(channel.name, opener, Path(data_dir) / "feed-state" / f"{re.sub(r'[^A-Za-z0-9._-]', '_', channel.name)}.json",
                       feed_name=options.get("feed_name", "inventory.csv"),
                       orders_dir=options.get("orders_dir", "orders"),
                       listings_file=options.get("listings_file", "listings.csv"),
                       columns=feed_columns(options.get("columns", ["sku", "quantity"]), channel.name),
                       orders_pattern=options.get("orders_pattern", "*.csv"))
