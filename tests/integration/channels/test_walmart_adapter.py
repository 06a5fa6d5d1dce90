"""The walmart adapter against the Walmart contract server: tokens, headers, throttling, writes applied
before a failure, per-SKU errors, cursors and the order clock (CHANNEL_APIS.md sections 4 and 10)."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from channels.errors import PermanentChannelError, RetryableChannelError
from channels.http import RetryPolicy

from adapter_helpers import all_orders, calls as _calls
from walmart_helpers import Waits, walmart_adapter


def test_a_push_sets_each_skus_quantity_with_walmarts_headers_and_one_token(walmart_server):
    market = walmart_server.market
    for sku in ("HAT", "CAP 2", "A/B+C"):
        market.add_item(sku, quantity=1)
    results = walmart_adapter(walmart_server).push_quantities([("HAT", 5), ("CAP 2", 0), ("A/B+C", 7)])
    assert [r.ok for r in results] == [True, True, True]
    assert (market.quantity("HAT"), market.quantity("CAP 2"), market.quantity("A/B+C")) == (5, 0, 7)
    puts = _calls(market, "PUT", "/v3/inventory")
    assert {r["headers"]["WM_SVC.NAME"] for r in puts} == {"Walmart Marketplace"}
    assert len({r["headers"]["WM_QOS.CORRELATION_ID"] for r in puts}) == 3       # a fresh id per call
    assert "sku=CAP%202" in puts[1]["target"]                                     # space as %20, as Walmart asks
    assert market.tokens_issued == 1
    assert market.violations == []


def test_the_contract_server_refuses_a_request_the_walmart_spec_does_not_allow(walmart_server):
    if not walmart_server.validating:
        pytest.skip(f"no Walmart OpenAPI files at {walmart_server.validator.folder}: requests are not validated")
    market = walmart_server.market
    token = market.issue_token()
    answer = httpx.put(f"{walmart_server.url}/v3/inventory?sku=HAT", json={"sku": "HAT", "quantity": {"unit": "EACH"}},
                       headers={"WM_SEC.ACCESS_TOKEN": token, "WM_SVC.NAME": "Walmart Marketplace",
                                "WM_QOS.CORRELATION_ID": "c-1"})
    assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == "SPEC_VIOLATION"
    assert "'amount' is a required property" in market.violations[0]


def test_a_call_without_the_correlation_id_is_refused_with_400_naming_the_header(walmart_server):
    token = walmart_server.market.issue_token()
    answer = httpx.get(f"{walmart_server.url}/v3/orders?limit=1",
                       headers={"WM_SEC.ACCESS_TOKEN": token, "WM_SVC.NAME": "Walmart Marketplace"})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "INVALID_REQUEST_HEADER.GMP_GATEWAY_API"
    walmart_server.market.add_item("HAT")
    with pytest.raises(PermanentChannelError, match="refused the request .*WM_SVC.NAME header is required"):
        walmart_adapter(walmart_server, svc_name="").push_quantities([("HAT", 3)])


def test_a_token_expiring_mid_run_is_refreshed_once_and_the_push_goes_through(walmart_server):
    market = walmart_server.market
    market.add_item("HAT")
    adapter = walmart_adapter(walmart_server)
    adapter.push_quantities([("HAT", 1)])
    market.expire_tokens()
    assert adapter.push_quantities([("HAT", 2)])[0].ok
    assert market.quantity("HAT") == 2 and market.tokens_issued == 2
    assert [r["status"] for r in _calls(market, "PUT", "/v3/inventory")] == [200, 401, 200]


def test_a_token_is_refreshed_before_its_900_seconds_run_out_without_a_refused_call(walmart_server):
    market = walmart_server.market
    market.add_item("HAT")
    clock = [time.time()]
    adapter = walmart_adapter(walmart_server, now=lambda: clock[0])
    adapter.push_quantities([("HAT", 1)])
    clock[0] += 800                       # 100 s left: inside the 120 s margin
    adapter.push_quantities([("HAT", 2)])
    assert market.tokens_issued == 2
    assert [r["status"] for r in _calls(market, "PUT", "/v3/inventory")] == [200, 200]


def test_wrong_client_credentials_are_a_permanent_error_that_never_shows_the_secret(walmart_server):
    market = walmart_server.market
    market.add_item("HAT")
    market.clients = {market.client_id: "another-secret"}
    with pytest.raises(PermanentChannelError) as caught:
        walmart_adapter(walmart_server).push_quantities([("HAT", 1)])
    assert "refused the client id and secret" in str(caught.value)
    assert market.client_secret not in str(caught.value) and market.client_id not in str(caught.value)


@pytest.mark.parametrize("headers, asked", [
    ({"Retry_After": "3"}, 3.0),
    ({"x_current_token_count": "0", "x_next_replenish_time": "{ms}"}, 2.0),
    ({"X_Current_Token_Count": "0", "X_Next_Replenishment_Time": "{ms}"}, 2.0),
], ids=["retry-after-seconds", "walmart-headers", "walmart-headers-other-casing"])
def test_a_429_is_waited_out_as_long_as_the_answer_asks(walmart_server, headers, asked):
    market = walmart_server.market
    market.add_item("HAT")
    headers = {k: v.format(ms=market.now_ms() + 2000) for k, v in headers.items()}
    market.fail("429", "/v3/inventory", **headers)
    waits = Waits()
    assert walmart_adapter(walmart_server, waits=waits).push_quantities([("HAT", 4)])[0].ok
    assert market.quantity("HAT") == 4
    assert len(waits) == 1 and asked - 0.5 <= waits[0] <= asked


def test_a_429_with_an_http_date_retry_after_waits_until_that_date(walmart_server):
    market = walmart_server.market
    market.add_item("HAT")
    market.fail("429", "/v3/inventory", Retry_After=email.utils.formatdate(time.time() + 5, usegmt=True))
    waits = Waits()
    assert walmart_adapter(walmart_server, waits=waits).push_quantities([("HAT", 4)])[0].ok
    assert 3 <= waits[0] <= 5


def test_a_bare_429_backs_off_exponentially_with_jitter(walmart_server):
    market = walmart_server.market
    market.add_item("HAT")
    market.fail("429", "/v3/inventory", times=3)
    waits = Waits()
    policy = RetryPolicy(base_seconds=1, max_delay_seconds=3, budget_seconds=60)
    assert walmart_adapter(walmart_server, waits=waits, policy=policy).push_quantities([("HAT", 4)])[0].ok
    assert 0.5 <= waits[0] <= 1 and 1 <= waits[1] <= 2 and 1.5 <= waits[2] <= 3     # capped at 3


def test_a_429_storm_beyond_the_wait_budget_leaves_the_unsent_skus_retryable(walmart_server):
    market = walmart_server.market
    for sku in ("A", "B", "C"):
        market.add_item(sku)
    policy = RetryPolicy(base_seconds=1, max_delay_seconds=1, budget_seconds=2)
    adapter = walmart_adapter(walmart_server, waits=Waits(), policy=policy)
    market.fail("429", "/v3/inventory", times=10)
    results = adapter.push_quantities([("A", 1), ("B", 2), ("C", 3)])
    assert [(r.ok, r.retryable) for r in results] == [(False, True)] * 3
    assert "left for a later retry" in results[0].error and results[1].error.startswith("not sent")
    assert market.quantity("B") is None


@pytest.mark.parametrize("kind", ["503_after_apply", "drop_after_apply"])
def test_a_write_applied_before_a_failure_is_repeated_safely(walmart_server, kind):
    market = walmart_server.market
    market.add_item("HAT")
    market.fail(kind, "/v3/inventory")
    assert walmart_adapter(walmart_server, waits=Waits()).push_quantities([("HAT", 6)])[0].ok
    assert market.quantity("HAT") == 6
    assert len(_calls(market, "PUT", "/v3/inventory")) == 2


def test_a_cancel_applied_before_a_503_is_not_repeated(walmart_server):
    market = walmart_server.market
    market.add_item("HAT")
    market.place_order("P1", [("HAT", 1)])
    market.fail("503_after_apply", "/v3/orders/P1/cancel")
    with pytest.raises(RetryableChannelError, match="not idempotent"):
        walmart_adapter(walmart_server, waits=Waits()).cancel_order("P1", [("1", 1)], "SELLER_CANCEL_PRICING_ERROR")
    assert len(market.cancel_calls) == 1


def test_per_sku_errors_fail_only_those_skus(walmart_server):
    market = walmart_server.market
    for sku in ("A", "B", "C"):
        market.add_item(sku)
    market.sku_errors["B"] = (400, "INVALID_REQUEST_PARAM.GMP_INVENTORY_API", "quantity not allowed for this item")
    results = walmart_adapter(walmart_server).push_quantities([("A", 1), ("B", 2), ("C", 3), ("GONE", 4)])
    assert [r.ok for r in results] == [True, False, True, False]
    assert "quantity not allowed for this item" in results[1].error and not results[1].retryable
    assert "CONTENT_NOT_FOUND" in results[3].error
    assert (market.quantity("A"), market.quantity("C")) == (1, 3)


def test_listing_pages_follow_nextcursor_byte_exact_and_an_item_moving_pages_is_listed_once(walmart_server):
    market = walmart_server.market
    for sku in ("A", "B", "C", "D", "E"):
        market.add_item(sku, name=f"Product {sku}")
    market.on_items_page.append(lambda: market.add_item("NEW", at_start=True))   # shifts B onto page 2 again
    adapter = walmart_adapter(walmart_server, items_page_limit=2)
    from gateway.channel_sync.listings import fetch_listings

    listings, cursor = fetch_listings(adapter, None, True)
    assert sorted(l.listing_id for l in listings) == ["A", "B", "C", "D", "E"]
    assert cursor == ""                                      # the next sync starts from the first page again
    again, _ = fetch_listings(adapter, cursor, False)
    assert sorted(l.listing_id for l in again) == ["A", "B", "C", "D", "E", "NEW"]
    assert all(r["status"] == 200 for r in market.requests)   # every cursor came back as issued


def test_orders_page_by_nextcursor_verbatim_and_carry_epoch_ms_times(walmart_server):
    market = walmart_server.market
    for n in range(5):
        market.place_order(f"P{n}", [("HAT", n + 1)])
    adapter = walmart_adapter(walmart_server, orders_page_limit=2)
    seen = all_orders(adapter)
    assert [o.order_id for o in seen] == ["P0", "P1", "P2", "P3", "P4"]
    first = market.latest("P0")
    assert seen[0].placed_at.timestamp() * 1000 == pytest.approx(first["orderDate"], abs=1)
    targets = [r["target"] for r in _calls(market, "GET", "/v3/orders")]
    assert targets[1] == "/v3/orders?limit=2&hasMoreElements=true&soIndex=2&poIndex=2&partnerId=100009&sellerId=8" \
                         f"&lastModifiedStartDate={targets[1].rsplit('=', 1)[1]}"
    assert all(r["status"] == 200 for r in _calls(market, "GET", "/v3/orders"))


def test_an_order_visible_only_after_the_next_poll_is_caught_by_the_overlap(walmart_server):
    market = walmart_server.market
    market.visibility_lag_ms = 60_000
    adapter = walmart_adapter(walmart_server, order_overlap_seconds=600)
    market.place_order("LATE", [("HAT", 1)])
    first = adapter.fetch_orders(None)
    assert first.orders == []                               # not visible yet (404: no orders)
    market.offset += 90                                     # the server's clock moves on: now it is
    second = adapter.fetch_orders(first.cursor)
    assert [o.order_id for o in second.orders] == ["LATE"]


def test_line_cancellations_carry_walmarts_reason_time_and_who_cancelled(walmart_server):
    market = walmart_server.market
    market.place_order("P1", [("HAT", 1), ("CAP", 2), ("BAG", 1)])
    market.cancel_line("P1", "1", "SELLER_CANCEL_OUT_OF_STOCK")
    market.cancel_line("P1", "2", "CUSTOMER_REQUESTED_SELLER_TO_CANCEL", intent_to_cancel=True)
    page = walmart_adapter(walmart_server).fetch_orders(None)
    by_line = {c.line_ids: c for c in page.cancellations}
    assert by_line[("1",)].reason == "SELLER_CANCEL_OUT_OF_STOCK" and by_line[("1",)].cancelled_by == "seller"
    assert by_line[("2",)].cancelled_by == "buyer"
    line = market.latest("P1")["orderLines"]["orderLine"][1]
    assert by_line[("2",)].cancelled_at.timestamp() * 1000 == pytest.approx(line["statusDate"], abs=1)
    assert page.orders[0].status == "accepted" and ("3",) not in by_line


def test_cancelling_on_walmart_sends_a_reason_walmart_accepts(walmart_server):
    market = walmart_server.market
    market.place_order("P1", [("HAT", 2)])
    adapter = walmart_adapter(walmart_server)
    adapter.cancel_order("P1", [("1", 2)], "SELLER_CANCEL_OUT_OF_STOCK")
    status = market.latest("P1")["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]
    assert (status["status"], status["cancellationReason"]) == ("Cancelled", "SELLER_CANCEL_OUT_OF_STOCK")
    with pytest.raises(PermanentChannelError, match="SELLER_CANCEL_OUT_OF_STOCK"):
        adapter.cancel_order("P1", [("1", 2)], "BUYER_CHANGED_MIND")
    assert market.violations == []
