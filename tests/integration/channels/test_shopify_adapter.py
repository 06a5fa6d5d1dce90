"""The shopify adapter against the Shopify contract server: the token, the API version, `@idempotent` and
`changeFromQuantity`, batches of 250 with per-entry userErrors, writes applied before a failure, the cost
bucket and 429s, variant pages, the order clock and cancellations (CHANNEL_APIS.md sections 1 and 10).

Shopify publishes no schema file: the contract server validates each GraphQL document against its own
hand-written subset of the documented Admin API (tests/contract/shopify_server.py), not a published schema.
"""

from __future__ import annotations

import json

import httpx
import pytest

from channels.errors import PermanentChannelError, RetryableChannelError
from channels.http import RetryPolicy
from channels.shopify_orders import CANCEL_REASONS
from gateway.channel_sync.listings import fetch_listings

from adapter_helpers import calls
from shopify_helpers import Waits, shopify_adapter

SECOND = "gid://shopify/Location/2"


def _graphql(market, operation: str) -> list[dict]:
    return [r for r in market.requests if r.get("operation") == operation]


def _listed(adapter) -> dict[str, str]:
    listings, _ = fetch_listings(adapter, None, True)
    return {l.sku: l.listing_id for l in listings}


def test_a_push_sets_available_with_the_token_the_version_an_idempotency_key_and_the_level_it_replaces(
        shopify_server):
    market = shopify_server.market
    for sku, quantity in (("HAT", 1), ("CAP", 4)):
        market.add_variant(sku, quantity)
    adapter = shopify_adapter(shopify_server)
    ids = _listed(adapter)
    results = adapter.push_quantities([(ids["HAT"], 5), (ids["CAP"], 0)])
    assert [r.ok for r in results] == [True, True]
    assert (market.quantity("HAT"), market.quantity("CAP")) == (5, 0)
    sent = _graphql(market, "StockGateSetQuantities")[0]
    assert sent["path"] == "/admin/api/2026-10/graphql.json"
    assert sent["headers"]["X-Shopify-Access-Token"] == market.static_token
    document = json.loads(sent["body"])["query"]
    assert '@idempotent(key: "' in document
    entries = sent["variables"]["input"]["quantities"]
    assert [(e["quantity"], e["changeFromQuantity"]) for e in entries] == [(5, 1), (0, 4)]
    assert sent["variables"]["input"]["name"] == "available"
    assert market.violations == []


def test_the_contract_server_refuses_a_document_outside_the_documented_operations(shopify_server):
    market = shopify_server.market
    answer = httpx.post(f"{shopify_server.url}/admin/api/2026-10/graphql.json",
                        headers={"X-Shopify-Access-Token": market.static_token},
                        json={"query": "mutation M($input: InventorySetQuantitiesInput!) { "
                                       "inventorySetQuantities(input: $input) { userErrors { code } } }",
                              "variables": {"input": {"name": "available", "reason": "correction",
                                                      "quantities": [{"inventoryItemId": "x", "quantity": 1}]}}})
    assert answer.status_code == 200 and answer.json()["errors"]
    assert "locationId" in market.violations[0]
    unknown = httpx.post(f"{shopify_server.url}/admin/api/2026-10/graphql.json",
                         headers={"X-Shopify-Access-Token": market.static_token},
                         json={"query": "{ productVariants(first: 1) { nodes { inventoryQuantityAtAllLocations } } }"})
    assert unknown.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize("version, refused", [("2026-01", False), ("2026-04", True)])
def test_from_2026_04_a_set_without_idempotent_or_changefromquantity_is_a_runtime_error(shopify_server, version,
                                                                                          refused):
    market = shopify_server.market
    item = market.add_variant("HAT", 1)["item"]
    answer = httpx.post(f"{shopify_server.url}/admin/api/{version}/graphql.json",
                        headers={"X-Shopify-Access-Token": market.static_token},
                        json={"query": "mutation M($input: InventorySetQuantitiesInput!) { "
                                       "inventorySetQuantities(input: $input) { userErrors { code } } }",
                              "variables": {"input": {"name": "available", "reason": "correction", "quantities": [
                                  {"inventoryItemId": item, "locationId": "gid://shopify/Location/1", "quantity": 3}]}}})
    assert bool(answer.json().get("errors")) is refused
    assert market.quantity("HAT") == (1 if refused else 3)
    adapter = shopify_adapter(shopify_server, api_version=version)
    assert adapter.push_quantities([(_listed(adapter)["HAT"], 2)])[0].ok      # the adapter sends both, always


