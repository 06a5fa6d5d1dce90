"""An `ebay` channel through the gateway (real database, both engines) against the eBay contract server:
pushes from the outbox with per-SKU outcomes, orders taking stock once, each eBay reason code restoring or
keeping stock as seed 003 says, `orders cancel` cancelling the whole order on eBay first,
`channels check` naming what is missing, and no credential in the database."""

from __future__ import annotations

import json
import os
import stat

import pytest
from sqlalchemy import select

from channel_helpers import channel_toml
from gateway.channel_sync.jobs import ChannelJobs
from gateway.channel_sync.token_store import token_path
from gateway.core.reason_tables import REASON_TABLES, UNMAPPED_API_CODES
from gateway.db import schema
from gateway.errors import ConfigError
from marketplace_channel import (FAST_RETRIES, available_quantity, credential_options, database_text,
                                 end_backoff, linked, owed, sync_from_two_processes, web_api)

FULFILLMENT_SCOPE = "https://api.ebay.com/oauth/api_scope/sell.fulfillment"
ENV = {"EB_TEST_CLIENT_ID": "client_id", "EB_TEST_CLIENT_SECRET": "client_secret",
       "EB_TEST_REFRESH_TOKEN": "refresh_token"}


def _env(server, monkeypatch) -> dict:
    return {"base_url": server.url, **credential_options(monkeypatch, server.market, ENV), **FAST_RETRIES}


def _ebay(make_channels, server, monkeypatch, **options):
    options = {**_env(server, monkeypatch), **options}
    return make_channels(channel_toml("eb", "ebay", "ebay", restore_policy="smart", options=options))


def _linked(ch, server, stock: dict[str, int]) -> None:
    linked(ch, "eb", server.market.add_item, stock)


@pytest.fixture
def eb(make_channels, ebay_server, monkeypatch):
    return _ebay(make_channels, ebay_server, monkeypatch)


def test_stock_reaches_ebay_and_a_sku_ebay_refuses_is_the_only_one_left_owed(eb, ebay_server):
    market = ebay_server.market
    market.sku_errors["CAP"] = (400, 25604, "Item is not eligible for a quantity update")
    _linked(eb, ebay_server, {"HAT": 7, "CAP": 3, "BAG": 2})
    assert (market.quantity("HAT"), market.quantity("CAP"), market.quantity("BAG")) == (7, 0, 2)
    still_owed = owed(eb)
    assert [row.listing_id for row in still_owed] == ["CAP"]
    assert "not eligible for a quantity update" in still_owed[0].last_push_error


def test_an_item_listed_before_its_offer_is_published_keeps_its_listing_and_gets_the_offer_quantity(eb, ebay_server):
    market = ebay_server.market
    eb.set("HAT", "MF", 6)
    market.add_item("HAT", offer=None)
    eb.jobs.sync("eb", full=True)
    eb.jobs.push_now("eb")
    market.offers["HAT"] = [{"offerId": "500000000777", "sku": "HAT", "marketplaceId": "EBAY_US",
                             "format": "FIXED_PRICE", "availableQuantity": 1, "status": "PUBLISHED"}]
    eb.jobs.sync("eb", full=True)                          # the seller published an offer for it on eBay
    eb.set("HAT", "MF", 4)
    eb.jobs.push_now("eb")
    assert market.offers["HAT"][0]["availableQuantity"] == 4 and market.quantity("HAT") == 4
    with eb.jobs.db.read() as conn:
        rows = conn.execute(select(schema.listings.c.listing_id, schema.listings.c.status,
                                   schema.listings.c.link_reason)).all()
    assert [tuple(r) for r in rows] == [("HAT", "active", None)]


def test_a_429_storm_leaves_the_push_in_the_outbox_and_the_next_push_delivers_it(eb, ebay_server):
    market = ebay_server.market
    _linked(eb, ebay_server, {"HAT": 7})
    eb.set("HAT", "MF", 4)
    market.fail("429", "/sell/inventory/v1/bulk_update_price_quantity", times=20)
    outcome = eb.jobs.push_now("eb")
    assert (outcome.delivered, outcome.failed, market.quantity("HAT")) == (0, 1, 7)
    market.failures.clear()
    end_backoff(eb)
    assert eb.jobs.push_now("eb").delivered == 1 and market.quantity("HAT") == 4


def test_an_order_seen_by_two_overlapping_polls_and_a_token_expiry_takes_stock_once(eb, ebay_server):
    market = ebay_server.market
    _linked(eb, ebay_server, {"HAT": 10})
    market.place_order("12-00001-00001", [("HAT", 3)])
    eb.jobs.pull("eb")
    market.expire_tokens()
    market.fail("429", "/sell/fulfillment/v1/order", times=3)
    again = eb.jobs.pull("eb")                             # the overlap shows the order again
    assert (again.orders, again.changed) == (1, 0)
    assert available_quantity(eb, "HAT") == 7
    eb.jobs.push_now("eb")
    assert market.quantity("HAT") == 7


