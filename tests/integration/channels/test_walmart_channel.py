"""A `walmart` channel through the gateway (real database, both engines) against the contract server:
pushes from the outbox, orders taking stock once, each Walmart reason code restoring or keeping stock as
seed 003 says, one token refresh for every worker, and no credential in the database."""

from __future__ import annotations

import os
import stat

import pytest

from channel_helpers import channel_toml
from gateway.channel_sync.jobs import ChannelJobs
from gateway.channel_sync.token_store import token_path
from gateway.core.reason_tables import REASON_TABLES
from gateway.errors import ConfigError
from marketplace_channel import (FAST_RETRIES, available_quantity, credential_options, database_text,
                                 end_backoff, linked, owed, sync_from_two_processes, web_api)

ENV = {"WM_TEST_CLIENT_ID": "client_id", "WM_TEST_CLIENT_SECRET": "client_secret"}


def _walmart(make_channels, server, monkeypatch, **options):
    options = {"base_url": server.url, **credential_options(monkeypatch, server.market, ENV), **FAST_RETRIES,
               **options}
    return make_channels(channel_toml("wm", "walmart", "walmart", restore_policy="smart", options=options))


def _linked(ch, server, stock: dict[str, int]) -> None:
    linked(ch, "wm", server.market.add_item, stock)


@pytest.fixture
def wm(make_channels, walmart_server, monkeypatch):
    return _walmart(make_channels, walmart_server, monkeypatch)


def test_stock_reaches_walmart_and_a_sku_walmart_refuses_is_the_only_one_retried(wm, walmart_server):
    market = walmart_server.market
    market.sku_errors["CAP"] = (400, "INVALID_REQUEST_PARAM.GMP_INVENTORY_API", "item is not published")
    _linked(wm, walmart_server, {"HAT": 7, "CAP": 3, "BAG": 2})
    assert (market.quantity("HAT"), market.quantity("CAP"), market.quantity("BAG")) == (7, None, 2)
    still_owed = owed(wm)
    assert [row.listing_id for row in still_owed] == ["CAP"] and "item is not published" in still_owed[0].last_push_error


def test_a_429_storm_leaves_the_push_in_the_outbox_and_the_next_push_delivers_it(wm, walmart_server):
    market = walmart_server.market
    _linked(wm, walmart_server, {"HAT": 7})
    wm.set("HAT", "MF", 4)
    market.fail("429", "/v3/inventory", times=20)
    outcome = wm.jobs.push_now("wm")
    assert (outcome.delivered, outcome.failed, market.quantity("HAT")) == (0, 1, 7)
    market.failures.clear()
    end_backoff(wm)
    assert wm.jobs.push_now("wm").delivered == 1 and market.quantity("HAT") == 4


def test_an_order_seen_by_two_overlapping_polls_and_a_token_expiry_takes_stock_once(wm, walmart_server):
    market = walmart_server.market
    _linked(wm, walmart_server, {"HAT": 10})
    market.place_order("PO-1", [("HAT", 3)])
    wm.jobs.pull("wm")
    market.expire_tokens()
    market.fail("429", "/v3/orders", times=3)
    again = wm.jobs.pull("wm")                             # the overlap shows PO-1 again
    assert (again.orders, again.changed) == (1, 0)
    assert available_quantity(wm, "HAT") == 7
    wm.jobs.push_now("wm")
    assert market.quantity("HAT") == 7


WALMART_CODES = [(row.api_codes[0], row.restores) for row in REASON_TABLES["walmart"]]


@pytest.mark.parametrize("code, restores", WALMART_CODES, ids=[c for c, _ in WALMART_CODES])
def test_a_walmart_cancellation_restores_or_keeps_stock_as_the_reason_table_says(wm, walmart_server, code, restores):
    market = walmart_server.market
    _linked(wm, walmart_server, {"HAT": 10})
    market.place_order("PO-1", [("HAT", 2)])
    wm.jobs.pull("wm")
    market.cancel_line("PO-1", "1", code)
    outcome = wm.jobs.pull("wm")
    assert outcome.cancellations == 1
    assert available_quantity(wm, "HAT") == (10 if restores else 8)


def test_every_walmart_cancellation_reason_the_api_accepts_has_a_row_of_the_reason_table():
    from channels.walmart_orders import CANCEL_REASONS

    codes = {code for row in REASON_TABLES["walmart"] for code in row.api_codes}
    assert codes == set(CANCEL_REASONS)
    verdicts = {row.api_codes[0]: row.verdict for row in REASON_TABLES["walmart"]}
    assert verdicts["SELLER_CANCEL_OUT_OF_STOCK"] == "no"
    assert {v for c, v in verdicts.items() if c != "SELLER_CANCEL_OUT_OF_STOCK"} == {"yes"}


def test_workers_of_two_processes_share_one_token_refresh_and_the_token_stays_out_of_the_database(
        wm, walmart_server, db, tmp_path):
    market = walmart_server.market
    for sku in ("HAT", "CAP"):
        wm.set(sku, "MF", 1)
        market.add_item(sku)
    sync_from_two_processes(wm, db, "wm")
    assert market.tokens_issued == 1
    path = token_path(wm.settings.data_dir, "wm")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    token = next(iter(market.tokens))
    dumped = database_text(db)
    for secret in (token, market.client_secret):
        assert secret not in dumped


