"""A `shopify` channel through the gateway (real database, both engines) against the contract server:
pushes from the outbox, orders taking stock once, each OrderCancelReason restoring or keeping stock as
seed 003 says, one token refresh for every worker, `channels check`, cancelling on Shopify, and no
credential in the database."""

from __future__ import annotations

import json
import os
import stat

import pytest

from channel_helpers import channel_toml
from channels.shopify_orders import CANCEL_REASONS
from gateway.channel_sync.jobs import ChannelJobs
from gateway.channel_sync.token_store import token_path
from gateway.core.reason_tables import UNMAPPED_API_CODES
from gateway.core.restore_policy import match_reason
from gateway.db import schema
from gateway.errors import ConfigError
from marketplace_channel import (available_quantity as _available, database_text, end_backoff, linked, owed,
                                 sync_from_two_processes, web_api)
from shopify_helpers import CLIENT_ENV, TOKEN_ENV, shopify_options


def _options(server, monkeypatch, client: bool, **options) -> dict:
    return shopify_options(server, monkeypatch, CLIENT_ENV if client else TOKEN_ENV, **options)


def _shopify(make_channels, server, monkeypatch, client: bool = True, **options):
    return make_channels(channel_toml("shop", "shopify", "shopify", restore_policy="smart",
                                      options=_options(server, monkeypatch, client, **options)))


def _linked(ch, server, stock: dict[str, int]) -> None:
    linked(ch, "shop", lambda sku: server.market.add_variant(sku, 0), stock)


@pytest.fixture
def shop(make_channels, shopify_server, monkeypatch):
    return _shopify(make_channels, shopify_server, monkeypatch)


def test_stock_reaches_shopify_and_an_item_shopify_refuses_is_the_only_one_retried(shop, shopify_server):
    market = shopify_server.market
    for sku in ("HAT", "CAP", "BAG"):
        market.add_variant(sku, 0)
    market.item_errors[market.item("CAP")] = "NON_MUTABLE_INVENTORY_ITEM"
    for sku, quantity in (("HAT", 7), ("CAP", 3), ("BAG", 2)):
        shop.set(sku, "MF", quantity)
    shop.jobs.sync("shop", full=True)
    shop.jobs.push_now("shop")
    assert (market.quantity("HAT"), market.quantity("CAP"), market.quantity("BAG")) == (7, 0, 2)
    still_owed = owed(shop, schema.listings.c.sku)
    assert [row.sku for row in still_owed] == ["CAP"] and "NON_MUTABLE_INVENTORY_ITEM" in still_owed[0].last_push_error


def test_a_throttle_storm_leaves_the_push_in_the_outbox_and_the_next_push_delivers_it(shop, shopify_server):
    market = shopify_server.market
    _linked(shop, shopify_server, {"HAT": 7})
    shop.set("HAT", "MF", 4)
    market.fail("throttled_200", "StockGateSetQuantities", times=40)
    outcome = shop.jobs.push_now("shop")
    assert (outcome.delivered, outcome.failed, market.quantity("HAT")) == (0, 1, 7)
    market.failures.clear()
    end_backoff(shop)
    assert shop.jobs.push_now("shop").delivered == 1 and market.quantity("HAT") == 4


def test_an_order_seen_by_two_overlapping_polls_and_a_token_expiry_takes_stock_once(shop, shopify_server):
    market = shopify_server.market
    _linked(shop, shopify_server, {"HAT": 10})
    market.place_order(1001, [("HAT", 3)])
    shop.jobs.pull("shop")
    market.expire_tokens()
    market.fail("429", "StockGateOrders", times=2)
    again = shop.jobs.pull("shop")                         # the overlap shows 1001 again
    assert (again.orders, again.changed) == (1, 0)
    assert _available(shop, "HAT") == 7
    shop.jobs.push_now("shop")
    assert market.quantity("HAT") == 7 and market.tokens_issued == 2


RESTORES = {"CUSTOMER": True, "DECLINED": True, "FRAUD": True, "INVENTORY": False, "OTHER": True, "STAFF": True}