def test_an_unpaid_order_takes_stock_only_once_it_is_paid(eb, ebay_server):
    market = ebay_server.market
    _linked(eb, ebay_server, {"HAT": 10})
    market.place_order("12-00001-00002", [("HAT", 2)], paid=False)
    eb.jobs.pull("eb")
    assert available_quantity(eb, "HAT") == 10
    market.pay("12-00001-00002")
    eb.jobs.pull("eb")
    assert available_quantity(eb, "HAT") == 8


EBAY_CODES = [(code, row.restores) for row in REASON_TABLES["ebay"] for code in row.api_codes]
EBAY_CODES += [("Out of stock", False), ("order placed by mistake", True)]          # prose, as eBay may send it
EBAY_CODES += [(code, True) for code in UNMAPPED_API_CODES["ebay"][:2]]            # no row: Ambiguous, restores


@pytest.mark.parametrize("code, restores", EBAY_CODES, ids=[c for c, _ in EBAY_CODES])
def test_an_ebay_cancellation_restores_or_keeps_stock_as_the_reason_table_says(eb, ebay_server, code, restores):
    market = ebay_server.market
    _linked(eb, ebay_server, {"HAT": 10})
    market.place_order("12-00001-00003", [("HAT", 2)])
    eb.jobs.pull("eb")
    market.cancel("12-00001-00003", code, "Seller" if not restores else "Buyer")
    outcome = eb.jobs.pull("eb")
    assert outcome.cancellations == 1
    assert available_quantity(eb, "HAT") == (10 if restores else 8)


@pytest.mark.parametrize("flag, reason, available", [("--no-restore", "OUT_OF_STOCK_OR_CANNOT_FULFILL", 8),
                                                     ("--restore", "BUYER_ASKED_CANCEL", 10)])
def test_orders_cancel_cancels_on_ebay_too_with_a_seller_reason(stockgate, eb, ebay_server, flag, reason, available):
    market = ebay_server.market
    _linked(eb, ebay_server, {"HAT": 10})
    market.place_order("12-00001-00004", [("HAT", 2)])
    eb.jobs.pull("eb")
    result = stockgate("orders", "cancel", "eb", "12-00001-00004", flag, config=eb.config)
    assert result.code == 0, result.err
    line = market.latest("12-00001-00004")["lineItems"][0]["lineItemId"]
    assert f"cancelled on the marketplace too: line(s) {line} ({reason})" in result.out
    status = market.latest("12-00001-00004")["cancelStatus"]
    assert status["cancelState"] == "CANCELED" and status["cancelRequests"][0]["cancelReason"] == reason
    assert available_quantity(eb, "HAT") == available
    assert eb.jobs.pull("eb").cancellations == 0 and available_quantity(eb, "HAT") == available   # eBay's echo


def test_orders_cancel_refused_by_ebay_leaves_the_order_open(stockgate, eb, ebay_server):
    market = ebay_server.market
    _linked(eb, ebay_server, {"HAT": 10})
    market.place_order("12-00001-00005", [("HAT", 2)])
    market.not_cancellable.add("12-00001-00005")
    eb.jobs.pull("eb")
    result = stockgate("orders", "cancel", "eb", "12-00001-00005", "--no-restore", config=eb.config)
    assert result.code != 0 and "cannot be cancelled (NOT_ELIGIBLE): cancel it in Seller Hub" in result.err
    assert "nothing was changed in StockGate" in result.err and available_quantity(eb, "HAT") == 8
    assert stockgate("orders", "cancel", "eb", "12-00001-00005", "--no-restore", "--here-only",
                     config=eb.config).code == 0
    assert len(market.cancel_calls) == 1


def test_workers_of_two_processes_share_one_token_refresh_and_no_credential_enters_the_database(eb, ebay_server, db):
    market = ebay_server.market
    for sku in ("HAT", "CAP"):
        eb.set(sku, "MF", 1)
        market.add_item(sku)
    sync_from_two_processes(eb, db, "eb")
    assert market.tokens_issued == 1
    assert stat.S_IMODE(os.stat(token_path(eb.settings.data_dir, "eb")).st_mode) == 0o600
    dumped = database_text(db)
    for secret in (next(iter(market.tokens)), market.client_secret, market.refresh_token):
        assert secret not in dumped


