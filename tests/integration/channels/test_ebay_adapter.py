"""The ebay adapter against the eBay contract server: the refresh-token grant and its failures, throttling,
writes applied before a failure, batches of 25 with per-item outcomes, SKU -> offer identity, paging by
eBay's `next`, the order clock with overlap, and the per-order cancellation look-up (CHANNEL_APIS.md
sections 3 and 10)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from channels.errors import PermanentChannelError, RetryableChannelError
from channels.http import RetryPolicy
from gateway.channel_sync.listings import fetch_listings

from adapter_helpers import all_orders, calls as _calls
from ebay_helpers import Waits, ebay_adapter

BULK = "/sell/inventory/v1/bulk_update_price_quantity"


def _listed(adapter) -> dict[str, str]:
    listings, _ = fetch_listings(adapter, None, True)
    return {l.sku: l.listing_id for l in listings}


def test_a_push_sets_the_item_and_its_published_offer_at_the_merchant_location_with_one_token(ebay_server):
    market = ebay_server.market
    offers = {sku: market.add_item(sku, 1) for sku in ("HAT", "CAP 2", "A/B+C")}
    adapter = ebay_adapter(ebay_server)
    assert _listed(adapter) == {sku: sku for sku in offers}                      # the listing id is the SKU
    assert adapter.offers == offers                                              # SKU -> its published offer
    results = adapter.push_quantities([("HAT", 5), ("CAP 2", 0), ("A/B+C", 7)])
    assert [r.ok for r in results] == [True, True, True]
    assert (market.quantity("HAT"), market.quantity("CAP 2"), market.quantity("A/B+C")) == (5, 0, 7)
    sent = json.loads(_calls(market, "POST", BULK)[0]["body"])["requests"][0]
    assert sent["shipToLocationAvailability"]["availabilityDistributions"] == [
        {"merchantLocationKey": "WH-MAIN", "quantity": 5}]
    assert sent["offers"] == [{"offerId": offers["HAT"], "availableQuantity": 5}]
    assert market.tokens_issued == 1 and market.violations == []


def test_the_contract_server_refuses_a_request_the_ebay_spec_does_not_allow(ebay_server):
    if not ebay_server.validating:
        pytest.skip(f"no eBay OpenAPI files at {ebay_server.validator.folder}: requests are not validated")
    market = ebay_server.market
    token = market.issue_token()
    answer = httpx.post(f"{ebay_server.url}{BULK}", content=b'{"requests": [{"sku": "HAT", '
                        b'"shipToLocationAvailability": {"quantity": "lots"}}]}',
                        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert answer.status_code == 400 and "SPEC_VIOLATION" in answer.json()["errors"][0]["message"]
    assert "'lots' is not of type 'integer'" in market.violations[0]


def test_more_than_25_skus_go_in_calls_of_at_most_25_and_each_gets_its_own_outcome(ebay_server):
    market = ebay_server.market
    for n in range(60):
        market.add_item(f"S{n:02d}", 0, offer=None)
    results = ebay_adapter(ebay_server).push_quantities([(f"S{n:02d}", n) for n in range(60)])
    assert all(r.ok for r in results) and [r.listing_id for r in results] == [f"S{n:02d}" for n in range(60)]
    assert [len(json.loads(c["body"])["requests"]) for c in _calls(market, "POST", BULK)] == [25, 25, 10]
    assert market.quantity("S59") == 59


def test_the_contract_server_refuses_more_than_25_requests_in_one_call(ebay_server):
    market = ebay_server.market
    answer = httpx.post(f"{ebay_server.url}{BULK}", json={"requests": [{"sku": f"S{n}",
                        "shipToLocationAvailability": {"quantity": 1}} for n in range(26)]},
                        headers={"Authorization": f"Bearer {market.issue_token()}"})
    assert answer.status_code == 400 and "at most 25" in answer.json()["errors"][0]["message"]


def test_a_207_fails_only_the_skus_ebay_refused_and_says_why(ebay_server):
    market = ebay_server.market
    for sku in ("A", "B", "C"):
        market.add_item(sku)
    market.add_item("DRAFT", offer="700000000001", published=False)
    market.sku_errors["B"] = (500, 25001, "A system error has occurred")
    adapter = ebay_adapter(ebay_server)
    _listed(adapter)
    assert adapter.offers["DRAFT"] is None                     # an unpublished offer is not the listing's
    adapter.offers["DRAFT"] = "700000000001"                   # as if it were: eBay refuses it
    results = adapter.push_quantities([("A", 1), ("B", 2), ("C", 3), ("GONE", 4), ("DRAFT", 5)])
    assert [r.ok for r in results] == [True, False, True, False, False]
    assert _calls(market, "POST", BULK)[0]["status"] == 207
    assert "A system error has occurred" in results[1].error and results[1].retryable
    assert "25702" in results[3].error and not results[3].retryable
    assert "not published" in results[4].error
    assert (market.quantity("A"), market.quantity("C")) == (1, 3)


def test_a_sku_at_the_250_revisions_a_day_cap_fails_alone_with_ebays_words(ebay_server):
    market = ebay_server.market
    market.add_item("HOT", offer=None)
    market.add_item("CALM", offer=None)
    day = time.strftime("%Y-%m-%d", time.gmtime(market.now()))
    market.revisions[("HOT", day)] = 250
    hot, calm = ebay_adapter(ebay_server).push_quantities([("HOT", 3), ("CALM", 4)])
    assert not hot.ok and "revised 250 times today" in hot.error
    assert calm.ok and (market.quantity("HOT"), market.quantity("CALM")) == (0, 4)


@pytest.mark.parametrize("kind", ["503_after_apply", "drop_after_apply"])
def test_a_bulk_update_applied_before_a_failure_is_repeated_safely(ebay_server, kind):
    market = ebay_server.market
    market.add_item("HAT", offer=None)
    market.fail(kind, BULK)
    assert ebay_adapter(ebay_server, waits=Waits()).push_quantities([("HAT", 6)])[0].ok
    assert market.quantity("HAT") == 6 and len(_calls(market, "POST", BULK)) == 2


@pytest.mark.parametrize("headers, low, high", [({"Retry_After": "3"}, 2.5, 3.0), ({}, 0.005, 0.01)],
                         ids=["retry-after", "no-retry-after"])
def test_a_429_is_waited_out_as_asked_or_with_backoff(ebay_server, headers, low, high):
    market = ebay_server.market
    market.add_item("HAT", offer=None)
    market.fail("429", BULK, **headers)
    waits = Waits()
    assert ebay_adapter(ebay_server, waits=waits).push_quantities([("HAT", 4)])[0].ok
    assert market.quantity("HAT") == 4 and len(waits) == 1 and low <= waits[0] <= high


def test_a_429_storm_beyond_the_wait_budget_leaves_every_unsent_batch_retryable(ebay_server):
    market = ebay_server.market
    for n in range(30):
        market.add_item(f"S{n}", offer=None)
    policy = RetryPolicy(base_seconds=1, max_delay_seconds=1, budget_seconds=2)
    market.fail("429", BULK, times=10)
    results = ebay_adapter(ebay_server, waits=Waits(), policy=policy).push_quantities([(f"S{n}", 1) for n in range(30)])
    assert [(r.ok, r.retryable) for r in results] == [(False, True)] * 30
    assert "left for a later retry" in results[0].error and results[25].error.startswith("not sent")
    assert market.quantity("S0") == 0


def test_a_token_expiring_mid_run_is_refreshed_once_and_the_push_goes_through(ebay_server):
    market = ebay_server.market
    market.add_item("HAT", offer=None)
    adapter = ebay_adapter(ebay_server)
    adapter.push_quantities([("HAT", 1)])
    market.expire_tokens()
    assert adapter.push_quantities([("HAT", 2)])[0].ok
    assert market.quantity("HAT") == 2 and market.tokens_issued == 2
    assert [r["status"] for r in _calls(market, "POST", BULK)] == [200, 401, 200]
    grant = dict(httpx.QueryParams(_calls(market, "POST", "/identity/v1/oauth2/token")[0]["body"].decode()))
    assert grant["grant_type"] == "refresh_token" and grant["scope"].split() == [
        "https://api.ebay.com/oauth/api_scope/sell.inventory", "https://api.ebay.com/oauth/api_scope/sell.fulfillment"]


def test_a_token_is_renewed_before_its_two_hours_run_out_without_a_refused_call(ebay_server):
    market = ebay_server.market
    market.add_item("HAT", offer=None)
    clock = [time.time()]
    adapter = ebay_adapter(ebay_server, now=lambda: clock[0])
    adapter.push_quantities([("HAT", 1)])
    clock[0] += 7000                      # 200 s left: inside the 300 s margin
    adapter.push_quantities([("HAT", 2)])
    assert market.tokens_issued == 2 and [r["status"] for r in _calls(market, "POST", BULK)] == [200, 200]


def test_a_refresh_token_ebay_no_longer_accepts_is_a_permanent_error_that_never_shows_it(ebay_server):
    market = ebay_server.market
    market.add_item("HAT", offer=None)
    market.refresh_tokens.clear()                       # revoked, or past its 18 months
    with pytest.raises(PermanentChannelError, match="refused the refresh token .*invalid_grant") as caught:
        ebay_adapter(ebay_server).push_quantities([("HAT", 1)])
    for secret in (market.refresh_token, market.client_secret, market.client_id):
        assert secret not in str(caught.value)


def test_a_rate_limited_token_endpoint_is_waited_out(ebay_server):
    market = ebay_server.market
    market.add_item("HAT", offer=None)
    market.fail("429", "/identity/v1/oauth2/token", Retry_After="1")
    waits = Waits()
    assert ebay_adapter(ebay_server, waits=waits).push_quantities([("HAT", 1)])[0].ok
    assert waits == [1.0]


def test_listing_pages_follow_ebays_next_and_an_item_moving_pages_is_listed_once(ebay_server):
    market = ebay_server.market
    for sku in ("A", "B", "C", "D", "E"):
        market.add_item(sku)
    market.on_items_page.append(lambda: market.add_item("NEW", at_start=True))   # shifts B onto page 2 again
    adapter = ebay_adapter(ebay_server, items_page_limit=2)
    listings, cursor = fetch_listings(adapter, None, True)
    assert sorted({l.sku for l in listings}) == ["A", "B", "C", "D", "E"] and cursor == ""
    pages = [r["query"] for r in _calls(market, "GET", "/sell/inventory/v1/inventory_item")]
    assert pages == ["limit=2&offset=0", "limit=2&offset=1", "limit=2&offset=2"]    # eBay's offset: a page number
    assert [l.listing_id for l in listings if l.sku == "B"] == ["B"]          # seen on two pages, listed once


def test_an_offer_re_created_on_ebay_is_looked_up_again_and_the_sku_retried(ebay_server):
    market = ebay_server.market
    market.add_item("HAT", 1)
    adapter = ebay_adapter(ebay_server)
    _listed(adapter)
    _listed(adapter)                                       # a published offer is not looked up again
    assert len(_calls(market, "GET", "/sell/inventory/v1/offer")) == 1
    market.offers["HAT"][0]["offerId"] = "500000000999"    # withdrawn and listed anew
    gone = adapter.push_quantities([("HAT", 4)])[0]
    assert not gone.ok and gone.retryable and "25713" in gone.error and "looked up again" in gone.error
    assert adapter.push_quantities([("HAT", 4)])[0].ok and market.quantity("HAT") == 4


def test_a_sku_pushed_before_any_listing_sync_has_its_offer_looked_up_once(ebay_server):
    market = ebay_server.market
    offer = market.add_item("HAT", 1)
    adapter = ebay_adapter(ebay_server)
    assert adapter.push_quantities([("HAT", 4)])[0].ok and adapter.push_quantities([("HAT", 5)])[0].ok
    assert market.offers["HAT"][0]["availableQuantity"] == 5 and market.quantity("HAT") == 5
    assert len(_calls(market, "GET", "/sell/inventory/v1/offer")) == 1
    sent = json.loads(_calls(market, "POST", BULK)[1]["body"])["requests"][0]
    assert sent["offers"] == [{"offerId": offer, "availableQuantity": 5}]


def test_orders_are_read_by_lastmodifieddate_paged_with_the_polls_filter_kept(ebay_server):
    market = ebay_server.market
    for n in range(5):
        market.place_order(f"O{n}", [("HAT", n + 1)], paid=n != 4)
    adapter = ebay_adapter(ebay_server, orders_page_limit=2)
    seen = all_orders(adapter)
    assert [o.order_id for o in seen] == ["O0", "O1", "O2", "O3", "O4"]
    assert [o.status for o in seen] == ["accepted"] * 4 + ["pending"]
    assert seen[1].lines[0].quantity == 2
    queries = [r["query"] for r in _calls(market, "GET", "/sell/fulfillment/v1/order")]
    assert len({q.split("&")[0] for q in queries}) == 1                 # one filter for the whole poll
    assert queries[0].startswith("filter=lastmodifieddate:%5B") and "..%5D&limit=2&offset=0" in queries[0]
    assert market.violations == []


def test_an_order_visible_only_after_the_next_poll_is_caught_by_the_overlap(ebay_server):
    market = ebay_server.market
    market.visibility_lag_ms = 60_000
    adapter = ebay_adapter(ebay_server, order_overlap_seconds=300)
    market.place_order("LATE", [("HAT", 1)])
    first = adapter.fetch_orders(None)
    assert first.orders == []
    market.offset += 90
    assert [o.order_id for o in adapter.fetch_orders(first.cursor).orders] == ["LATE"]


@pytest.mark.parametrize("initiator, who", [("Buyer", "buyer"), ("Seller", "seller"), (None, "marketplace")])
def test_a_cancelled_order_is_looked_up_for_its_reason_time_and_who_cancelled(ebay_server, initiator, who):
    market = ebay_server.market
    market.place_order("O1", [("HAT", 1), ("CAP", 2)])
    market.place_order("O2", [("HAT", 1)])
    market.cancel("O1", "BUYER_ASKED_CANCEL" if initiator else None, initiator)
    market.cancel("O2", "I changed my mind", "Buyer", completed=False)       # only asked: not cancelled
    page = ebay_adapter(ebay_server).fetch_orders(None)
    assert [(c.order_id, c.line_ids, c.cancelled_by) for c in page.cancellations] == [("O1", None, who)]
    assert page.cancellations[0].reason == ("BUYER_ASKED_CANCEL" if initiator else None)
    cancelled = market.latest("O1")["cancelStatus"]["cancelledDate"]
    assert page.cancellations[0].cancelled_at.isoformat().replace("+00:00", "") == cancelled[:-1] + "000"
    assert [r["path"] for r in market.requests if r["path"].startswith("/sell/fulfillment/v1/order/")] == [
        "/sell/fulfillment/v1/order/O1"]                                  # the per-order look-up, once
    assert {o.order_id: o.status for o in page.orders} == {"O1": "accepted", "O2": "accepted"}


def test_a_cancelled_order_the_overlap_shows_again_unchanged_is_not_looked_up_again(ebay_server):
    market = ebay_server.market
    market.place_order("O1", [("HAT", 1)])
    market.cancel("O1", "OUT_OF_STOCK_OR_CANNOT_FULFILL", "Seller")
    adapter = ebay_adapter(ebay_server)
    first = adapter.fetch_orders(None)
    again = adapter.fetch_orders(first.cursor)                           # the overlap: O1 once more
    assert again.cancellations == first.cancellations and len(again.cancellations) == 1
    assert len([r for r in market.requests if r["path"] == "/sell/fulfillment/v1/order/O1"]) == 1
    market.cancel("O1", "OUT_OF_STOCK_OR_CANNOT_FULFILL", "Seller")      # changed since: read again
    adapter.fetch_orders(again.cursor)
    assert len([r for r in market.requests if r["path"] == "/sell/fulfillment/v1/order/O1"]) == 2


def test_cancelling_on_ebay_sends_the_whole_order_with_a_seller_reason_through_the_post_order_api(ebay_server):
    market = ebay_server.market
    market.place_order("O1", [("HAT", 2), ("CAP", 1)])
    adapter = ebay_adapter(ebay_server)
    lines = [(l["lineItemId"], l["quantity"]) for l in market.latest("O1")["lineItems"]]
    adapter.cancel_order("O1", lines, "OUT_OF_STOCK_OR_CANNOT_FULFILL")
    call = next(r for r in market.requests if r["path"] == "/post-order/v2/cancellation")
    assert call["headers"]["Authorization"].startswith("IAF ") and call["headers"]["X-EBAY-C-MARKETPLACE-ID"] == "EBAY_US"
    assert market.cancel_calls == [{"legacyOrderId": "LO1", "cancelReason": "OUT_OF_STOCK_OR_CANNOT_FULFILL",
                                    "buyerPaid": True,
                                    "buyerPaidDate": {"value": market.orders["O1"][0][1]["creationDate"]}}]
    page = adapter.fetch_orders(None)
    assert [(c.order_id, c.reason, c.cancelled_by) for c in page.cancellations] == [
        ("O1", "OUT_OF_STOCK_OR_CANNOT_FULFILL", "seller")]


def test_ebay_refuses_a_buyers_reason_one_line_of_an_order_and_an_order_past_its_window(ebay_server):
    market = ebay_server.market
    market.place_order("O1", [("HAT", 2), ("CAP", 1)])
    adapter = ebay_adapter(ebay_server)
    lines = [(l["lineItemId"], l["quantity"]) for l in market.latest("O1")["lineItems"]]
    with pytest.raises(PermanentChannelError, match="does not accept cancellation reason 'FOUND_CHEAPER_PRICE'"):
        adapter.cancel_order("O1", lines, "FOUND_CHEAPER_PRICE")
    with pytest.raises(PermanentChannelError, match="ebay cancels whole orders only"):
        adapter.cancel_order("O1", lines[:1], "BUYER_ASKED_CANCEL")
    market.not_cancellable.add("O1")
    with pytest.raises(PermanentChannelError, match="cannot be cancelled .*NOT_ELIGIBLE.*Seller Hub"):
        adapter.cancel_order("O1", lines, "BUYER_ASKED_CANCEL")
    assert market.latest("O1")["cancelStatus"]["cancelState"] == "NONE_REQUESTED"


def test_a_cancel_applied_before_a_503_is_not_repeated(ebay_server):
    market = ebay_server.market
    market.place_order("O1", [("HAT", 1)])
    market.fail("503_after_apply", "/post-order/v2/cancellation")
    lines = [(l["lineItemId"], l["quantity"]) for l in market.latest("O1")["lineItems"]]
    with pytest.raises(RetryableChannelError, match="not idempotent"):
        ebay_adapter(ebay_server, waits=Waits()).cancel_order("O1", lines, "BUYER_ASKED_CANCEL")
    assert len(market.cancel_calls) == 1


def test_a_token_without_the_fulfillment_scope_is_refused_naming_the_scope(ebay_server):
    market = ebay_server.market
    market.refresh_tokens[market.refresh_token] = {"https://api.ebay.com/oauth/api_scope/sell.inventory"}
    adapter = ebay_adapter(ebay_server, scopes="https://api.ebay.com/oauth/api_scope/sell.inventory")
    with pytest.raises(PermanentChannelError, match=r"order list answered 403 \(the token lacks scope "
                                                    r"https://api.ebay.com/oauth/api_scope/sell.fulfillment\)"):
        adapter.fetch_orders(None)
