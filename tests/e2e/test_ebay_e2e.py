"""End to end through the real `stockgate serve` with an `ebay` channel talking to the eBay contract server:
FTP uploads reach eBay, an order takes stock once across a 429 storm and a token expiry, a cancellation
with each eBay reason code restores or keeps stock as seed 003 says, and no credential shows anywhere."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.core.reason_tables import REASON_TABLES
from gateway.db import schema
from gateway.db.engine import make_database
from serve_harness import Serve, config_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
from ebay_server import EbayServer  # noqa: E402

pytestmark = pytest.mark.slow
BULK = "/sell/inventory/v1/bulk_update_price_quantity"
ORDERS = "/sell/fulfillment/v1/order"


def _ebay_config(data_dir: Path, database_url: str, url: str) -> str:
    base = config_text(data_dir, database_url).split("\n[[channels]]")[0]       # FTP account wh, no sandboxes
    return base + (
        '\n[[channels]]\nname = "eb"\nmarketplace = "ebay"\nadapter = "ebay"\nrestore_policy = "smart"\n'
        'order_interval_seconds = 1\npush_interval_seconds = 30\nlisting_interval_seconds = 3600\n'
        'retry_base_seconds = 0.2\nretry_max_seconds = 1\n'
        f'[channels.options]\nbase_url = "{url}"\nclient_id_env = "EB_E2E_CLIENT_ID"\n'
        'client_secret_env = "EB_E2E_CLIENT_SECRET"\nrefresh_token_env = "EB_E2E_REFRESH_TOKEN"\n'
        'backoff_base_seconds = 0.05\nthrottle_max_delay_seconds = 0.2\nthrottle_budget_seconds = 1\n')


@pytest.fixture
def ebay_serve(tmp_path, database_url, monkeypatch):
    server = EbayServer().start()
    market = server.market
    monkeypatch.setenv("EB_E2E_CLIENT_ID", market.client_id)
    monkeypatch.setenv("EB_E2E_CLIENT_SECRET", market.client_secret)
    monkeypatch.setenv("EB_E2E_REFRESH_TOKEN", market.refresh_token)
    data_dir = tmp_path / "var"
    config = tmp_path / "stockgate.toml"
    config.write_text(_ebay_config(data_dir, database_url, server.url))
    gateway = Serve(config, data_dir, 0, tmp_path / "serve.log")
    assert gateway.cli("init").returncode == 0
    market.add_item("HAT")
    market.add_item("CAP", offer=None)                 # an item without a published offer yet
    yield gateway, market, database_url
    gateway.stop()
    server.stop()


def _start(gateway, market, hats: int = 10) -> None:
    gateway.start()
    gateway.upload(f"SKU,MF\r\nHAT,{hats}\r\nCAP,5\r\n".encode(), "first.csv")
    gateway.wait_until(lambda: market.quantity("HAT") == hats and market.quantity("CAP") == 5, 60,
                       "the first quantities on eBay")


def _secrets_absent(gateway, market, database_url) -> None:
    secrets = [market.client_secret, market.client_id, market.refresh_token, *market.tokens]
    texts = [gateway.log()]
    texts += [p.read_text(errors="replace") for p in gateway.data_dir.rglob("*")
              if p.is_file() and p.parent.name != "tokens" and p.suffix in (".json", ".txt", ".csv", ".log")]
    db = make_database(database_url)
    try:
        with db.read() as conn:
            texts += [str(row) for table in schema.metadata.sorted_tables for row in conn.execute(select(table)).all()]
    finally:
        db.dispose()
    for secret in secrets:
        assert not any(secret in t for t in texts), "a credential was written out"


def test_an_ftp_upload_reaches_ebay_as_the_right_quantity_for_every_listing(ebay_serve):
    gateway, market, database_url = ebay_serve
    _start(gateway, market)
    gateway.upload(b"SKU,MF\r\nHAT,7\r\nCAP,0\r\n", "update.csv")
    gateway.wait_until(lambda: (market.quantity("HAT"), market.quantity("CAP")) == (7, 0), 60,
                       "eBay showing HAT 7 and CAP 0")
    offer = market.offers["HAT"][0]
    assert (offer["availableQuantity"], market.item("HAT")["availability"]["shipToLocationAvailability"]["quantity"]) \
        == (7, 7)
    assert market.violations == []
    _secrets_absent(gateway, market, database_url)


def test_an_order_takes_stock_once_across_a_429_storm_and_a_token_expiry(ebay_serve):
    gateway, market, database_url = ebay_serve
    _start(gateway, market)
    market.expire_tokens()
    market.fail("429", ORDERS, times=6)
    market.fail("429", BULK, times=6, Retry_After="0")
    market.place_order("12-34567-89012", [("HAT", 3)])
    gateway.wait_until(lambda: market.quantity("HAT") == 7, 60, "the order lowering HAT on eBay")
    polls = len([r for r in market.requests if r["path"] == ORDERS])
    gateway.wait_until(lambda: len([r for r in market.requests if r["path"] == ORDERS and r["status"] == 200])
                       >= polls + 3, 60, "three more order polls, each showing the order again")
    shown = gateway.cli("stock", "--json")
    assert shown.returncode == 0, shown.stderr
    assert market.quantity("HAT") == 7 and '"HAT"' in shown.stdout
    assert market.tokens_issued >= 2 and market.violations == []
    _secrets_absent(gateway, market, database_url)


def test_a_cancellation_with_each_ebay_reason_code_restores_or_keeps_stock_as_seed_003_says(ebay_serve):
    gateway, market, database_url = ebay_serve
    codes = [(code, row.restores) for row in REASON_TABLES["ebay"] for code in row.api_codes]
    _start(gateway, market, hats=40)
    for n, _ in enumerate(codes):
        market.place_order(f"12-00000-{n:05d}", [("HAT", 1)])
    gateway.wait_until(lambda: market.quantity("HAT") == 40 - len(codes), 60, "every order taking one HAT")
    for n, (code, restores) in enumerate(codes):
        market.cancel(f"12-00000-{n:05d}", code, "Buyer" if restores else "Seller")
    kept = sum(not restores for _, restores in codes)
    gateway.wait_until(lambda: market.quantity("HAT") == 40 - kept, 60, "the restores on eBay")
    for n, (code, restores) in enumerate(codes):
        explained = gateway.cli("orders", "explain", "eb", f"12-00000-{n:05d}", "--json")
        assert explained.returncode == 0, explained.stderr
        line = json.loads(explained.stdout)["lines"][0]
        assert line["cancellation"]["reason"] == code
        assert sum(a["restored_units"] for a in line["allocations"]) == (1 if restores else 0), line
        assert line["cancellation"]["by"] == ("buyer" if restores else "seller")
    assert market.violations == []


def test_serve_with_the_refresh_token_variable_not_set_stops_with_one_line_naming_the_key(ebay_serve, monkeypatch):
    gateway, market, database_url = ebay_serve
    monkeypatch.delenv("EB_E2E_REFRESH_TOKEN")
    result = gateway.cli("serve")
    assert result.returncode == 2
    assert "options.refresh_token_env: environment variable EB_E2E_REFRESH_TOKEN is not set" in result.stderr
    assert "Traceback" not in result.stderr and market.client_secret not in result.stderr