def test_a_refresh_token_written_in_the_toml_is_refused_without_being_shown(make_channels, ebay_server, monkeypatch):
    ch = _ebay(make_channels, ebay_server, monkeypatch, refresh_token="v^1.1#secret-in-the-file")
    with pytest.raises(ConfigError, match=r"options\.refresh_token: a credential is never written") as caught:
        ch.jobs.adapter("eb")
    assert "secret-in-the-file" not in str(caught.value)


def test_a_batch_size_above_25_is_refused_naming_the_option(make_channels, ebay_server, monkeypatch):
    ch = _ebay(make_channels, ebay_server, monkeypatch, batch_size=50)
    with pytest.raises(ConfigError, match=r"channels\[0\]\.options\.batch_size: at most 25, got 50"):
        ch.jobs.adapter("eb")


def _check(stockgate, write_config, server, monkeypatch, *args):
    config = write_config(channel_toml("eb", "ebay", "ebay", options=_env(server, monkeypatch)))
    assert stockgate("init", config=config).code == 0
    return stockgate("channels", "check", "eb", *args)


def test_channels_check_says_every_scope_and_api_is_there(stockgate, write_config, ebay_server, monkeypatch):
    result = _check(stockgate, write_config, ebay_server, monkeypatch, "--json")
    assert result.code == 0, result.err
    assert [(c["step"], c["ok"]) for c in json.loads(result.out)["checks"]] == [
        ("token", True), ("inventory", True), ("orders", True), ("location", True)]
    assert "WH-MAIN" in result.out


def test_channels_check_names_the_scope_the_seller_did_not_grant(stockgate, write_config, ebay_server, monkeypatch):
    market = ebay_server.market
    market.refresh_tokens[market.refresh_token] = {"https://api.ebay.com/oauth/api_scope/sell.inventory"}
    result = _check(stockgate, write_config, ebay_server, monkeypatch)
    assert result.code == 1
    assert f"the refresh token lacks scope {FULFILLMENT_SCOPE}:" in result.out
    assert "lacks scope https://api.ebay.com/oauth/api_scope/sell.inventory:" not in result.out


def test_channels_check_says_the_refresh_token_expired_without_showing_it(stockgate, write_config, ebay_server,
                                                                           monkeypatch):
    market = ebay_server.market
    market.refresh_tokens.clear()
    result = _check(stockgate, write_config, ebay_server, monkeypatch)
    assert result.code == 1 and "refused the refresh token" in result.out and "expired or was revoked" in result.out
    for secret in (market.refresh_token, market.client_secret):
        assert secret not in result.out + result.err


def test_channels_check_names_a_merchant_location_ebay_does_not_have(stockgate, write_config, ebay_server,
                                                                     monkeypatch):
    options = {**_env(ebay_server, monkeypatch), "merchant_location_key": "WH-GONE"}
    config = write_config(channel_toml("eb", "ebay", "ebay", options=options))
    assert stockgate("init", config=config).code == 0
    result = stockgate("channels", "check", "eb")
    assert result.code == 1 and "merchant_location_key 'WH-GONE': eBay has no such inventory location" in result.out


def test_credentials_read_from_files_work_and_a_missing_file_is_named(make_channels, ebay_server, monkeypatch,
                                                                      tmp_path):
    market = ebay_server.market
    (tmp_path / "refresh").write_text(market.refresh_token + "\n")
    options = {**_env(ebay_server, monkeypatch), "refresh_token_file": str(tmp_path / "refresh")}
    del options["refresh_token_env"]
    ch = make_channels(channel_toml("eb", "ebay", "ebay", restore_policy="smart", options=options))
    market.add_item("HAT", offer=None)
    assert ch.jobs.adapter("eb").push_quantities([("HAT", 2)])[0].ok and market.quantity("HAT") == 2
    (tmp_path / "refresh").unlink()
    with pytest.raises(ConfigError, match=r"options\.refresh_token_file: cannot read .*refresh"):
        ChannelJobs(ch.jobs.db, ch.settings).adapter("eb")


def test_the_web_apis_cancel_cancels_the_order_on_ebay_first(eb, ebay_server):
    market = ebay_server.market
    _linked(eb, ebay_server, {"HAT": 10})
    market.place_order("12-00001-00006", [("HAT", 2)])
    eb.jobs.pull("eb")
    with web_api(eb) as post:
        status, done = post("/api/v1/orders/eb/12-00001-00006/cancel", {"choice": "keep"})
    assert status == 200, done
    assert done["marketplace"]["cancelled"] and done["marketplace"]["reason"] == "OUT_OF_STOCK_OR_CANNOT_FULFILL"
    assert market.latest("12-00001-00006")["cancelStatus"]["cancelState"] == "CANCELED"
    assert available_quantity(eb, "HAT") == 8
