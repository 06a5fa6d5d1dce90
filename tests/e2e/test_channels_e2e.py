"""End to end through the real `stockgate serve`: FTP upload -> stock -> both sandbox channels, and back."""

from __future__ import annotations

import inspect
import json
import os

import pytest

from gateway.db.engine import make_database
from gateway.serve import build_services
from gateway.stock import stock_view

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif("ChannelScheduler" not in inspect.getsource(build_services),
                       reason="gateway/serve.py does not start gateway.channel_sync.scheduler.ChannelScheduler yet"),
]


@pytest.fixture
def running(serve_gateway):
    """serve running with HAT listed on both sandboxes (10 each), imported and pushed."""
    g = serve_gateway
    g.sandbox("amz", "amazon").add_listing("A-HAT", "HAT", 10)
    g.sandbox("shop", "shopify").add_listing("S-HAT", "HAT", 10)
    g.start()
    g.wait_until(lambda: all(l["pushes"] for name, m in (("amz", "amazon"), ("shop", "shopify"))
                             for l in g.sandbox(name, m).show()["listings"]), 30, "the first import's pushes")
    return g


def test_an_ftp_upload_changes_the_quantity_on_both_sandbox_channels(running):
    running.upload(b"SKU,MF\r\nHAT,7\r\n", "update.csv")
    running.wait_until(lambda: running.shown("amz") == {"A-HAT": 7} and running.shown("shop") == {"S-HAT": 7},
                       30, "both channels showing 7")


def test_orders_and_cancellations_on_one_channel_reach_the_other(running):
    amz = running.sandbox("amz", "amazon")
    amz.place_order("O-1", [("HAT", 2)])
    running.wait_until(lambda: running.shown("shop") == {"S-HAT": 8}, 30, "the order lowering the other channel")
    amz.place_order("O-2", [("HAT", 3)])
    running.wait_until(lambda: running.shown("shop") == {"S-HAT": 5}, 30, "the second order")
    amz.cancel_order("O-1", reason="No Inventory")          # smart: nothing comes back
    amz.cancel_order("O-2", reason="Buyer Canceled")        # smart: restored
    running.wait_until(lambda: running.shown("shop") == {"S-HAT": 8} and running.shown("amz") == {"A-HAT": 8},
                       30, "the Buyer Canceled restore on both channels")
    shown = running.cli("orders", "--channel", "amz", "--json")
    assert shown.returncode == 0, shown.stderr


def test_a_channel_failing_its_next_five_pushes_recovers_with_every_change_delivered(running):
    running.sandbox("amz", "amazon").fail_next(5)
    running.upload(b"SKU,MF\r\nHAT,6\r\nCAP,4\r\n", "first.csv")
    running.wait_until(lambda: running.shown("shop") == {"S-HAT": 6}, 30, "the healthy channel")
    running.upload(b"SKU,MF\r\nHAT,3\r\n", "second.csv")
    running.wait_until(lambda: running.shown("amz") == {"A-HAT": 3} and running.shown("shop") == {"S-HAT": 3},
                       60, "the failing channel catching up")
    show = running.sandbox("amz", "amazon").show()
    assert show["failing_calls"] == 0
    listings = json.loads(running.cli("listings", "--json").stdout)["listings"]
    assert [(l["listing_id"], l["last_pushed_quantity"], l["last_push_error"]) for l in listings
            if l["channel"] == "amz"] == [("A-HAT", 3, None)]


def test_a_change_made_while_serve_is_stopped_is_pushed_after_the_restart(running):
    assert running.stop() == 0
    changed = running.cli("set", "HAT", "MF", "4")
    assert changed.returncode == 0, changed.stderr
    assert running.shown("amz") == {"A-HAT": 10}              # nobody pushed it yet
    running.start()
    running.wait_until(lambda: running.shown("amz") == {"A-HAT": 4} and running.shown("shop") == {"S-HAT": 4},
                       30, "the owed push after the restart")


@pytest.mark.skipif(not os.environ.get("STOCKGATE_TEST_POSTGRES_URL"), reason="needs PostgreSQL")
def test_two_serve_processes_on_one_postgresql_take_each_order_once(database_url, tmp_path, request):
    if not database_url.startswith("postgresql"):
        pytest.skip("two serve processes share a database only on PostgreSQL")
    from serve_harness import Serve, config_text

    running = request.getfixturevalue("running")

    config = tmp_path / "second.toml"
    config.write_text(config_text(running.data_dir, database_url))
    second = Serve(config, running.data_dir, 0, tmp_path / "second.log")
    second.start()
    try:
        amz = running.sandbox("amz", "amazon")
        for n in range(5):
            amz.place_order(f"O-{n}", [("HAT", 1)])
        running.wait_until(lambda: running.shown("shop") == {"S-HAT": 5}, 30, "five orders on the other channel")
    finally:
        assert second.stop() == 0
    db = make_database(database_url)
    try:
        with db.read() as conn:
            assert stock_view(conn, ["HAT"])[0]["available"] == 5
    finally:
        db.dispose()