def test_a_credential_variable_not_set_is_a_config_error_naming_the_key(make_channels, walmart_server, monkeypatch):
    ch = _walmart(make_channels, walmart_server, monkeypatch)
    monkeypatch.delenv("WM_TEST_CLIENT_SECRET")
    with pytest.raises(ConfigError, match=r"channels\[0\]\.options\.client_secret_env: environment variable "
                                          r"WM_TEST_CLIENT_SECRET is not set"):
        ChannelJobs(ch.jobs.db, ch.settings).adapter("wm")


def test_a_secret_written_in_the_toml_is_refused_without_being_shown(make_channels, walmart_server, monkeypatch):
    ch = _walmart(make_channels, walmart_server, monkeypatch, client_secret="hunter2-in-the-file")
    with pytest.raises(ConfigError, match=r"options\.client_secret: a credential is never written") as caught:
        ch.jobs.adapter("wm")
    assert "hunter2" not in str(caught.value)


def _check_config(write_config, server, monkeypatch):
    return write_config(channel_toml("wm", "walmart", "walmart", options={
        "base_url": server.url, **credential_options(monkeypatch, server.market, ENV), "backoff_base_seconds": 0.01,
        "throttle_budget_seconds": 0.1}))


def test_channels_check_says_every_permission_is_there(stockgate, write_config, walmart_server, monkeypatch):
    config = _check_config(write_config, walmart_server, monkeypatch)
    assert stockgate("init", config=config).code == 0
    result = stockgate("channels", "check", "wm", "--json")
    assert result.code == 0, result.err
    import json

    assert [(c["step"], c["ok"]) for c in json.loads(result.out)["checks"]] == [
        ("token", True), ("items", True), ("orders", True), ("inventory", True)]


def test_channels_check_names_the_permission_missing_and_the_refused_secret(stockgate, write_config, walmart_server,
                                                                           monkeypatch):
    market = walmart_server.market
    config = _check_config(write_config, walmart_server, monkeypatch)
    assert stockgate("init", config=config).code == 0
    market.fail("403", "/v3/orders")
    result = stockgate("channels", "check", "wm")
    assert result.code == 1
    assert "orders" in result.out and "lacks the Orders permission" in result.out
    market.clients = {market.client_id: "rotated"}
    result = stockgate("channels", "check", "wm")
    assert result.code == 1 and "refused the client id and secret" in result.out
    assert market.client_secret not in result.out + result.err


@pytest.mark.parametrize("flag, reason, available", [("--no-restore", "SELLER_CANCEL_OUT_OF_STOCK", 8),
                                                     ("--restore", "CUSTOMER_REQUESTED_SELLER_TO_CANCEL", 10)])
def test_orders_cancel_cancels_on_walmart_too_with_a_reason_walmart_accepts(stockgate, wm, walmart_server, flag,
                                                                            reason, available):
    market = walmart_server.market
    _linked(wm, walmart_server, {"HAT": 10})
    market.place_order("PO-1", [("HAT", 2)])
    wm.jobs.pull("wm")
    result = stockgate("orders", "cancel", "wm", "PO-1", flag, config=wm.config)
    assert result.code == 0, result.err
    assert f"cancelled on the marketplace too: line(s) 1 ({reason})" in result.out
    status = market.latest("PO-1")["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]
    assert (status["status"], status["cancellationReason"]) == ("Cancelled", reason)
    assert available_quantity(wm, "HAT") == available
    assert wm.jobs.pull("wm").cancellations == 0             # Walmart's echo of it changes nothing
    assert available_quantity(wm, "HAT") == available


def test_orders_cancel_refused_by_walmart_leaves_the_order_open(stockgate, wm, walmart_server):
    market = walmart_server.market
    _linked(wm, walmart_server, {"HAT": 10})
    market.place_order("PO-1", [("HAT", 2)])
    wm.jobs.pull("wm")
    result = stockgate("orders", "cancel", "wm", "PO-1", "--no-restore", "--marketplace-reason", "NOT_A_CODE",
                       config=wm.config)
    assert result.code != 0 and "does not accept cancellation reason 'NOT_A_CODE'" in result.err
    assert available_quantity(wm, "HAT") == 8
    assert stockgate("orders", "cancel", "wm", "PO-1", "--no-restore", "--here-only", config=wm.config).code == 0
    assert market.cancel_calls == []


def test_the_web_apis_cancel_cancels_on_walmart_first_and_a_refusal_there_changes_nothing(wm, walmart_server):
    market = walmart_server.market
    _linked(wm, walmart_server, {"HAT": 10})
    market.place_order("PO-1", [("HAT", 2)])
    wm.jobs.pull("wm")
    with web_api(wm) as post:
        status, refused = post("/api/v1/orders/wm/PO-1/cancel", {"choice": "keep", "marketplace_reason": "NOT_A_CODE"})
        assert status == 400 and "does not accept cancellation reason 'NOT_A_CODE'" in refused["detail"]
        assert available_quantity(wm, "HAT") == 8 and market.cancel_calls == []

        status, done = post("/api/v1/orders/wm/PO-1/cancel", {"choice": "keep"})
    assert status == 200, done
    assert done["marketplace"] == {"cancelled": True, "reason": "SELLER_CANCEL_OUT_OF_STOCK", "lines": ["1"],
                                   "message": "cancelled on the marketplace too: line(s) 1 (SELLER_CANCEL_OUT_OF_STOCK)"}
    status_there = market.latest("PO-1")["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]
    assert status_there["status"] == "Cancelled" and done["cancelled_lines"] == ["1"]
    assert available_quantity(wm, "HAT") == 8                        # kept: the units stay taken