def test_a_sale_between_the_read_and_the_set_is_read_again_and_the_set_repeated(shopify_server):
    market = shopify_server.market
    market.add_variant("HAT", 10)
    adapter = shopify_adapter(shopify_server)
    listing = _listed(adapter)["HAT"]
    market.before_set.append(lambda: market.levels.update({(market.item("HAT"), "gid://shopify/Location/1"): 9}))
    assert adapter.push_quantities([(listing, 6)])[0].ok
    assert market.quantity("HAT") == 6
    sets = _graphql(market, "StockGateSetQuantities")
    assert [s["variables"]["input"]["quantities"][0]["changeFromQuantity"] for s in sets] == [10, 9]
    keys = [json.loads(s["body"])["query"].split('key: "')[1][:36] for s in sets]
    assert keys[0] != keys[1]                      # a new input is a new idempotency key


def test_a_quantity_that_keeps_changing_is_left_retryable_after_the_configured_re_reads(shopify_server):
    market = shopify_server.market
    market.add_variant("HAT", 10)
    adapter = shopify_adapter(shopify_server, cas_retries=2)
    listing = _listed(adapter)["HAT"]
    item = market.item("HAT")

    def sale():
        market.levels[(item, "gid://shopify/Location/1")] -= 1
        market.before_set.append(sale)

    market.before_set.append(sale)
    result = adapter.push_quantities([(listing, 3)])[0]
    market.before_set.clear()
    assert (result.ok, result.retryable) == (False, True) and "CHANGE_FROM_QUANTITY_STALE" in result.error
    assert len(_graphql(market, "StockGateSetQuantities")) == 3          # the first try and two re-reads


def test_compare_and_set_off_sends_an_explicit_null_and_reads_nothing(shopify_server):
    market = shopify_server.market
    market.add_variant("HAT", 10)
    adapter = shopify_adapter(shopify_server, compare_and_set=False)
    assert adapter.push_quantities([(_listed(adapter)["HAT"], 4)])[0].ok
    sent = _graphql(market, "StockGateSetQuantities")[0]
    assert "changeFromQuantity" in sent["variables"]["input"]["quantities"][0]
    assert sent["variables"]["input"]["quantities"][0]["changeFromQuantity"] is None
    assert _graphql(market, "StockGateLevels") == [] and market.quantity("HAT") == 4


def test_more_than_250_listings_go_in_batches_of_250(shopify_server):
    market = shopify_server.market
    for n in range(260):
        market.add_variant(f"S{n:03d}", 0)
    adapter = shopify_adapter(shopify_server, compare_and_set=False)
    ids = _listed(adapter)
    results = adapter.push_quantities([(ids[f"S{n:03d}"], n) for n in range(260)])
    assert all(r.ok for r in results)
    assert [len(s["variables"]["input"]["quantities"]) for s in _graphql(market, "StockGateSetQuantities")] == [250, 10]
    assert market.quantity("S259") == 259


@pytest.mark.parametrize("group_rejects_all", [True, False], ids=["group-refused", "entry-refused"])
def test_an_entry_shopify_refuses_fails_alone_whether_shopify_refuses_the_group_or_only_the_entry(
        shopify_server, group_rejects_all):
    market = shopify_server.market
    market.group_rejects_all = group_rejects_all
    for sku in ("A", "B", "C"):
        market.add_variant(sku, 0)
    adapter = shopify_adapter(shopify_server)
    ids = _listed(adapter)
    market.item_errors[market.item("B")] = "NON_MUTABLE_INVENTORY_ITEM"
    results = adapter.push_quantities([(ids["A"], 1), (ids["B"], 2), (ids["C"], 3)])
    assert [r.ok for r in results] == [True, False, True]
    assert "NON_MUTABLE_INVENTORY_ITEM" in results[1].error and not results[1].retryable
    assert (market.quantity("A"), market.quantity("B"), market.quantity("C")) == (1, 0, 3)


