"""Fixtures for channel tests: a configuration with sandbox channels, their jobs and their sandboxes."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.app import sync_config
from gateway.channel_sync.adapters import open_sandbox
from gateway.channel_sync.jobs import ChannelJobs
from gateway.settings import Settings, load_settings
from gateway.stock import set_stock

from channel_helpers import channel_toml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sources"))   # the shared SFTP test server
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))  # the marketplace contract servers


@dataclass
class Channels:
    """A configuration's channels with what a test drives them with."""

    settings: Settings
    jobs: ChannelJobs
    config: Path

    def sandbox(self, name: str):
        return open_sandbox(self.settings.channel(name), self.settings.data_dir)

    def shown(self, name: str) -> dict[str, int]:
        """Listing id -> the quantity the sandbox shows."""
        return {l["listing_id"]: l["quantity"] for l in self.sandbox(name).show()["listings"]}

    def history(self, name: str) -> list[tuple[str, int]]:
        return [(h["listing_id"], h["quantity"]) for h in self.sandbox(name).show()["history"]]

    def set(self, sku: str, warehouse: str, quantity: int) -> None:
        with self.jobs.db.write() as conn:
            set_stock(conn, sku, warehouse, quantity)


@pytest.fixture
def make_channels(write_config, db):
    """Write a configuration with these [[channels]] tables (and extra TOML); sync it into the database."""

    def make(*tables: str, extra: str = "") -> Channels:
        path = write_config(extra + "".join(tables))
        settings = load_settings(path)
        sync_config(db, settings)
        return Channels(settings, ChannelJobs(db, settings), path)

    return make


@pytest.fixture
def two_sandboxes(make_channels) -> Channels:
    """`amz` (amazon, smart) and `shop` (shopify, buffer 0) sandbox channels."""
    return make_channels(channel_toml("amz", "amazon", restore_policy="smart"),
                         channel_toml("shop", "shopify", restore_policy="smart"))


@pytest.fixture
def walmart_server():
    """The Walmart contract server on 127.0.0.1, port 0 (`.market` is its state, `.url` its address)."""
    from walmart_server import WalmartServer

    server = WalmartServer().start()
    yield server
    server.stop()


@pytest.fixture
def shopify_server():
    """The Shopify contract server on 127.0.0.1, port 0 (`.market` is its state, `.url` its address)."""
    from shopify_server import ShopifyServer

    server = ShopifyServer().start()
    yield server
    server.stop()


@pytest.fixture
def ebay_server():
    """The eBay contract server on 127.0.0.1, port 0 (`.market` is its state, `.url` its address)."""
    from ebay_server import EbayServer

    server = EbayServer().start()
    yield server
    server.stop()
