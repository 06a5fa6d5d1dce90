"""The amazon adapter against the SP-API contract server: LWA tokens, usage plans and 429s, writes applied
before a failure, per-SKU submission results, pagination with items moving between pages, the order clock
and every cancellation field (CHANNEL_APIS.md sections 2 and 10)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from channels.errors import PermanentChannelError
from channels.http import RetryPolicy
from channels.usage_plan import UsagePlans

from amazon_helpers import Waits, amazon_adapter, amazon_server  # noqa: F401  (fixture)


def _calls(market, method: str, prefix: str) -> list[dict]:
    return [r for r in market.requests if r["method"] == method and r["path"].startswith(prefix)]


def _listed(server, stock: dict[str, int], product_type: str = "HAT") -> None:
    for sku, quantity in stock.items():
        server.market.add_listing(sku, product_type, quantity)


def test_a_push_patches_each_skus_fulfillment_availability_with_one_lwa_token(amazon_server):
    market = amazon_server.market
    _listed(amazon_server, {"HAT": 1, "CAP 2": 1, "A/B+C": 1})
    results = amazon_adapter(amazon_server).push_quantities([("HAT/HAT", 5), ("HAT/CAP 2", 0), ("HAT/A/B+C", 7)])
    assert [r.ok for r in results] == [True, True, True]
    assert (market.quantity("HAT"), market.quantity("CAP 2"), market.quantity("A/B+C")) == (5, 0, 7)
    patches = _calls(market, "PATCH", "/listings/")
    assert patches[2]["path"] == f"/listings/2021-08-01/items/{market.seller_id}/A%2FB%2BC"
    assert json.loads(patches[0]["body"])["patches"] == [{"op": "merge", "path": "/attributes/fulfillment_availability",
                                                        "value": [{"fulfillment_channel_code": "DEFAULT",
                                                                   "quantity": 5}]}]
    assert {r["headers"]["x-amz-access-token"] for r in patches} == set(market.tokens)
    assert market.tokens_issued == 1 and market.violations == []


def test_the_contract_server_refuses_a_patch_the_listings_model_does_not_allow(amazon_server):
    if not amazon_server.validating:
        pytest.skip(f"no SP-API model files at {amazon_server.validator.folder}: requests are not validated")
    market = amazon_server.market
    _listed(amazon_server, {"HAT": 1})
    answer = httpx.patch(f"{amazon_server.url}/listings/2021-08-01/items/{market.seller_id}/HAT"
                         "?marketplaceIds=ATVPDDKIKX0DER", json={"patches": []},
                         headers={"x-amz-access-token": market.issue_token()})
    assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == "InvalidInput"
    assert "'productType' is a required property" in market.violations[0]
    answer = httpx.get(f"{amazon_server.url}/listings/2021-08-01/items/{market.seller_id}"
                       "?marketplaceIds=ATVPDDKIKX0DER&pageSize=21", headers={"x-amz-access-token": market.issue_token()})
    assert answer.status_code == 400 and "21 is greater than the maximum of 20" in market.violations[1]


def test_per_sku_submission_results_fail_only_those_listings(amazon_server):
    market = amazon_server.market
    _listed(amazon_server, {"A": 1, "B": 1, "C": 1})
    market.listing_errors["B"] = {"code": "8541", "message": "The listing is suppressed", "attribute": "condition_type"}
    results = amazon_adapter(amazon_server).push_quantities([("HAT/A", 1), ("HAT/B", 2), ("SHIRT/C", 3),
                                                             ("HAT/GONE", 4), ("NOSLASH", 5)])
    assert [r.ok for r in results] == [True, False, False, False, False]
    assert "INVALID: 8541: The listing is suppressed (attribute condition_type)" in results[1].error
    assert "99022" in results[2].error and "4000001" in results[3].error
    assert "not <productType>/<sku>" in results[4].error
    assert not any(r.retryable for r in results[1:])
    assert (market.quantity("A"), market.quantity("B"), market.quantity("C")) == (1, 1, 1)


def test_an_expired_access_token_mid_run_is_refreshed_once_and_the_push_goes_through(amazon_server):
    market = amazon_server.market
    _listed(amazon_server, {"HAT": 1})
    adapter = amazon_adapter(amazon_server)
    adapter.push_quantities([("HAT/HAT", 1)])
    market.expire_tokens()
    assert adapter.push_quantities([("HAT/HAT", 2)])[0].ok
    assert market.quantity("HAT") == 2 and market.tokens_issued == 2
    assert [r["status"] for r in _calls(market, "PATCH", "/listings/")] == [200, 403, 200]


def test_a_token_is_refreshed_before_its_hour_runs_out_without_a_refused_call(amazon_server):
    market = amazon_server.market
    _listed(amazon_server, {"HAT": 1})
    clock = [time.time()]
    adapter = amazon_adapter(amazon_server, now=lambda: clock[0])
    adapter.push_quantities([("HAT/HAT", 1)])
    clock[0] += 3400                      # 200 s left: inside the 300 s margin
    adapter.push_quantities([("HAT/HAT", 2)])
    assert market.tokens_issued == 2
    assert [r["status"] for r in _calls(market, "PATCH", "/listings/")] == [200, 200]


@pytest.mark.parametrize("change, expected", [
    (lambda m: m.clients.update({m.client_id: "rotated"}), "refused the client id and secret"),
    (lambda m: m.refresh_tokens.clear(), "refused the refresh token (re-authorize the app"),
], ids=["client-secret", "refresh-token"])
def test_refused_lwa_credentials_are_a_permanent_error_that_never_shows_them(amazon_server, change, expected):
    market = amazon_server.market
    _listed(amazon_server, {"HAT": 1})
    change(market)
    with pytest.raises(PermanentChannelError) as caught:
        amazon_adapter(amazon_server).push_quantities([("HAT/HAT", 1)])
    assert expected in str(caught.value)
    for secret in (market.client_secret, market.refresh_token, market.client_id):
        assert secret not in str(caught.value)


def test_a_quotaexceeded_429_without_retry_after_backs_off_and_the_quantity_arrives(amazon_server):
    market = amazon_server.market
    _listed(amazon_server, {"HAT": 1})
    market.fail("429", "/listings/", times=2)
    waits = Waits()
    policy = RetryPolicy(base_seconds=1, max_delay_seconds=3, budget_seconds=60)
    assert amazon_adapter(amazon_server, waits=waits, policy=policy).push_quantities([("HAT/HAT", 4)])[0].ok
    assert market.quantity("HAT") == 4
    assert 0.5 <= waits[0] <= 1 and 1 <= waits[1] <= 2


def test_the_client_spaces_calls_by_the_usage_plan_the_rate_limit_header_states(amazon_server):
    market = amazon_server.market
    market.plans["patchListingsItem"] = (2.0, 100)            # the server's plan, stated in x-amzn-RateLimit-Limit
    _listed(amazon_server, {f"S{n}": 0 for n in range(8)})
    waits, clock = Waits(), [1000.0]
    adapter = amazon_adapter(amazon_server, waits=waits, plans=UsagePlans({"patchListingsItem": (50.0, 3)},
                                                                          now=lambda: clock[0]))
    results = adapter.push_quantities([(f"HAT/S{n}", n) for n in range(8)])
    assert all(r.ok for r in results)
    assert len(waits) == 5                                     # the burst of 3 at once, then 1 per 0.5 s (2/s)
    assert [round(b - a, 2) for a, b in zip(waits, waits[1:])] == [0.5] * 4
    assert all(r["status"] == 200 for r in _calls(market, "PATCH", "/listings/"))


def test_a_usage_plan_wait_beyond_the_budget_leaves_the_unsent_listings_retryable(amazon_server):
    _listed(amazon_server, {"A": 0, "B": 0, "C": 0})
    amazon_server.rate_header = False                        # no x-amzn-RateLimit-Limit: the plan stays 0.1/s
    clock = [1000.0]
    adapter = amazon_adapter(amazon_server, waits=Waits(), policy=RetryPolicy(budget_seconds=1),
                             plans=UsagePlans({"patchListingsItem": (0.1, 1)}, now=lambda: clock[0]))
    results = adapter.push_quantities([("HAT/A", 1), ("HAT/B", 2), ("HAT/C", 3)])
    assert [(r.ok, r.retryable) for r in results] == [(True, False), (False, True), (False, True)]
    assert "usage plan" in results[1].error and results[2].error.startswith("not sent")
    assert amazon_server.market.quantity("B") == 0


@pytest.mark.parametrize("kind", ["503_after_apply", "drop_after_apply"])
def test_a_patch_applied_before_a_failure_is_repeated_safely(amazon_server, kind):
    market = amazon_server.market
    _listed(amazon_server, {"HAT": 1})
    market.fail(kind, "/listings/")
    assert amazon_adapter(amazon_server, waits=Waits()).push_quantities([("HAT/HAT", 6)])[0].ok
    assert market.quantity("HAT") == 6 and len(_calls(market, "PATCH", "/listings/")) == 2


def test_listings_page_by_page_token_and_a_listing_moving_pages_is_listed_once(amazon_server):
    market = amazon_server.market
    for sku in ("A", "B", "C", "D", "E"):
        market.add_listing(sku, "SHIRT", 3)
    market.add_listing("NOQ", "HAT")
    market.on_page.append(lambda: market.add_listing("NEW", "HAT", 1, at_start=True))   # shifts B onto page 2
    adapter = amazon_adapter(amazon_server, listings_page_limit=2)
    from gateway.channel_sync.listings import fetch_listings

    listings, cursor = fetch_listings(adapter, None, True)
    assert sorted(l.listing_id for l in listings) == ["HAT/NOQ", "SHIRT/A", "SHIRT/B", "SHIRT/C", "SHIRT/D", "SHIRT/E"]
    assert {l.listing_id: l.quantity for l in listings}["SHIRT/A"] == 3 and cursor == ""
    assert {l.sku for l in listings} == {"A", "B", "C", "D", "E", "NOQ"}
    assert all(r["status"] == 200 for r in market.requests if r["path"].startswith("/listings/"))


def _poll(adapter, cursor=None, pages: int = 10):
    orders, cancellations = [], []
    for _ in range(pages):
        page = adapter.fetch_orders(cursor)
        orders += page.orders
        cancellations += page.cancellations
        cursor = page.cursor
        if not page.more:
            break
    return orders, cancellations, cursor


def test_orders_page_by_pagination_token_with_the_same_parameters_and_an_order_moving_pages(amazon_server):
    market = amazon_server.market
    market.event_age_seconds = 300
    for n in range(5):
        market.place_order(f"O{n}", [("HAT", n + 1)])
    market.on_page.append(lambda: market.set_status("O0", "SHIPPED"))    # O0 moves to the last page
    adapter = amazon_adapter(amazon_server, orders_page_limit=2)
    orders, _, cursor = _poll(adapter)
    assert [o.order_id for o in orders] == ["O0", "O1", "O3", "O4", "O0"]    # O2 slid onto the page already read
    again, _, _ = _poll(adapter, cursor)                                      # the overlap reads it again
    assert {o.order_id for o in again} == {"O0", "O1", "O2", "O3", "O4"}
    searches = _calls(market, "GET", "/orders/")
    assert all(r["status"] == 200 for r in searches) and market.violations == []
    first = dict(p.split("=", 1) for p in searches[0]["query"].split("&"))
    second = dict(p.split("=", 1) for p in searches[1]["query"].split("&"))
    assert {k: v for k, v in second.items() if k != "paginationToken"} == first
    before = json.loads(cursor)["since"]
    assert before <= market.now() - 120


def test_an_order_visible_only_after_the_next_poll_is_caught_by_the_overlap(amazon_server):
    market = amazon_server.market
    market.event_age_seconds, market.visibility_lag_seconds = 200, 60
    adapter = amazon_adapter(amazon_server)
    market.place_order("LATE", [("HAT", 1)])
    first, _, cursor = _poll(adapter)
    assert first == []                                      # not visible yet
    market.offset += 90                                     # the server's clock moves on: now it is
    second, _, _ = _poll(adapter, cursor)
    assert [o.order_id for o in second] == ["LATE"]


def test_a_last_updated_before_inside_the_two_minutes_is_refused_by_the_server(amazon_server):
    market = amazon_server.market
    now = market.now()
    answer = httpx.get(f"{amazon_server.url}/orders/2026-01-01/orders", params={
        "lastUpdatedAfter": "2026-01-01T00:00:00Z",
        "lastUpdatedBefore": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 30))},
        headers={"x-amz-access-token": market.issue_token()})
    assert answer.status_code == 400 and "two minutes" in answer.json()["errors"][0]["message"]
    assert amazon_adapter(amazon_server).fetch_orders(None).orders == []      # the adapter keeps 3 minutes


def test_pending_orders_wait_for_payment_and_unshipped_ones_are_accepted(amazon_server):
    market = amazon_server.market
    market.event_age_seconds = 300
    market.place_order("P", [("HAT", 1)], status="PENDING")
    market.place_order("U", [("HAT", 2), ("CAP", 1)])
    orders, _, _ = _poll(amazon_adapter(amazon_server))
    by_id = {o.order_id: o for o in orders}
    assert by_id["P"].status == "pending" and by_id["U"].status == "accepted"
    assert [(l.line_id, l.sku, l.quantity) for l in by_id["U"].lines] == [("U-1", "HAT", 2), ("U-2", "CAP", 1)]


def test_item_cancellations_carry_amazons_reason_who_cancelled_and_the_update_time(amazon_server):
    market = amazon_server.market
    market.event_age_seconds = 300
    market.place_order("O1", [("HAT", 1), ("CAP", 2), ("BAG", 1), ("PEN", 1)])
    market.cancel_item("O1", 1, cancelled_by="MERCHANT", reason="NoInventory")
    market.cancel_item("O1", 2, cancelled_by="MERCHANT", reason="Buyer requested cancellation",
                       requested="Changed mind about purchase")
    market.cancel_item("O1", 3, cancelled_by="AMAZON", reason=None)
    market.request_cancel("O1", 4, "Found cheaper somewhere else.")       # asked, not cancelled
    orders, cancellations, _ = _poll(amazon_adapter(amazon_server))
    by_line = {c.line_ids: c for c in cancellations}
    assert set(by_line) == {("O1-1",), ("O1-2",), ("O1-3",)}
    assert (by_line[("O1-1",)].reason, by_line[("O1-1",)].cancelled_by) == ("NoInventory", "seller")
    assert by_line[("O1-2",)].reason == "Buyer requested cancellation"
    assert (by_line[("O1-3",)].reason, by_line[("O1-3",)].cancelled_by) == (None, "marketplace")
    updated = market.latest("O1")["lastUpdatedTime"]
    assert by_line[("O1-1",)].cancelled_at.isoformat().startswith(updated[:19])
    assert orders[0].status == "accepted"


def test_a_buyer_cancellation_without_an_execution_reason_carries_the_buyers_words(amazon_server):
    market = amazon_server.market
    market.event_age_seconds = 300
    market.place_order("O1", [("HAT", 1)])
    market.cancel_item("O1", 1, cancelled_by="BUYER", reason=None, requested="Found cheaper somewhere else.")
    orders, cancellations, _ = _poll(amazon_adapter(amazon_server))
    assert orders[0].status == "cancelled"
    assert (cancellations[0].reason, cancellations[0].cancelled_by) == ("Found cheaper somewhere else.", "buyer")


def test_amazon_says_it_cannot_cancel_a_merchant_fulfilled_order_from_stockgate(amazon_server):
    from gateway.channel_sync.marketplace_cancel import can_cancel_on_marketplace

    adapter = amazon_adapter(amazon_server)
    assert not can_cancel_on_marketplace(adapter)
    assert "Seller Central" in adapter.cancel_refusal


def test_check_names_the_missing_role_and_a_header_refused(amazon_server):
    market = amazon_server.market
    adapter = amazon_adapter(amazon_server)
    assert [(c.step, c.ok) for c in adapter.check()] == [("token", True), ("listings", True), ("orders", True)]
    market.roles.discard("orders")
    results = {c.step: c for c in adapter.check()}
    assert not results["orders"].ok and "lacks the Inventory and Order Tracking role" in results["orders"].detail
    answer = httpx.get(f"{amazon_server.url}/orders/2026-01-01/orders?lastUpdatedAfter=2026-01-01T00:00:00Z")
    assert answer.status_code == 403 and "missing the x-amz-access-token header" in answer.text


def test_a_raised_usage_plan_stated_by_the_header_lets_the_next_poll_go_at_once(amazon_server):
    market = amazon_server.market
    market.plans["searchOrders"] = (20.0, 20)                  # a raised plan; the client starts at 0.0056/s
    clock = [1000.0]
    adapter = amazon_adapter(amazon_server, waits=Waits(), policy=RetryPolicy(budget_seconds=1),
                             plans=UsagePlans({"searchOrders": (0.0056, 1)}, now=lambda: clock[0]))
    adapter.fetch_orders(None)
    adapter.fetch_orders(None)                                 # at 0.0056/s it would wait 178 s
    assert len(_calls(market, "GET", "/orders/")) == 2


def _feed_adapter(server, waits, **options):
    return amazon_adapter(server, waits=waits, feed_min_listings=3, feed_poll_seconds=5, feed_wait_seconds=20,
                          **options)


def test_a_large_push_goes_as_one_json_listings_feed_and_its_report_fails_only_the_listings_it_names(amazon_server):
    market = amazon_server.market
    _listed(amazon_server, {"A": 0, "B": 0, "C": 0, "D": 0})
    market.listing_errors["C"] = {"code": "8541", "message": "The listing is suppressed"}
    waits = Waits()
    results = _feed_adapter(amazon_server, waits).push_quantities(
        [("HAT/A", 1), ("HAT/B", 2), ("HAT/C", 3), ("HAT/GONE", 4), ("HAT/D", 5)])
    assert [r.ok for r in results] == [True, True, False, False, True]
    assert "8541: The listing is suppressed" in results[2].error and "4000001" in results[3].error
    assert not results[2].retryable
    assert (market.quantity("A"), market.quantity("B"), market.quantity("C"), market.quantity("D")) == (1, 2, 0, 5)
    assert _calls(market, "PATCH", "/listings/") == [] and len(market.feeds) == 1
    assert waits == [5, 5] and market.violations == []       # IN_QUEUE, IN_PROGRESS, then DONE
    uploads = [r for r in market.requests if r["path"].startswith("/s3/") and r["method"] == "PUT"]
    assert "x-amz-access-token" not in uploads[0]["headers"]   # the pre-signed URL gets no SP-API token


def test_a_feed_not_done_in_time_or_fatal_leaves_every_listing_retryable(amazon_server):
    market = amazon_server.market
    _listed(amazon_server, {"A": 0, "B": 0, "C": 0})
    market.feed_polls_to_done = 100
    results = _feed_adapter(amazon_server, Waits()).push_quantities([("HAT/A", 1), ("HAT/B", 2), ("HAT/C", 3)])
    assert [(r.ok, r.retryable) for r in results] == [(False, True)] * 3
    assert "still IN_PROGRESS after 20 s" in results[0].error
    market.feed_polls_to_done, market.feed_fatal = 1, True
    results = _feed_adapter(amazon_server, Waits()).push_quantities([("HAT/A", 1), ("HAT/B", 2), ("HAT/C", 3)])
    assert [(r.ok, r.retryable) for r in results] == [(False, True)] * 3 and "ended FATAL" in results[0].error
    assert market.quantity("A") == 0


def test_the_contract_server_refuses_a_feed_document_the_listings_feed_schema_does_not_allow(amazon_server):
    if not amazon_server.validating:
        pytest.skip(f"no SP-API model files at {amazon_server.validator.folder}: requests are not validated")
    market = amazon_server.market
    token = {"x-amz-access-token": market.issue_token()}
    created = httpx.post(f"{amazon_server.url}/feeds/2021-06-30/documents", json={"contentType": "application/json"},
                         headers=token).json()
    httpx.put(created["url"], content=json.dumps({"header": {"sellerId": "S", "version": "1.0"},
                                                  "messages": []}).encode())
    answer = httpx.post(f"{amazon_server.url}/feeds/2021-06-30/feeds", headers=token, json={
        "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": ["ATVPDDKIKX0DER"],
        "inputFeedDocumentId": created["feedDocumentId"]})
    assert answer.status_code == 400 and market.violations and "feed document" in market.violations[0]
