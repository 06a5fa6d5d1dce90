"""End to end through the real `stockgate serve` with a `walmart` channel talking to the Walmart contract
server: FTP uploads reach Walmart, an order takes stock once across a 429 storm and a token expiry, each
Walmart reason code restores or keeps stock as seed 003 says, and no credential shows anywhere."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gateway.core.reason_tables import REASON_TABLES
from marketplace_serve import (assert_cancellation, assert_secrets_absent, assert_serve_stops_naming, explained_line,
                               first_quantities, serve_against, update_reaches, wait_for_more_polls)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
from walmart_server import WalmartServer  # noqa: E402

pytestmark = pytest.mark.slow


def _walmart_serve(server, tmp_path, database_url, monkeypatch, edit=lambda text: text):
    return serve_against(server, tmp_path, database_url, monkeypatch, "wm", "walmart",
                         {"WM_E2E_CLIENT_ID": "client_id", "WM_E2E_CLIENT_SECRET": "client_secret"},
                         {"base_url": server.url}, edit)


@pytest.fixture
def walmart_serve(tmp_path, database_url, monkeypatch):
    server = WalmartServer().start()
    market = server.market
    with _walmart_serve(server, tmp_path, database_url, monkeypatch) as gateway:
        for sku in ("HAT", "CAP"):
            market.add_item(sku)
        yield gateway, market, database_url


def _secrets_absent(gateway, market, database_url) -> None:
    assert_secrets_absent(gateway, database_url, [market.client_secret, market.client_id, *market.tokens])


def test_an_ftp_upload_reaches_walmart_as_the_right_quantity_for_every_listing(walmart_serve):
    gateway, market, database_url = walmart_serve
    first_quantities(gateway, market, "Walmart")
    update_reaches(gateway, market, "Walmart")
    assert market.violations == []
    _secrets_absent(gateway, market, database_url)


def test_an_order_takes_stock_once_across_a_429_storm_and_a_token_expiry(walmart_serve):
    gateway, market, database_url = walmart_serve
    first_quantities(gateway, market, "Walmart")
    market.expire_tokens()
    market.fail("429", "/v3/orders", times=6, x_current_token_count="0", x_next_replenish_time="0")
    market.fail("429", "/v3/inventory", times=6)
    market.place_order("PO-1", [("HAT", 3)])
    gateway.wait_until(lambda: market.quantity("HAT") == 7, 60, "the order lowering HAT on Walmart")
    wait_for_more_polls(gateway, market, lambda r: r["path"] == "/v3/orders",
                        "three more order polls, each showing PO-1 again")
    shown = gateway.cli("stock", "--json")
    assert shown.returncode == 0, shown.stderr
    assert market.quantity("HAT") == 7 and '"HAT"' in shown.stdout and "7" in shown.stdout
    assert market.tokens_issued >= 2
    _secrets_absent(gateway, market, database_url)


def test_a_cancellation_with_each_walmart_reason_code_restores_or_keeps_stock_as_seed_003_says(walmart_serve):
    gateway, market, database_url = walmart_serve
    first_quantities(gateway, market, "Walmart")
    rows = REASON_TABLES["walmart"]
    for n, row in enumerate(rows):
        market.place_order(f"PO-{n}", [("HAT", 1)])
    gateway.wait_until(lambda: market.quantity("HAT") == 10 - len(rows), 60, "every order taking one HAT")
    for n, row in enumerate(rows):
        market.cancel_line(f"PO-{n}", "1", row.api_codes[0])
    kept = sum(not row.restores for row in rows)
    gateway.wait_until(lambda: market.quantity("HAT") == 10 - kept, 60, "the restores on Walmart")
    for n, row in enumerate(rows):
        assert_cancellation(explained_line(gateway, "wm", f"PO-{n}"), row.api_codes[0], row.restores,
                            "buyer" if row.api_codes[0].startswith("CUSTOMER") else "seller")


def test_serve_with_a_walmart_secret_variable_not_set_stops_with_one_line_naming_the_key(walmart_serve, monkeypatch):
    gateway, market, database_url = walmart_serve
    assert_serve_stops_naming(gateway, monkeypatch, "client_secret_env", "WM_E2E_CLIENT_SECRET", market.client_id)


def test_an_ftp_upload_reaches_two_walmart_ship_nodes_fed_by_different_warehouses(tmp_path, database_url,
                                                                                   monkeypatch):
    server = WalmartServer().start()
    market = server.market
    market.ship_nodes = {"NODE-MF", "NODE-EAST"}
    locations = 'locations = { "NODE-MF" = ["MF"], "NODE-EAST" = ["EAST"] }\n[channels.options]'
    with _walmart_serve(server, tmp_path, database_url, monkeypatch,
                        lambda text: text.replace("[channels.options]", locations)) as gateway:
        market.add_item("HAT")
        gateway.start()
        gateway.upload(b"SKU,MF,EAST\r\nHAT,10,3\r\n", "first.csv")
        gateway.wait_until(lambda: (market.quantity("HAT", "NODE-MF"), market.quantity("HAT", "NODE-EAST")) == (10, 3),
                           60, "HAT at both ship nodes")
        gateway.upload(b"SKU,MF,EAST\r\nHAT,10,1\r\n", "update.csv")
        gateway.wait_until(lambda: market.quantity("HAT", "NODE-EAST") == 1, 60, "the EAST node's new quantity")
        assert market.quantity("HAT", "NODE-MF") == 10 and market.quantity("HAT") is None
        assert market.violations == []