def test_an_item_not_stocked_at_the_location_or_deleted_fails_without_being_sent(shopify_server):
    market = shopify_server.market
    market.add_variant("HERE", 1)
    market.add_variant("ELSEWHERE", 1, location=SECOND)
    adapter = shopify_adapter(shopify_server)
    ids = _listed(adapter)
    gone = "gid://shopify/InventoryItem/999999@gid://shopify/Location/1"
    results = adapter.push_quantities([(ids["HERE"], 2), (ids["ELSEWHERE"], 2), (gone, 1), ("HAT", 1)])
    assert [r.ok for r in results] == [True, False, False, False]
    assert "ITEM_NOT_STOCKED_AT_LOCATION" in results[1].error and "activate it there" in results[1].error
    assert "INVALID_INVENTORY_ITEM" in results[2].error and "not a shopify listing id" in results[3].error
    assert len(_graphql(market, "StockGateSetQuantities")[0]["variables"]["input"]["quantities"]) == 1


@pytest.mark.parametrize("kind", ["503_after_apply", "drop_after_apply"])
def test_a_set_applied_before_a_failure_is_repeated_with_the_same_key_and_applied_once(shopify_server, kind):
    market = shopify_server.market
    market.add_variant("HAT", 1)
    adapter = shopify_adapter(shopify_server)
    listing = _listed(adapter)["HAT"]
    market.fail(kind, "StockGateSetQuantities")
    assert adapter.push_quantities([(listing, 6)])[0].ok
    sent = _graphql(market, "StockGateSetQuantities")
    assert len(sent) == 2 and sent[0]["body"] == sent[1]["body"]      # the very same request, the same key
    assert len(market.sets) == 1 and market.quantity("HAT") == 6       # replayed, not applied twice


def test_the_contract_server_keeps_shopifys_idempotency_rules(shopify_server):
    market = shopify_server.market
    item = market.add_variant("HAT", 1)["item"]

    def send(key: str, quantity: int) -> dict:
        return httpx.post(f"{shopify_server.url}/admin/api/2026-10/graphql.json",
                          headers={"X-Shopify-Access-Token": market.static_token},
                          json={"query": "mutation M($input: InventorySetQuantitiesInput!) { inventorySetQuantities("
                                         f'input: $input) @idempotent(key: "{key}") {{ userErrors {{ code }} }} }}',
                                "variables": {"input": {"name": "available", "reason": "correction", "quantities": [
                                    {"inventoryItemId": item, "locationId": "gid://shopify/Location/1",
                                     "quantity": quantity, "changeFromQuantity": None}]}}}).json()

    assert send("k-1", 5)["data"]["inventorySetQuantities"]["userErrors"] == []
    market.levels[(item, "gid://shopify/Location/1")] = 2              # changed since
    assert send("k-1", 5)["data"]["inventorySetQuantities"]["userErrors"] == []
    assert market.quantity("HAT") == 2                                  # the replay applied nothing
    errors = send("k-1", 7)["data"]["inventorySetQuantities"]["userErrors"]
    assert errors == [{"code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"}]


def test_a_key_still_in_flight_leaves_the_batch_retryable(shopify_server):
    market = shopify_server.market
    market.add_variant("HAT", 1)
    adapter = shopify_adapter(shopify_server)
    listing = _listed(adapter)["HAT"]
    market.fail("concurrent", "StockGateSetQuantities")
    result = adapter.push_quantities([(listing, 3)])[0]
    assert (result.ok, result.retryable) == (False, True) and "IDEMPOTENCY_CONCURRENT_REQUEST" in result.error


@pytest.mark.parametrize("status", [200, 429])
def test_a_throttled_answer_waits_as_long_as_the_bucket_needs(shopify_server, status):
    market = shopify_server.market
    market.add_variant("HAT", 1)
    waits = Waits(market)
    adapter = shopify_adapter(shopify_server, waits=waits, compare_and_set=False)
    listing = _listed(adapter)["HAT"]
    market.throttle_status = status
    market.drain_bucket()
    waits.clear()
    assert adapter.push_quantities([(listing, 4)])[0].ok
    assert market.quantity("HAT") == 4
    assert [r["status"] for r in _graphql(market, "StockGateSetQuantities")][0] == status
    if status == 200:                                  # the body's cost: (10 - 0) points / 100 a second = 0.1 s
        assert 0.05 <= sum(waits) <= 0.5
    else:                                              # a 429 without Retry-After: backoff until the bucket refills
        assert len(waits) >= 1


