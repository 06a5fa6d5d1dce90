"""An `amazon` channel through the gateway (real database, both engines) against the SP-API contract
server: pushes from the outbox, orders taking stock once, each Amazon reason code and free text restoring or
keeping stock as seed 003 says, `orders cancel` saying Amazon cannot cancel there, one LWA refresh for
every worker, `channels check`, and no credential in the database."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from channel_helpers import channel_toml
from gateway.channel_sync.jobs import ChannelJobs
from gateway.core.reason_tables import REASON_TABLES
from gateway.db import schema
from gateway.errors import ConfigError
from marketplace_channel import (FAST_RETRIES, available_quantity, credential_options, database_text, linked,
                                 owed, sync_from_two_processes)

from amazon_helpers import amazon_server  # noqa: F401  (fixture)

ENV = {"AMZ_TEST_CLIENT_ID": "client_id", "AMZ_TEST_CLIENT_SECRET": "client_secret",
       "AMZ_TEST_REFRESH_TOKEN": "refresh_token"}


def _options(server, monkeypatch, **options) -> dict:
    return {"base_url": server.url, "token_url": server.token_url, "seller_id": server.market.seller_id,
            **credential_options(monkeypatch, server.market, ENV), **FAST_RETRIES, **options}


def _amazon(make_channels, server, monkeypatch, **options):
    return make_channels(channel_toml("amz", "amazon", "amazon", restore_policy="smart",
                                      options=_options(server, monkeypatch, **options)))


def _linked(ch, server, stock: dict[str, int]) -> None:
    linked(ch, "amz", lambda sku: server.market.add_listing(sku, "HAT", 0), stock)


@pytest.fixture
def amz(make_channels, amazon_server, monkeypatch):
    amazon_server.market.event_age_seconds = 300          # SP-API shows updates two minutes late
    return _amazon(make_channels, amazon_server, monkeypatch)


def test_stock_reaches_amazon_and_a_sku_amazon_finds_invalid_is_the_only_one_retried(amz, amazon_server):
    market = amazon_server.market
    market.listing_errors["CAP"] = {"code": "8541", "message": "The listing is suppressed"}
    _linked(amz, amazon_server, {"HAT": 7, "CAP": 3, "BAG": 2})
    assert (market.quantity("HAT"), market.quantity("CAP"), market.quantity("BAG")) == (7, 0, 2)
    with amz.jobs.db.read() as conn:
        rows = conn.execute(select(schema.listings.c.listing_id, schema.listings.c.sku)).all()
    still_owed = owed(amz)
    assert sorted(rows) == [("HAT/BAG", "BAG"), ("HAT/CAP", "CAP"), ("HAT/HAT", "HAT")]
    assert [row.listing_id for row in still_owed] == ["HAT/CAP"] and "The listing is suppressed" in \
        still_owed[0].last_push_error


def test_a_large_push_goes_by_feed_and_the_sku_its_report_names_is_the_only_one_retried(make_channels, amazon_server,
                                                                                        monkeypatch):
    market = amazon_server.market
    ch = _amazon(make_channels, amazon_server, monkeypatch, feed_min_listings=2, feed_poll_seconds=0.05,
                 feed_wait_seconds=5)
    market.listing_errors["CAP"] = {"code": "8541", "message": "The listing is suppressed"}
    _linked(ch, amazon_server, {"HAT": 7, "CAP": 3, "BAG": 2})
    assert (market.quantity("HAT"), market.quantity("CAP"), market.quantity("BAG")) == (7, 0, 2)
    assert len(market.feeds) == 1 and not [r for r in market.requests if r["method"] == "PATCH"]
    still_owed = owed(ch)
    assert [row.listing_id for row in still_owed] == ["HAT/CAP"] and "The listing is suppressed" in \
        still_owed[0].last_push_error


def test_a_patch_accepted_but_never_applied_is_pushed_again_after_the_next_sync(amz, amazon_server):
    market = amazon_server.market
    _linked(amz, amazon_server, {"HAT": 7})
    amz.set("HAT", "MF", 4)
    market.not_applied.add("HAT")
    assert amz.jobs.push_now("amz").delivered == 1 and market.quantity("HAT") == 7    # ACCEPTED is not applied
    market.not_applied.clear()
    amz.jobs.sync("amz", full=True)                        # the sync sees 7 where 4 is owed: pushed again
    amz.jobs.push_now("amz")
    assert market.quantity("HAT") == 4


def test_an_order_seen_by_two_overlapping_polls_and_a_token_expiry_takes_stock_once(amz, amazon_server):
    market = amazon_server.market
    _linked(amz, amazon_server, {"HAT": 10})
    market.place_order("111-0000001-0000001", [("HAT", 3)])
    amz.jobs.pull("amz")
    market.expire_tokens()
    market.fail("429", "/orders/", times=3)
    again = amz.jobs.pull("amz")                            # the overlap shows the order again
    assert (again.orders, again.changed) == (1, 0)
    assert available_quantity(amz, "HAT") == 7
    amz.jobs.push_now("amz")
    assert market.quantity("HAT") == 7 and market.tokens_issued == 2


CODES = [(code, row.restores) for row in REASON_TABLES["amazon"] for code in row.api_codes]


@pytest.mark.parametrize("code, restores", CODES, ids=[c for c, _ in CODES])
def test_an_amazon_cancellation_restores_or_keeps_stock_as_the_reason_table_says(amz, amazon_server, code, restores):
    market = amazon_server.market
    _linked(amz, amazon_server, {"HAT": 10})
    market.place_order("O-1", [("HAT", 2)])
    amz.jobs.pull("amz")
    market.cancel_item("O-1", 1, cancelled_by="MERCHANT", reason=code)
    outcome = amz.jobs.pull("amz")
    assert outcome.cancellations == 1
    assert available_quantity(amz, "HAT") == (10 if restores else 8)


def test_amazon_codes_without_a_row_and_a_buyer_cancellation_without_a_reason_restore(amz, amazon_server):
    from gateway.core.reason_tables import UNMAPPED_API_CODES

    market = amazon_server.market
    _linked(amz, amazon_server, {"HAT": 10})
    market.place_order("O-1", [("HAT", 1), ("HAT", 1)])
    amz.jobs.pull("amz")
    market.cancel_item("O-1", 1, cancelled_by="AMAZON", reason=UNMAPPED_API_CODES["amazon"][0])
    market.cancel_item("O-1", 2, cancelled_by="BUYER", reason=None)
    assert amz.jobs.pull("amz").cancellations == 2
    assert available_quantity(amz, "HAT") == 10


def test_orders_cancel_says_amazon_cannot_cancel_there_and_cancels_in_stockgate(stockgate, amz, amazon_server):
    market = amazon_server.market
    _linked(amz, amazon_server, {"HAT": 10})
    market.place_order("O-1", [("HAT", 2)])
    amz.jobs.pull("amz")
    result = stockgate("orders", "cancel", "amz", "O-1", "--no-restore", config=amz.config)
    assert result.code == 0, result.err
    assert "not cancelled on the marketplace (SP-API has no call that cancels a merchant-fulfilled order" \
           in result.out
    assert available_quantity(amz, "HAT") == 8
    assert not [r for r in market.requests if r["method"] in ("POST", "PUT") and r["path"] != "/auth/o2/token"]


def test_workers_of_two_processes_share_one_lwa_refresh_and_no_credential_enters_the_database(
        amz, amazon_server, db):
    market = amazon_server.market
    for sku in ("HAT", "CAP"):
        amz.set(sku, "MF", 1)
        market.add_listing(sku, "HAT", 0)
    sync_from_two_processes(amz, db, "amz")
    assert market.tokens_issued == 1
    dumped = database_text(db)
    for secret in (next(iter(market.tokens)), market.client_secret, market.refresh_token):
        assert secret not in dumped


@pytest.mark.parametrize("option, message", [
    ({"refresh_token": "Atzr|in-the-file"}, r"options\.refresh_token: a credential is never written"),
    ({"seller_id": ""}, r"options\.seller_id: required"),
    ({"orders_lag_seconds": 60}, r"options\.orders_lag_seconds: at least 120"),
    ({"listings_page_limit": 50}, r"options\.listings_page_limit: at most 20"),
], ids=["secret-in-toml", "no-seller", "lag", "page-size"])
def test_bad_amazon_options_are_config_errors_naming_the_key(make_channels, amazon_server, monkeypatch, option,
                                                             message):
    ch = _amazon(make_channels, amazon_server, monkeypatch, **option)
    with pytest.raises(ConfigError, match=message) as caught:
        ch.jobs.adapter("amz")
    assert "in-the-file" not in str(caught.value)


def test_a_refresh_token_variable_not_set_is_a_config_error_naming_the_key(make_channels, amazon_server, monkeypatch):
    ch = _amazon(make_channels, amazon_server, monkeypatch)
    monkeypatch.delenv("AMZ_TEST_REFRESH_TOKEN")
    with pytest.raises(ConfigError, match=r"options\.refresh_token_env: environment variable AMZ_TEST_REFRESH_TOKEN "
                                          r"is not set"):
        ChannelJobs(ch.jobs.db, ch.settings).adapter("amz")


def _check_config(write_config, server, monkeypatch):
    return write_config(channel_toml("amz", "amazon", "amazon", options=_options(server, monkeypatch)))


def test_channels_check_says_every_role_is_there(stockgate, write_config, amazon_server, monkeypatch):
    assert stockgate("init", config=_check_config(write_config, amazon_server, monkeypatch)).code == 0
    result = stockgate("channels", "check", "amz", "--json")
    assert result.code == 0, result.err
    assert [(c["step"], c["ok"]) for c in json.loads(result.out)["checks"]] == [
        ("token", True), ("listings", True), ("orders", True)]


def test_channels_check_names_the_missing_role_and_the_refused_refresh_token(stockgate, write_config, amazon_server,
                                                                            monkeypatch):
    market = amazon_server.market
    assert stockgate("init", config=_check_config(write_config, amazon_server, monkeypatch)).code == 0
    market.roles.discard("listings")
    result = stockgate("channels", "check", "amz")
    assert result.code == 1 and "lacks the Product Listing role" in result.out
    market.refresh_tokens.clear()
    result = stockgate("channels", "check", "amz")
    assert result.code == 1 and "refused the refresh token" in result.out
    for secret in (market.client_secret, market.refresh_token):
        assert secret not in result.out + result.err
