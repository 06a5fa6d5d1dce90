"""End to end through the real `stockgate serve` with a `shopify` channel talking to the Shopify contract
server (client credentials): FTP uploads reach Shopify, an order takes stock once across a throttle storm
and a token expiry, each OrderCancelReason restores or keeps stock as seed 003 says, and no credential
shows anywhere."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from channels.shopify_orders import CANCEL_REASONS
from gateway.core.restore_policy import match_reason
from marketplace_serve import (assert_cancellation, assert_secrets_absent, assert_serve_stops_naming, explained_line,
                               first_quantities, serve_against, update_reaches, wait_for_more_polls)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
from shopify_server import ShopifyServer  # noqa: E402

pytestmark = pytest.mark.slow


def _shopify_serve(server, tmp_path, database_url, monkeypatch, edit=lambda text: text):
    return serve_against(server, tmp_path, database_url, monkeypatch, "shop", "shopify",
                         {"SHOP_E2E_CLIENT_ID": "client_id", "SHOP_E2E_CLIENT_SECRET": "client_secret"},
                         {"base_url": server.url}, edit)


@pytest.fixture
def shopify_serve(tmp_path, database_url, monkeypatch):
    server = ShopifyServer().start()
    market = server.market
    with _shopify_serve(server, tmp_path, database_url, monkeypatch) as gateway:
        for sku in ("HAT", "CAP"):
            market.add_variant(sku, 0)
        yield gateway, market, database_url


def _secrets_absent(gateway, market, database_url) -> None:
    assert_secrets_absent(gateway, database_url, [market.client_secret, market.client_id,
                                                  *(t for t in market.tokens if t != market.static_token)])


def test_an_ftp_upload_reaches_shopify_as_the_right_quantity_for_every_listing(shopify_serve):
    gateway, market, database_url = shopify_serve
    first_quantities(gateway, market, "Shopify")
    update_reaches(gateway, market, "Shopify")
    assert market.violations == []
    assert all('@idempotent(key: "' in json.loads(s["body"])["query"]
               for s in market.requests if s.get("operation") == "StockGateSetQuantities")
    _secrets_absent(gateway, market, database_url)


def test_an_order_takes_stock_once_across_a_throttle_storm_and_a_token_expiry(shopify_serve):
    gateway, market, database_url = shopify_serve
    first_quantities(gateway, market, "Shopify")
    market.expire_tokens()
    market.fail("429", "StockGateOrders", times=6)
    market.fail("throttled_200", "StockGateSetQuantities", times=6)
    market.place_order(1001, [("HAT", 3)])
    gateway.wait_until(lambda: market.quantity("HAT") == 7, 60, "the order lowering HAT on Shopify")
    wait_for_more_polls(gateway, market, lambda r: r.get("operation") == "StockGateOrders",
                        "three more order polls, each showing 1001 again")
    shown = gateway.cli("stock", "--json")
    assert shown.returncode == 0, shown.stderr
    assert market.quantity("HAT") == 7 and '"HAT"' in shown.stdout
    assert market.tokens_issued >= 2
    _secrets_absent(gateway, market, database_url)


def test_a_cancellation_with_each_shopify_reason_restores_or_keeps_stock_as_seed_003_says(shopify_serve):
    gateway, market, database_url = shopify_serve
    first_quantities(gateway, market, "Shopify")
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
        assert_cancellation(explained_line(gateway, "shop", str(n)), reason, restores[reason],
                            "buyer" if reason == "CUSTOMER" else "seller")


def test_serve_with_a_shopify_secret_variable_not_set_stops_with_one_line_naming_the_key(shopify_serve,
                                                                                         monkeypatch):
    gateway, market, database_url = shopify_serve
    assert_serve_stops_naming(gateway, monkeypatch, "client_secret_env", "SHOP_E2E_CLIENT_SECRET", market.client_id)


def test_an_ftp_upload_reaches_two_shopify_locations_fed_by_different_warehouses(tmp_path, database_url, monkeypatch):
    server = ShopifyServer().start()
    market = server.market
    first, second = "gid://shopify/Location/1", "gid://shopify/Location/2"
    locations = f'locations = {{ "1" = ["MF"], "{second}" = ["EAST"] }}\n[channels.options]'   # a number, a gid
    with _shopify_serve(server, tmp_path, database_url, monkeypatch,
                        lambda text: text.replace("[channels.options]", locations)) as gateway:
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