def test_the_bucket_reported_by_the_last_answer_is_waited_for_before_calling(shopify_server):
    market = shopify_server.market
    for n in range(3):
        market.add_variant(f"S{n}", 0)
    waits = Waits(market)
    adapter = shopify_adapter(shopify_server, waits=waits)
    market.bucket_max = market.bucket = 510.0      # after a page of variants (502 requested) too little is left
    _listed(adapter)
    _listed(adapter)
    assert waits and all(r["status"] == 200 for r in market.requests)   # waited first, never throttled


def test_a_plain_429_with_retry_after_is_waited_out(shopify_server):
    market = shopify_server.market
    market.add_variant("HAT", 1)
    waits = Waits(market)
    adapter = shopify_adapter(shopify_server, waits=waits, compare_and_set=False)
    listing = _listed(adapter)["HAT"]
    waits.clear()
    market.fail("429", "StockGateSetQuantities", Retry_After="2")
    assert adapter.push_quantities([(listing, 4)])[0].ok
    assert waits == [2.0]


def test_a_throttle_storm_beyond_the_wait_budget_leaves_every_listing_retryable(shopify_server):
    market = shopify_server.market
    for sku in ("A", "B"):
        market.add_variant(sku, 0)
    adapter = shopify_adapter(shopify_server, waits=Waits(), batch_size=1, compare_and_set=False,
                              policy=RetryPolicy(base_seconds=1, max_delay_seconds=1, budget_seconds=2))
    ids = _listed(adapter)
    market.fail("throttled_200", "StockGateSetQuantities", times=20)
    results = adapter.push_quantities([(ids["A"], 1), (ids["B"], 2)])
    assert [(r.ok, r.retryable) for r in results] == [(False, True), (False, True)]
    assert "left for a later retry" in results[0].error and results[1].error.startswith("not sent")
    assert market.quantity("A") == 0


def test_client_credentials_give_one_token_refreshed_once_when_it_expires_mid_run(shopify_server):
    market = shopify_server.market
    market.add_variant("HAT", 1)
    adapter = shopify_adapter(shopify_server, client=True)
    listing = _listed(adapter)["HAT"]
    assert market.tokens_issued == 1
    market.expire_tokens()
    assert adapter.push_quantities([(listing, 2)])[0].ok
    assert market.tokens_issued == 2 and market.quantity("HAT") == 2
    token = calls(market, "POST", "/admin/oauth/access_token")[0]
    assert token["headers"]["Content-Type"].startswith("application/x-www-form-urlencoded")


def test_a_refused_secret_or_a_revoked_token_is_a_permanent_error_that_never_shows_it(shopify_server):
    market = shopify_server.market
    market.add_variant("HAT", 1)
    good = market.client_secret
    adapter = shopify_adapter(shopify_server, client=True)          # configured with the old secret
    market.client_secret = "rotated"
    with pytest.raises(PermanentChannelError, match="refused the client id and secret") as caught:
        adapter.list_listings(None, True)
    assert good not in str(caught.value) and market.client_id not in str(caught.value)
    market.tokens.clear()                          # the custom app was uninstalled
    with pytest.raises(PermanentChannelError, match="revoked or the app uninstalled") as caught:
        shopify_adapter(shopify_server).list_listings(None, True)
    assert market.static_token not in str(caught.value)


def test_listings_map_sku_to_variant_inventory_item_and_location(shopify_server):
    market = shopify_server.market
    market.add_variant("HAT", 3, title="M / Red", product="Hat")
    market.add_variant(None, 1)                                     # a variant without a SKU is not listed
    market.add_variant("CAP", 2, location=SECOND)
    listings, cursor = fetch_listings(shopify_adapter(shopify_server), None, True)
    assert [(l.sku, l.listing_id, l.size, l.quantity, l.title) for l in listings] == [
        ("HAT", f"{market.item('HAT')}@gid://shopify/Location/1", "M / Red", 3, "Hat"),
        ("CAP", f"{market.item('CAP')}@gid://shopify/Location/1", None, None, "Product CAP")]
    assert cursor == ""
    there, _ = fetch_listings(shopify_adapter(shopify_server, location_id="2"), None, True)
    assert {l.sku: l.quantity for l in there} == {"HAT": None, "CAP": 2}
    assert all(l.listing_id.endswith(f"@{SECOND}") for l in there)


