"""End to end through the real `stockgate serve` with an `amazon` channel talking to the SP-API contract
server: FTP uploads reach Amazon, an order takes stock once across a 429 storm and an expired access token,
each Amazon reason code restores or keeps stock as seed 003 says, and no credential shows anywhere."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gateway.core.reason_tables import REASON_TABLES
from marketplace_serve import (assert_cancellation, assert_secrets_absent, assert_serve_stops_naming, explained_line,
                               first_quantities, serve_against, update_reaches, wait_for_more_polls)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
from amazon_server import AmazonServer  # noqa: E402

pytestmark = pytest.mark.slow


ENV = {"AMZ_E2E_CLIENT_ID": "client_id", "AMZ_E2E_CLIENT_SECRET": "client_secret",
       "AMZ_E2E_REFRESH_TOKEN": "refresh_token"}


@pytest.fixture
def amazon_serve(tmp_path, database_url, monkeypatch):
    server = AmazonServer().start()
    market = server.market
    market.event_age_seconds = 300                       # SP-API's updates reach searchOrders late
    market.plans["searchOrders"] = (20.0, 20)            # a raised usage plan, stated in x-amzn-RateLimit-Limit
    options = {"base_url": server.url, "token_url": server.token_url, "seller_id": market.seller_id}
    with serve_against(server, tmp_path, database_url, monkeypatch, "amz", "amazon",
                       ENV, options) as gateway:
        for sku in ("HAT", "CAP"):
            market.add_listing(sku, "HAT", 0)
        yield gateway, market, database_url


def _secrets_absent(gateway, market, database_url) -> None:
    assert_secrets_absent(gateway, database_url,
                          [market.client_secret, market.client_id, market.refresh_token, *market.tokens])


def test_an_ftp_upload_reaches_amazon_as_the_right_quantity_for_every_listing(amazon_serve):
    gateway, market, database_url = amazon_serve
    first_quantities(gateway, market, "Amazon")
    update_reaches(gateway, market, "Amazon")
    assert market.violations == []
    _secrets_absent(gateway, market, database_url)


def test_an_order_takes_stock_once_across_a_429_storm_and_an_expired_token(amazon_serve):
    gateway, market, database_url = amazon_serve
    first_quantities(gateway, market, "Amazon")
    market.expire_tokens()
    market.fail("429", "/orders/", times=6)
    market.fail("429", "/listings/", times=6)
    market.place_order("111-0000001-0000001", [("HAT", 3)])
    gateway.wait_until(lambda: market.quantity("HAT") == 7, 60, "the order lowering HAT on Amazon")
    wait_for_more_polls(gateway, market, lambda r: r["path"] == "/orders/2026-01-01/orders",
                        "three more order polls, each showing the order again")
    shown = gateway.cli("stock", "--json")
    assert shown.returncode == 0, shown.stderr
    assert market.quantity("HAT") == 7 and '"HAT"' in shown.stdout
    assert market.tokens_issued >= 2 and market.violations == []
    _secrets_absent(gateway, market, database_url)


def test_a_cancellation_with_each_amazon_reason_code_restores_or_keeps_stock_as_seed_003_says(amazon_serve):
    gateway, market, database_url = amazon_serve
    first_quantities(gateway, market, "Amazon")
    rows = REASON_TABLES["amazon"]
    for n, row in enumerate(rows):
        market.place_order(f"O-{n}", [("HAT", 1)])
    gateway.wait_until(lambda: market.quantity("HAT") == 10 - len(rows), 60, "every order taking one HAT")
    for n, row in enumerate(rows):
        market.cancel_item(f"O-{n}", 1, cancelled_by="BUYER" if row.api_codes[0] == "BuyerCanceled" else "MERCHANT",
                           reason=row.api_codes[0])
    kept = sum(not row.restores for row in rows)
    gateway.wait_until(lambda: market.quantity("HAT") == 10 - kept, 60, "the restores on Amazon")
    for n, row in enumerate(rows):
        assert_cancellation(explained_line(gateway, "amz", f"O-{n}"), row.api_codes[0], row.restores,
                            "buyer" if row.api_codes[0] == "BuyerCanceled" else "seller")
    assert market.violations == []


def test_serve_with_the_refresh_token_variable_not_set_stops_with_one_line_naming_the_key(amazon_serve, monkeypatch):
    gateway, market, database_url = amazon_serve
    assert_serve_stops_naming(gateway, monkeypatch, "refresh_token_env", "AMZ_E2E_REFRESH_TOKEN", market.refresh_token)
