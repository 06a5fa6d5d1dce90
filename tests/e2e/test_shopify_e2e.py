"""End to end through the real `stockgate serve` with a `shopify` channel talking to the Shopify contract
server (client credentials): FTP uploads reach Shopify, an order takes stock once across a throttle storm
and a token expiry, each OrderCancelReason restores or keeps stock as seed 003 says, and no credential
shows anywhere."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from channels.shopify_orders import CANCEL_REASONS
from gateway.core.restore_policy import match_reason
from gateway.db import schema
from gateway.db.engine import make_database
from serve_harness import Serve, config_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
from shopify_server import ShopifyServer  # noqa: E402

pytestmark = pytest.mark.slow


def _shopify_config(data_dir: Path, database_url: str, url: str) -> str:
    base = config_text(data_dir, database_url).split("\n[[channels]]")[0]       # FTP account wh, no sandboxes
    return base + (
        '\n[[channels]]\nname = "shop"\nmarketplace = "shopify"\nadapter = "shopify"\nrestore_policy = "smart"\n'
        'order_interval_seconds = 1\npush_interval_seconds = 30\nlisting_interval_seconds = 3600\n'
        'retry_base_seconds = 0.2\nretry_max_seconds = 1\n'
        f'[channels.options]\nbase_url = "{url}"\nclient_id_env = "SHOP_E2E_CLIENT_ID"\n'
        'client_secret_env = "SHOP_E2E_CLIENT_SECRET"\nbackoff_base_seconds = 0.05\n'
        'throttle_max_delay_seconds = 0.2\nthrottle_budget_seconds = 1\n')


@pytest.fixture
def shopify_serve(tmp_path, database_url, monkeypatch):
    server = ShopifyServer().start()
    market = server.market
    monkeypatch.setenv("SHOP_E2E_CLIENT_ID", market.client_id)
    monkeypatch.setenv("SHOP_E2E_CLIENT_SECRET", market.client_secret)
    data_dir = tmp_path / "var"
    config = tmp_path / "stockgate.toml"
    config.write_text(_shopify_config(data_dir, database_url, server.url))
    gateway = Serve(config, data_dir, 0, tmp_path / "serve.log")
    assert gateway.cli("init").returncode == 0
    for sku in ("HAT", "CAP"):
        market.add_variant(sku, 0)
    yield gateway, market, database_url
    gateway.stop()
    server.stop()


def _start(gateway, market, stock: bytes = b"SKU,MF\r\nHAT,10\r\nCAP,5\r\n") -> None:
    gateway.start()
    gateway.upload(stock, "first.csv")
    gateway.wait_until(lambda: market.quantity("HAT") == 10 and market.quantity("CAP") == 5, 60,
                       "the first quantities on Shopify")


def _secrets_absent(gateway, market, database_url) -> None:
    secrets = [market.client_secret, market.client_id, *(t for t in market.tokens if t != market.static_token)]
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


def test_an_ftp_upload_reaches_shopify_as_the_right_quantity_for_every_listing(shopify_serve):
    gateway, market, database_url = shopify_serve
    _start(gateway, market)
    gateway.upload(b"SKU,MF\r\nHAT,7\r\nCAP,0\r\n", "update.csv")
    gateway.wait_until(lambda: (market.quantity("HAT"), market.quantity("CAP")) == (7, 0), 60,
                       "Shopify showing HAT 7 and CAP 0")
    assert market.violations == []
    assert all('@idempotent(key: "' in json.loads(s["body"])["query"]
               for s in market.requests if s.get("operation") == "StockGateSetQuantities")
    _secrets_absent(gateway, market, database_url)


def test_an_order_takes_stock_once_across_a_throttle_storm_and_a_token_expiry(shopify_serve):
    gateway, market, database_url = shopify_serve
    _start(gateway, market)
    market.expire_tokens()
    market.fail("429", "StockGateOrders", times=6)
    market.fail("throttled_200", "StockGateSetQuantities", times=6)
    market.place_order(1001, [("HAT", 3)])
    gateway.wait_until(lambda: market.quantity("HAT") == 7, 60, "the order lowering HAT on Shopify")
    polls = len([r for r in market.requests if r.get("operation") == "StockGateOrders"])
    gateway.wait_until(lambda: len([r for r in market.requests if r.get("operation") == "StockGateOrders"
                                    and r["status"] == 200]) >= polls + 3, 60,
                       "three more order polls, each showing 1001 again")
    shown = gateway.cli("stock", "--json")
    assert shown.returncode == 0, shown.stderr
    assert market.quantity("HAT") == 7 and '"HAT"' in shown.stdout
    assert market.tokens_issued >= 2
    _secrets_absent(gateway, market, database_url)


def test_a_cancellation_with_each_shopify_reason_restores_or_keeps_stock_as_seed_003_says(shopify_serve):
    gateway, market, database_url = shopify_serve
    _start(gateway, market)
    for n, reason in enumerate(CANCEL_REASONS, start=1):
        market.place_order(n, [("HAT", 1)])
    gateway.wait_until(lambda: market.quantity("HAT") == 10 - len(CANCEL_REASONS), 60, "every order taking one HAT")
    for n, reason in enumerate(CANCEL_REASONS, start=1):
        market.cancel(n, reason)
    restores = {reason: (match_reason("shopify", reason) is None or match_reason("shopify", reason).restores)
                for reason in CANCEL_REASONS}
    assert restores["INVENTORY"] is False and restores["CUSTOMER"] is True
    kept = sum(not r for r in restores.values())
    gateway.wait_until(lambda: market.quantity("HAT") == 10 - kept, 60, "the restores on Shopify")
    for n, reason in enumerate(CANCEL_REASONS, start=1):
        explained = gateway.cli("orders", "explain", "shop", str(n), "--json")
        assert explained.returncode == 0, explained.stderr
        line = json.loads(explained.stdout)["lines"][0]
        assert line["cancellation"]["reason"] == reason
        assert sum(a["restored_units"] for a in line["allocations"]) == (1 if restores[reason] else 0), line
        assert line["cancellation"]["by"] == ("buyer" if reason == "CUSTOMER" else "seller")


def test_serve_with_a_shopify_secret_variable_not_set_stops_with_one_line_naming_the_key(shopify_serve,
                                                                                         monkeypatch):
    gateway, market, database_url = shopify_serve
    monkeypatch.delenv("SHOP_E2E_CLIENT_SECRET")
    result = gateway.cli("serve")
    assert result.returncode == 2
    assert "options.client_secret_env: environment variable SHOP_E2E_CLIENT_SECRET is not set" in result.stderr
    assert "Traceback" not in result.stderr and market.client_id not in result.stderr


def test_an_ftp_upload_reaches_two_shopify_locations_fed_by_different_warehouses(tmp_path, database_url, monkeypatch):
    server = ShopifyServer().start()
    market = server.market
    first, second = "gid://shopify/Location/1", "gid://shopify/Location/2"
    monkeypatch.setenv("SHOP_E2E_CLIENT_ID", market.client_id)
    monkeypatch.setenv("SHOP_E2E_CLIENT_SECRET", market.client_secret)
    data_dir, config = tmp_path / "var", tmp_path / "stockgate.toml"
    text = _shopify_config(data_dir, database_url, server.url)      # one key a number, one a gid
    config.write_text(text.replace("[channels.options]", f'locations = {{ "1" = ["MF"], "{second}" = ["EAST"] }}\n'
                                                         "[channels.options]"))
    gateway = Serve(config, data_dir, 0, tmp_path / "serve.log")
    try:
        assert gateway.cli("init").returncode == 0
        market.add_variant("HAT", 0, location=first)
        market.stock_at("HAT", second, 0)
        gateway.start()
        gateway.upload(b"SKU,MF,EAST\r\nHAT,10,3\r\n", "first.csv")
        gateway.wait_until(lambda: (market.quantity("HAT", first), market.quantity("HAT", second)) == (10, 3), 60,
                           "HAT at both Shopify locations")
        gateway.upload(b"SKU,MF,EAST\r\nHAT,10,1\r\n", "update.csv")
        gateway.wait_until(lambda: market.quantity("HAT", second) == 1, 60, "the EAST location's new quantity")
        assert market.quantity("HAT", first) == 10
        assert [q["locationId"] for s in market.sets[-1:] for q in s["input"]["quantities"]] == [second]
        assert market.violations == []
    finally:
        gateway.stop()
        server.stop()