def test_variant_pages_list_an_item_moving_pages_once_and_start_again_past_the_pagination_cap(shopify_server):
    market = shopify_server.market
    for n in range(2, 8):
        market.add_variant(f"S{n}", 0, number=n * 10)
    market.on_page.append(lambda: market.add_variant("FIRST", 0, number=1))   # shifts S2 onto page 2 again
    market.pagination_cap = 4
    adapter = shopify_adapter(shopify_server, variants_page_size=2, pagination_cap=4)
    listings, cursor = fetch_listings(adapter, None, True)
    assert sorted(l.sku for l in listings) == ["S2", "S3", "S4", "S5", "S6", "S7"]
    assert cursor == "" and market.violations == []
    queries = [r["variables"]["query"] for r in _graphql(market, "StockGateVariants")]
    assert queries[:2] == [None, None] and queries[2] == "id:>1040"           # a fresh pass after the cap
    assert all(r["status"] == 200 for r in market.requests)


def test_orders_page_with_an_overlap_and_an_order_with_many_lines_is_read_whole(shopify_server):
    market = shopify_server.market
    for n in range(1, 5):
        market.place_order(1000 + n, [("HAT", n)])
    market.place_order(2000, [(f"S{n}", 1) for n in range(45)])
    adapter = shopify_adapter(shopify_server, orders_page_size=2)
    seen, cursor = [], None
    for _ in range(10):
        page = adapter.fetch_orders(cursor)
        seen += page.orders
        cursor = page.cursor
        if not page.more:
            break
    assert [o.order_id for o in seen] == ["1001", "1002", "1003", "1004", "2000"]
    assert len(seen[-1].lines) == 45 and seen[0].lines[0].line_id == "100101"
    assert json.loads(cursor)["since"] <= market.iso()
    assert market.violations == []


def test_an_order_visible_only_after_the_next_poll_is_caught_by_the_overlap(shopify_server):
    market = shopify_server.market
    market.visibility_lag_seconds = 60
    adapter = shopify_adapter(shopify_server, order_overlap_seconds=300)
    market.place_order(1001, [("HAT", 1)])
    first = adapter.fetch_orders(None)
    assert first.orders == []
    market.offset += 90
    second = adapter.fetch_orders(first.cursor)
    assert [o.order_id for o in second.orders] == ["1001"]
    queries = [r["variables"]["query"] for r in _graphql(market, "StockGateOrders")]
    assert all(q.startswith("updated_at:>='") for q in queries)


def test_a_pending_order_takes_no_stock_until_paid_and_an_authorized_one_does(shopify_server):
    market = shopify_server.market
    market.place_order(1, [("HAT", 1)], financial="PENDING")
    market.place_order(2, [("HAT", 1)], financial="AUTHORIZED")
    statuses = {o.order_id: o.status for o in shopify_adapter(shopify_server).fetch_orders(None).orders}
    assert statuses == {"1": "pending", "2": "accepted"}
    paid_only = {o.order_id: o.status for o in shopify_adapter(shopify_server, take_stock_at="paid")
                 .fetch_orders(None).orders}
    assert paid_only == {"1": "pending", "2": "pending"}


def test_each_cancel_reason_carries_its_time_and_who_cancelled(shopify_server):
    market = shopify_server.market
    for n, reason in enumerate(CANCEL_REASONS, start=1):
        market.place_order(n, [("HAT", 1)])
        market.cancel(n, reason)
    page = shopify_adapter(shopify_server).fetch_orders(None)
    by_order = {c.order_id: c for c in page.cancellations}
    for n, reason in enumerate(CANCEL_REASONS, start=1):
        c = by_order[str(n)]
        assert (c.reason, c.where, c.line_ids) == (reason, "marketplace", None)
        assert c.cancelled_by == ("buyer" if reason == "CUSTOMER" else "seller")
        assert c.cancelled_at.strftime("%Y-%m-%dT%H:%M:%SZ") == market.latest(n)["cancelledAt"]
    assert {o.status for o in page.orders} == {"accepted"}