@pytest.mark.parametrize("reason", CANCEL_REASONS)
def test_a_shopify_cancellation_restores_or_keeps_stock_as_the_reason_table_says(shop, shopify_server, reason):
    market = shopify_server.market
    _linked(shop, shopify_server, {"HAT": 10})
    market.place_order(1001, [("HAT", 2)])
    shop.jobs.pull("shop")
    market.cancel(1001, reason)
    outcome = shop.jobs.pull("shop")
    assert outcome.cancellations == 1
    assert _available(shop, "HAT") == (10 if RESTORES[reason] else 8)


def test_every_shopify_cancel_reason_has_a_row_of_the_reason_table_or_is_listed_unmapped():
    for reason in CANCEL_REASONS:
        row = match_reason("shopify", reason)
        assert row is not None or reason.lower() in UNMAPPED_API_CODES["shopify"], reason
        if row is not None:
            assert row.restores is RESTORES[reason]
    assert match_reason("shopify", "INVENTORY").verdict == "no"


def test_workers_of_two_processes_share_one_token_refresh_and_the_token_stays_out_of_the_database(
        shop, shopify_server, db):
    market = shopify_server.market
    for sku in ("HAT", "CAP"):
        shop.set(sku, "MF", 1)
        market.add_variant(sku, 0)
    sync_from_two_processes(shop, db, "shop")
    assert market.tokens_issued == 1
    path = token_path(shop.settings.data_dir, "shop")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    issued = [t for t in market.tokens if t != market.static_token]
    dumped = database_text(db)
    for secret in (*issued, market.client_secret):
        assert secret not in dumped


def test_a_token_written_in_the_toml_is_refused_without_being_shown(make_channels, shopify_server, monkeypatch):
    ch = _shopify(make_channels, shopify_server, monkeypatch, client=False, access_token="shpat_in_the_file_123")
    with pytest.raises(ConfigError, match=r"options\.access_token: a credential is never written") as caught:
        ch.jobs.adapter("shop")
    assert "shpat_in_the_file" not in str(caught.value)


def test_a_token_variable_not_set_is_a_config_error_naming_the_key(make_channels, shopify_server, monkeypatch):
    ch = _shopify(make_channels, shopify_server, monkeypatch, client=False)
    monkeypatch.delenv("SHOP_TEST_TOKEN")
    with pytest.raises(ConfigError, match=r"channels\[0\]\.options\.access_token_env: environment variable "
                                          r"SHOP_TEST_TOKEN is not set"):
        ChannelJobs(ch.jobs.db, ch.settings).adapter("shop")


@pytest.mark.parametrize("options, message", [
    ({"api_version": "2025-10"}, r"options\.api_version: 2025-10 is older than 2026-01"),
    ({"api_version": "latest"}, r"options\.api_version: 'latest' is not a Shopify API version"),
    ({"batch_size": 500}, r"options\.batch_size: at most 250"),
    ({"compare_and_set": "yes"}, r"options\.compare_and_set: must be true or false"),
    ({"take_stock_at": "shipped"}, r"options\.take_stock_at: 'shipped' is not one of authorized, paid, placed"),
])
def test_a_bad_option_is_a_config_error_naming_it(make_channels, shopify_server, monkeypatch, options, message):
    ch = _shopify(make_channels, shopify_server, monkeypatch, client=False, **options)
    with pytest.raises(ConfigError, match=message):
        ch.jobs.adapter("shop")


def _check_config(write_config, server, monkeypatch, **options):
    return write_config(channel_toml("shop", "shopify", "shopify",
                                     options=_options(server, monkeypatch, False, **options)))


def test_channels_check_says_every_scope_is_there(stockgate, write_config, shopify_server, monkeypatch):
    config = _check_config(write_config, shopify_server, monkeypatch)
    assert stockgate("init", config=config).code == 0
    result = stockgate("channels", "check", "shop", "--json")
    assert result.code == 0, result.err
    assert [(c["step"], c["ok"]) for c in json.loads(result.out)["checks"]] == [
        ("token", True), ("scopes", True), ("location", True), ("listings", True), ("orders", True)]


