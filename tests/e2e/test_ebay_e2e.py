"""End to end through the real `stockgate serve` with an `ebay` channel talking to the eBay contract server:
FTP uploads reach eBay, an order takes stock once across a 429 storm and a token expiry, a cancellation
with each eBay reason code restores or keeps stock as seed 003 says, and no credential shows anywhere."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gateway.core.reason_tables import REASON_TABLES
from marketplace_serve import (assert_cancellation, assert_secrets_absent, assert_serve_stops_naming, explained_line,
                               first_quantities, serve_against, update_reaches, wait_for_more_polls)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
from ebay_server import EbayServer  # noqa: E402

pytestmark = pytest.mark.slow
BULK = "/sell/inventory/v1/bulk_update_price_quantity"
ORDERS = "/sell/fulfillment/v1/order"


ENV = {"EB_E2E_CLIENT_ID": "client_id", "EB_E2E_CLIENT_SECRET": "client_secret",
       "EB_E2E_REFRESH_TOKEN": "refresh_token"}


@pytest.fixture
def ebay_serve(tmp_path, database_url, monkeypatch):
    server = EbayServer().start()
    market = server.market
    with serve_against(server, tmp_path, database_url, monkeypatch, "eb", "ebay", ENV,
                       {"base_url": server.url}) as gateway:
        market.add_item("HAT")
        market.add_item("CAP", offer=None)                 # an item without a published offer yet
        yield gateway, market, database_url


def _secrets_absent(gateway, market, database_url) -> None:
    assert_secrets_absent(gateway, database_url,
                          [market.client_secret, market.client_id, market.refresh_token, *market.tokens])


def test_an_ftp_upload_reaches_ebay_as_the_right_quantity_for_every_listing(ebay_serve):
    gateway, market, database_url = ebay_serve
    first_quantities(gateway, market, "eBay")
    update_reaches(gateway, market, "eBay")
    offer = market.offers["HAT"][0]
    assert (offer["availableQuantity"], market.item("HAT")["availability"]["shipToLocationAvailability"]["quantity"]) \
        == (7, 7)
    assert market.violations == []
    _secrets_absent(gateway, market, database_url)


def test_an_order_takes_stock_once_across_a_429_storm_and_a_token_expiry(ebay_serve):
    gateway, market, database_url = ebay_serve
    first_quantities(gateway, market, "eBay")
    market.expire_tokens()
    market.fail("429", ORDERS, times=6)
    market.fail("429", BULK, times=6, Retry_After="0")
    market.place_order("12-34567-89012", [("HAT", 3)])
    gateway.wait_until(lambda: market.quantity("HAT") == 7, 60, "the order lowering HAT on eBay")
    wait_for_more_polls(gateway, market, lambda r: r["path"] == ORDERS,
                        "three more order polls, each showing the order again")
    shown = gateway.cli("stock", "--json")
    assert shown.returncode == 0, shown.stderr
    assert market.quantity("HAT") == 7 and '"HAT"' in shown.stdout
    assert market.tokens_issued >= 2 and market.violations == []
    _secrets_absent(gateway, market, database_url)


def test_a_cancellation_with_each_ebay_reason_code_restores_or_keeps_stock_as_seed_003_says(ebay_serve):
    gateway, market, database_url = ebay_serve
    codes = [(code, row.restores) for row in REASON_TABLES["ebay"] for code in row.api_codes]
    first_quantities(gateway, market, "eBay", hats=40)
    for n, _ in enumerate(codes):
        market.place_order(f"12-00000-{n:05d}", [("HAT", 1)])
    gateway.wait_until(lambda: market.quantity("HAT") == 40 - len(codes), 60, "every order taking one HAT")
    for n, (code, restores) in enumerate(codes):
        market.cancel(f"12-00000-{n:05d}", code, "Buyer" if restores else "Seller")
    kept = sum(not restores for _, restores in codes)
    gateway.wait_until(lambda: market.quantity("HAT") == 40 - kept, 60, "the restores on eBay")
    for n, (code, restores) in enumerate(codes):
        assert_cancellation(explained_line(gateway, "eb", f"12-00000-{n:05d}"), code, restores,
                            "buyer" if restores else "seller")
    assert market.violations == []


def test_serve_with_the_refresh_token_variable_not_set_stops_with_one_line_naming_the_key(ebay_serve, monkeypatch):
    gateway, market, database_url = ebay_serve
    assert_serve_stops_naming(gateway, monkeypatch, "refresh_token_env", "EB_E2E_REFRESH_TOKEN", market.client_secret)