def test_cancelling_on_shopify_cancels_the_whole_order_without_restocking(shopify_server):
    market = shopify_server.market
    market.place_order(1001, [("HAT", 2), ("CAP", 1)])
    adapter = shopify_adapter(shopify_server)
    with pytest.raises(PermanentChannelError, match="whole orders only: order 1001 has line.s. 100102"):
        adapter.cancel_order("1001", [("100101", 2)], "INVENTORY")
    with pytest.raises(PermanentChannelError, match="does not accept cancellation reason 'OUT_OF_STOCK'"):
        adapter.cancel_order("1001", [("100101", 2), ("100102", 1)], "OUT_OF_STOCK")
    assert market.cancel_calls == []
    adapter.cancel_order("1001", [("100101", 2), ("100102", 1)], "INVENTORY")
    assert market.latest(1001)["cancelReason"] == "INVENTORY"
    assert market.cancel_calls[0]["restock"] is False
    assert market.cancel_calls[0]["refundMethod"] == {"originalPaymentMethodsRefund": True}
    with pytest.raises(PermanentChannelError, match="already cancelled"):
        adapter.cancel_order("1001", [("100101", 2), ("100102", 1)], "INVENTORY")
    assert market.violations == []


def test_a_cancel_applied_before_a_503_is_not_repeated(shopify_server):
    market = shopify_server.market
    market.place_order(1001, [("HAT", 1)])
    market.fail("503_after_apply", "StockGateCancel")
    with pytest.raises(RetryableChannelError, match="not idempotent"):
        shopify_adapter(shopify_server).cancel_order("1001", [("100101", 1)], "CUSTOMER")
    assert len(market.cancel_calls) == 1


def test_check_names_the_missing_scope_and_the_unserved_api_version(shopify_server):
    market = shopify_server.market
    market.scopes -= {"write_inventory", "write_orders"}
    checks = {c.step: c for c in shopify_adapter(shopify_server).check()}
    assert checks["token"].ok and not checks["scopes"].ok
    assert "write_inventory (quantities)" in checks["scopes"].detail
    assert "write_orders (cancelling on Shopify)" in checks["scopes"].detail
    market.scopes -= {"read_orders"}
    checks = {c.step: c for c in shopify_adapter(shopify_server).check()}
    assert not checks["orders"].ok and "required access: `read_orders` access scope" in checks["orders"].detail
    with pytest.raises(ValueError, match="older than 2026-01, the first version with changeFromQuantity"):
        shopify_adapter(shopify_server, api_version="2025-10")
    unserved = shopify_adapter(shopify_server, api_version="2030-01").check()
    assert not unserved[0].ok and "API version 2030-01 is not served" in unserved[0].detail


def test_an_order_updated_while_the_poll_pages_is_read_again_and_none_is_lost_across_two_polls(shopify_server):
    market = shopify_server.market
    for n in range(1, 6):
        market.place_order(n, [("HAT", 1)])
        market.offset += 1                                   # distinct updatedAt, oldest first
    # paying order 1 while the poll is on page 1 moves it to the end: the pages shift under the cursor
    market.on_page.append(lambda: market.update_order(1, displayFinancialStatus="PAID"))
    adapter = shopify_adapter(shopify_server, orders_page_size=2)
    seen, cursor = [], None
    for _ in range(2):                                       # two polls, each read to its last page
        for _ in range(10):
            page = adapter.fetch_orders(cursor)
            seen += [o.order_id for o in page.orders]
            cursor = page.cursor
            if not page.more:
                break
    assert set(seen) == {"1", "2", "3", "4", "5"}            # the overlap of the second poll covers the shift
    assert len(seen) > 5                                     # some twice: the order services store them once


def test_a_rate_limited_token_endpoint_is_waited_out(shopify_server):
    market = shopify_server.market
    market.add_variant("HAT", 1)
    waits = Waits(market)
    market.fail("429", "access_token", Retry_After="1")
    listings, _ = fetch_listings(shopify_adapter(shopify_server, waits=waits, client=True), None, True)
    assert [l.sku for l in listings] == ["HAT"] and 1.0 in waits and market.tokens_issued == 1