def test_channels_check_names_the_missing_scope_the_unknown_location_and_the_revoked_token(
        stockgate, write_config, shopify_server, monkeypatch):
    market = shopify_server.market
    config = _check_config(write_config, shopify_server, monkeypatch, location_id="77")
    assert stockgate("init", config=config).code == 0
    market.scopes.discard("write_inventory")
    result = stockgate("channels", "check", "shop")
    assert result.code == 1
    assert "lacks the access scope(s) write_inventory (quantities)" in result.out
    assert "location_id 77: no such location in the shop" in result.out
    market.tokens.clear()
    result = stockgate("channels", "check", "shop")
    assert result.code == 1 and "revoked or the app uninstalled" in result.out
    assert market.static_token not in result.out + result.err


@pytest.mark.parametrize("flag, reason, available", [("--no-restore", "INVENTORY", 8), ("--restore", "CUSTOMER", 10)])
def test_orders_cancel_cancels_on_shopify_too_with_a_reason_shopify_accepts(stockgate, shop, shopify_server, flag,
                                                                            reason, available):
    market = shopify_server.market
    _linked(shop, shopify_server, {"HAT": 10})
    market.place_order(1001, [("HAT", 2)])
    shop.jobs.pull("shop")
    result = stockgate("orders", "cancel", "shop", "1001", flag, config=shop.config)
    assert result.code == 0, result.err
    assert f"cancelled on the marketplace too: line(s) 100101 ({reason})" in result.out
    assert market.latest(1001)["cancelReason"] == reason and market.cancel_calls[0]["restock"] is False
    assert _available(shop, "HAT") == available
    assert shop.jobs.pull("shop").cancellations == 0           # Shopify's echo of it changes nothing
    assert _available(shop, "HAT") == available


def test_cancelling_one_line_of_a_shopify_order_is_refused_and_changes_nothing(stockgate, shop, shopify_server):
    market = shopify_server.market
    _linked(shop, shopify_server, {"HAT": 10, "CAP": 5})
    market.place_order(1001, [("HAT", 2), ("CAP", 1)])
    shop.jobs.pull("shop")
    result = stockgate("orders", "cancel", "shop", "1001", "--line", "100101", "--no-restore", config=shop.config)
    assert result.code != 0 and "shopify cancels whole orders only" in result.err
    assert market.cancel_calls == [] and market.latest(1001)["cancelledAt"] is None
    assert (_available(shop, "HAT"), _available(shop, "CAP")) == (8, 4)


def test_a_pending_order_takes_stock_once_when_shopify_reports_it_paid(make_channels, shopify_server, monkeypatch):
    market = shopify_server.market
    ch = _shopify(make_channels, shopify_server, monkeypatch, take_stock_at="paid")
    _linked(ch, shopify_server, {"HAT": 10})
    market.place_order(1001, [("HAT", 2)], financial="PENDING")
    ch.jobs.pull("shop")
    assert _available(ch, "HAT") == 10
    market.update_order(1001, displayFinancialStatus="PAID")
    ch.jobs.pull("shop")
    ch.jobs.pull("shop")
    assert _available(ch, "HAT") == 8
    ch.jobs.push_now("shop")
    assert market.quantity("HAT") == 8


def test_the_web_apis_cancel_cancels_the_whole_order_on_shopify_and_refuses_a_single_line(shop, shopify_server):
    market = shopify_server.market
    _linked(shop, shopify_server, {"HAT": 10, "CAP": 5})
    market.place_order(1001, [("HAT", 2), ("CAP", 1)])
    shop.jobs.pull("shop")
    with web_api(shop) as post:                  # loopback, no user configured: open as today
        status, refused = post("/api/v1/orders/shop/1001/cancel", {"choice": "restore", "lines": ["100101"]})
        assert status == 400 and "shopify cancels whole orders only" in refused["detail"]
        assert market.cancel_calls == [] and _available(shop, "HAT") == 8
        status, done = post("/api/v1/orders/shop/1001/cancel", {"choice": "restore"})
    assert status == 200, done
    assert done["marketplace"]["reason"] == "CUSTOMER" and sorted(done["marketplace"]["lines"]) == ["100101", "100102"]
    assert market.latest(1001)["cancelReason"] == "CUSTOMER"
    assert (_available(shop, "HAT"), _available(shop, "CAP")) == (10, 5)
