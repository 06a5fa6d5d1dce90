"""The feed adapter against a real folder and a real SFTP server (OpenSSH sshd on loopback)."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from channels.errors import PermanentChannelError
from channels.feed import FeedAdapter
from channel_helpers import channel_toml
from gateway.channel_sync.adapters import make_adapter
from gateway.channel_sync.feed_stores import FolderSession
from gateway.db import schema
from gateway.stock import stock_view
from sftp_test_server import start_sftp_server

ORDERS = ("order_id,sku,qty,placed_at,status,cancel_reason,cancelled_at\n"
          "F-1,HAT,2,2026-11-20T10:00:00Z,accepted,,\n"
          "F-2,HAT,1,2026-11-20T11:00:00Z,accepted,,\n")


def _feed_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


def _available(ch, sku: str) -> int:
    with ch.jobs.db.read() as conn:
        return stock_view(conn, [sku])[0]["available"]


@pytest.fixture
def folder_feed(make_channels, tmp_path):
    """A feed channel writing to tmp_path/feed with a catalogue of three listings."""
    folder = tmp_path / "feed"
    (folder / "orders").mkdir(parents=True)
    (folder / "listings.csv").write_text("sku,quantity,title\nHAT,10,Hat\nCAP,4,Cap\nBAG,0,Bag\n")
    ch = make_channels(channel_toml("retail", "other", "feed", options={
        "target": "folder", "path": str(folder), "columns": ["sku", "quantity", "title"], "stable_seconds": 0}))
    return ch, folder


def test_a_push_writes_the_whole_feed_with_the_configured_columns(folder_feed):
    ch, folder = folder_feed
    assert ch.jobs.sync("retail").imported == 2
    ch.jobs.push_now("retail")
    assert _feed_rows((folder / "inventory.csv").read_bytes()) == [
        ["sku", "quantity", "title"], ["BAG", "0", "Bag"], ["CAP", "4", "Cap"], ["HAT", "10", "Hat"]]
    ch.set("CAP", "MF", 1)
    ch.jobs.push_now("retail")
    rows = _feed_rows((folder / "inventory.csv").read_bytes())
    assert rows[1:] == [["BAG", "0", "Bag"], ["CAP", "1", "Cap"], ["HAT", "10", "Hat"]]
    assert sorted(p.name for p in folder.iterdir()) == ["inventory.csv", "listings.csv", "orders"]


def test_a_reader_never_sees_a_half_written_feed(folder_feed):
    ch, folder = folder_feed
    ch.jobs.sync("retail")
    ch.jobs.push_now("retail")
    seen, stop = [], threading.Event()

    def read_continuously():
        while not stop.is_set():
            seen.append(_feed_rows((folder / "inventory.csv").read_bytes()))

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        for quantity in range(30):
            ch.set("HAT", "MF", quantity)
            ch.jobs.push_now("retail")
    finally:
        stop.set()
        reader.join()
    assert seen and all(len(rows) == 4 and rows[0] == ["sku", "quantity", "title"] for rows in seen)


def test_order_files_are_read_once_and_moved_to_processed(folder_feed):
    ch, folder = folder_feed
    ch.jobs.sync("retail")
    (folder / "orders" / "day1.csv").write_text(ORDERS)
    (folder / "orders" / ".day2.csv.tmp").write_text(ORDERS)       # still being written: not read
    outcome = ch.jobs.pull("retail")
    assert (outcome.orders, outcome.changed) == (2, 2)
    assert _available(ch, "HAT") == 7
    assert (folder / "orders" / "processed" / "day1.csv").exists()
    assert not (folder / "orders" / "day1.csv").exists()
    assert ch.jobs.pull("retail").orders == 0
    assert _available(ch, "HAT") == 7


def test_a_cancellation_in_an_order_file_follows_the_reason(folder_feed):
    ch, folder = folder_feed
    ch.jobs.sync("retail")
    (folder / "orders" / "a.csv").write_text(ORDERS)
    ch.jobs.pull("retail")
    (folder / "orders" / "b.csv").write_text("order_id,sku,qty,placed_at,status,cancel_reason,cancelled_at\n"
                                            "F-1,HAT,2,2026-11-20T10:00:00Z,cancelled,Buyer Canceled,"
                                            "2026-11-21T09:00:00Z\n")
    outcome = ch.jobs.pull("retail")
    assert (outcome.cancellations, outcome.restored) == (1, 1)
    assert _available(ch, "HAT") == 9


def test_an_unreadable_order_file_is_moved_to_rejected_with_the_reason_and_nothing_taken(folder_feed):
    ch, folder = folder_feed
    ch.jobs.sync("retail")
    (folder / "orders" / "bad.csv").write_text("order_id,sku,qty,placed_at\nF-1,HAT,two,2026-11-20T10:00:00Z\n")
    ch.jobs.pull("retail")
    assert _available(ch, "HAT") == 10
    error = (folder / "orders" / "rejected" / "bad.csv.error.txt").read_text()
    assert "row 2" in error and "'two'" in error
    assert (folder / "orders" / "rejected" / "bad.csv").exists()


def test_a_file_committed_but_not_yet_moved_is_not_read_again(folder_feed):
    ch, folder = folder_feed
    ch.jobs.sync("retail")
    adapter = ch.jobs.adapter("retail")
    (folder / "orders" / "day1.csv").write_text(ORDERS)
    adapter.orders_committed = lambda page: None          # the process dies between commit and move
    ch.jobs.pull("retail")
    assert (folder / "orders" / "day1.csv").exists()
    del adapter.orders_committed
    assert ch.jobs.pull("retail").orders == 0
    assert _available(ch, "HAT") == 7
    assert (folder / "orders" / "processed" / "day1.csv").exists()



def _order_status(ch, order_id: str) -> str:
    with ch.jobs.db.read() as conn:
        return conn.execute(select(schema.orders.c.status).where(schema.orders.c.order_id == order_id)).scalar_one()


def test_an_order_file_cancelling_one_line_cancels_and_restores_only_that_line(folder_feed):
    ch, folder = folder_feed
    ch.jobs.sync("retail")
    (folder / "orders" / "a.csv").write_text("order_id,sku,qty,placed_at\n"
                                            "F-9,HAT,2,2026-11-20T10:00:00Z\nF-9,CAP,1,2026-11-20T10:00:00Z\n")
    ch.jobs.pull("retail")
    assert (_available(ch, "HAT"), _available(ch, "CAP")) == (8, 3)
    (folder / "orders" / "b.csv").write_text("order_id,sku,qty,placed_at,status,cancel_reason,cancelled_at\n"
                                            "F-9,CAP,1,2026-11-20T10:00:00Z,cancelled,Buyer Canceled,"
                                            "2026-11-21T09:00:00Z\n")
    outcome = ch.jobs.pull("retail")
    assert (outcome.cancellations, outcome.restored) == (1, 1)
    assert (_available(ch, "HAT"), _available(ch, "CAP")) == (8, 4)     # the HAT line keeps its stock
    assert _order_status(ch, "F-9") == "accepted"


def test_two_adapters_pushing_at_once_never_show_a_reader_a_partial_feed_and_the_last_push_wins(folder_feed):
    ch, folder = folder_feed
    ch.jobs.sync("retail")
    ch.jobs.push_now("retail")
    settings = ch.settings.channel("retail")
    adapters = [make_adapter(settings, ch.settings.data_dir) for _ in range(2)]   # e.g. `serve` and the CLI
    feed, seen, failures, stop = folder / "inventory.csv", [], [], threading.Event()

    def read_continuously():
        while not stop.is_set():
            seen.append(_feed_rows(feed.read_bytes()))

    def push(adapter, sku):
        for quantity in range(1, 61):
            failures.extend(r for r in adapter.push_quantities([(sku, quantity)]) if not r.ok)

    reader = threading.Thread(target=read_continuously)
    pushers = [threading.Thread(target=push, args=(a, sku)) for a, sku in zip(adapters, ("HAT", "CAP"))]
    reader.start()
    try:
        for thread in pushers:
            thread.start()
        for thread in pushers:
            thread.join()
    finally:
        stop.set()
        reader.join()
    assert failures == []
    assert seen and all(len(rows) == 4 and rows[0] == ["sku", "quantity", "title"] for rows in seen)
    assert _feed_rows(feed.read_bytes())[1:] == [["BAG", "0", "Bag"], ["CAP", "60", "Cap"], ["HAT", "60", "Hat"]]
    assert sorted(p.name for p in folder.iterdir()) == ["inventory.csv", "listings.csv", "orders"]


def test_an_order_file_still_being_written_is_read_only_once_it_is_stable_and_then_whole(tmp_path):
    folder = tmp_path / "feed"
    (folder / "orders").mkdir(parents=True)
    clock = [1000.0]
    adapter = FeedAdapter("retail", _folder_opener(folder), tmp_path / "state.json", stable_seconds=5,
                          clock=lambda: clock[0])
    upload = folder / "orders" / "day1.csv"
    upload.write_text(ORDERS.splitlines(keepends=True)[0] + ORDERS.splitlines(keepends=True)[1])   # half of it
    assert adapter.fetch_orders(None).orders == []                  # first look
    clock[0] += 3
    upload.write_text(ORDERS)                                       # the upload goes on: size changed
    os.utime(upload, (clock[0], clock[0]))
    page = adapter.fetch_orders(None)
    assert page.orders == []
    clock[0] += 4                                                   # unchanged, but only 4 s since it changed
    assert adapter.fetch_orders(page.cursor).orders == []
    clock[0] += 2                                                   # unchanged for 6 s: stable
    page = adapter.fetch_orders(page.cursor)
    assert sorted(o.order_id for o in page.orders) == ["F-1", "F-2"]
    adapter.orders_committed(page)
    assert adapter.fetch_orders(page.cursor).orders == []
    assert (folder / "orders" / "processed" / "day1.csv").read_text() == ORDERS


def test_with_done_markers_an_order_file_is_read_once_its_marker_is_there(tmp_path):
    folder = tmp_path / "feed"
    (folder / "orders").mkdir(parents=True)
    adapter = FeedAdapter("retail", _folder_opener(folder), tmp_path / "state.json", stable_seconds=5,
                          done_marker=True, clock=lambda: 1000.0)
    (folder / "orders" / "day1.csv").write_text(ORDERS)
    assert adapter.fetch_orders(None).orders == []
    (folder / "orders" / "day1.csv.done").write_text("")
    page = adapter.fetch_orders(None)
    assert len(page.orders) == 2
    adapter.orders_committed(page)
    assert sorted(p.name for p in (folder / "orders" / "processed").iterdir()) == ["day1.csv", "day1.csv.done"]


def test_an_incremental_sync_picks_up_a_listing_added_at_the_top_of_the_catalogue(folder_feed):
    ch, folder = folder_feed
    assert ch.jobs.sync("retail").new == 3
    (folder / "listings.csv").write_text("sku,quantity,title\nNEW,6,New\nHAT,10,Hat\nCAP,4,Cap\nBAG,0,Bag\n")
    outcome = ch.jobs.sync("retail")
    assert (outcome.new, outcome.imported, outcome.missing) == (1, 1, 0)
    assert _available(ch, "NEW") == 6


def _folder_opener(folder):
    @contextlib.contextmanager
    def opener():
        yield FolderSession(folder)
    return opener


@pytest.fixture
def sftp_feed(tmp_path, make_channels):
    server = start_sftp_server(tmp_path / "sftp")
    print(f"SFTP server: {server.kind} on port {server.port}")
    root = server.folder
    (root / "orders").mkdir()
    (root / "listings.csv").write_text("listing_id,sku,quantity\nR-1,HAT,10\nR-2,CAP,4\n")
    options = {"target": "sftp", "host": server.host, "port": server.port, "username": server.username,
               "key_file": str(server.client_key), "known_hosts": str(server.known_hosts), "path": str(root),
               "feed_name": "stock/feed.csv", "columns": {"SellerSKU": "sku", "Qty": "quantity"}, "stable_seconds": 0}
    yield make_channels(channel_toml("retail", "other", "feed", options=options)), server, options
    server.stop()


def test_the_feed_reaches_an_sftp_server_whole_and_order_files_there_are_read_once(sftp_feed):
    ch, server, _ = sftp_feed
    assert ch.jobs.sync("retail").linked == 2
    ch.jobs.push_now("retail")
    feed = server.folder / "stock" / "feed.csv"
    assert _feed_rows(feed.read_bytes()) == [["SellerSKU", "Qty"], ["CAP", "4"], ["HAT", "10"]]
    assert sorted(p.name for p in feed.parent.iterdir()) == ["feed.csv"]          # no temporary left
    (server.folder / "orders" / "o.csv").write_text(ORDERS)
    assert ch.jobs.pull("retail").orders == 2
    assert ch.jobs.pull("retail").orders == 0
    assert (server.folder / "orders" / "processed" / "o.csv").exists()
    ch.jobs.push_now("retail")
    assert _feed_rows(feed.read_bytes())[2] == ["HAT", "7"]


def test_an_sftp_server_whose_host_key_is_not_known_is_refused_and_nothing_written(sftp_feed, tmp_path):
    ch, server, options = sftp_feed
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    settings = ch.settings.channel("retail")
    import dataclasses

    stranger = dataclasses.replace(settings, options={**options, "known_hosts": str(empty)})
    adapter = make_adapter(stranger, ch.settings.data_dir)
    with pytest.raises(PermanentChannelError, match="known_hosts"):
        adapter.list_listings(None, True)
    results = adapter.push_quantities([("R-1", 3)])
    assert [(r.ok, r.retryable) for r in results] == [(False, False)]
    assert not (server.folder / "stock").exists()
    assert empty.read_text() == ""
