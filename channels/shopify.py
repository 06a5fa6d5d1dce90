"""The `shopify` adapter: a Shopify store through the Admin GraphQL API (docs/channels/shopify.md).

- Calls: `POST /admin/api/{api_version}/graphql.json` (the version is an option, default
  `DEFAULT_API_VERSION`; 2026-01 at the oldest, the first with `changeFromQuantity`), through
  `channels.shopify_graphql` (the token, the cost bucket, Shopify's errors).
- Quantities (`channels.shopify_quantities`): `inventorySetQuantities` (name `available`) in batches of at most 250, each with an
  `@idempotent(key:)` directive whose key is kept while the same batch is repeated (5xx, dropped
  connection), so a write Shopify applied before the answer was lost is not applied twice. Compare-and-set:
  the batch's levels are read first and each entry carries `changeFromQuantity` = the level read; an
  entry answered `CHANGE_FROM_QUANTITY_STALE` (a sale or an edit in Shopify in between) is read again and
  sent again, up to `cas_retries` times, then left retryable. StockGate's quantity still wins (it is
  computed from the stock and the orders StockGate knows); the compare only guarantees that what is
  overwritten is what was read. `compare_and_set = false` sends `changeFromQuantity: null` (no compare).
  `userErrors` are mapped to entries by their `field` path; when Shopify returns no adjustment group the
  entries without an error of their own were not applied either and are sent again in the next round.
- Throttling: every wait of a push comes from one `WaitBudget`; beyond it the rest is left retryable.
- Listings: `productVariants` by cursor (<= 250 a page); the listing id is `<inventoryItem gid>@<location
  gid>`, the SKU the variant's. The location is the `location_id` option, else the shop's primary location
  (`location` without an id). Past `pagination_cap` objects a pass starts again with `id:>` the last id.
- Several locations (the channel's `locations`, keyed by location id, a number or a gid): every variant is
  listed once per configured location (`RemoteListing.location` = the key as written; one aliased
  `inventoryLevel` per location in the same query, the page shrunk so its cost stays that of one
  location), and `push_location_quantities(key, updates)` sets them through the same push.
- Orders: `orders(query: "updated_at:>=...", sortKey: UPDATED_AT)` from the server time of the last
  complete poll less `order_overlap_seconds`; orders seen twice are stored once by the order services.
- Cancel on the marketplace: `orderCancel` (whole orders only; Shopify has no line cancel) with
  `restock: false` (StockGate owns the quantity) and a refund to the original payment method.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from channels.base import CheckResult, ListingPage, OrderPage, PushResult, RemoteListing, results_for_all
from channels.errors import PermanentChannelError, RetryableChannelError
from channels.http import ChannelHttp, WaitBudget
from channels.shopify_graphql import ShopifyGraphql, iso
from channels.shopify_orders import (
    CANCEL, CANCEL_REASONS, ORDER_LINES, ORDERS, TAKE_STOCK_AT, gid, numeric_id, read_order,
)
from channels.shopify_quantities import BATCH_LIMIT, QuantityPush, available
from channels.tokens import TokenStore

DEFAULT_API_VERSION = "2026-10"
OLDEST_API_VERSION = "2026-01"
PAGINATION_CAP = 25_000
SCOPES = {"read_products": "listings", "read_inventory": "quantities", "write_inventory": "quantities",
          "read_orders": "orders", "write_orders": "cancelling on Shopify"}

VARIANTS = """
query StockGateVariants($first: Int!, $after: String, $query: String, %s) {
  productVariants(first: $first, after: $after, query: $query, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id sku title
      product { title }
      inventoryItem { id %s }
    }
  }
}"""
LEVEL = 'at%d: inventoryLevel(locationId: $at%d) { quantities(names: ["available"]) { name quantity } }'


def variants_query(locations: int) -> str:
    """The variants query reading the level at `locations` locations (variables `at0`, `at1`, ...)."""
    return VARIANTS % (", ".join(f"$at{n}: ID!" for n in range(locations)),
                       " ".join(LEVEL % (n, n) for n in range(locations)))


def location_gid(value) -> str | None:
    """The location gid of a location id written as a number or a gid, or None when it is neither."""
    text = str(value).strip()
    found = re.fullmatch(r"(?:gid://shopify/Location/)?(\d+)", text)
    return f"gid://shopify/Location/{found[1]}" if found else None

PRIMARY_LOCATION = "query StockGateLocation { location { id name } }"
LOCATION = "query StockGateLocationById($id: ID!) { location(id: $id) { id name } }"
SCOPES_QUERY = "query StockGateScopes { shop { name } currentAppInstallation { accessScopes { handle } } }"


@dataclass(frozen=True)
class ShopifyOptions:
    """The channel's `options` the adapter reads (defaults in docs/channels/shopify.md)."""

    api_version: str = DEFAULT_API_VERSION
    location_id: str | None = None            # gid or number; None: the shop's primary location
    compare_and_set: bool = True
    cas_retries: int = 3
    reason: str = "correction"                # inventorySetQuantities reason
    token_margin_seconds: float = 3600.0
    order_overlap_seconds: float = 300.0
    first_pull_hours: float = 24.0
    orders_page_size: int = 25
    variants_page_size: int = 100
    batch_size: int = BATCH_LIMIT
    pagination_cap: int = PAGINATION_CAP
    take_stock_at: str = "authorized"         # authorized | paid | placed
    cancel_refund: bool = True                # orderCancel refunds to the original payment method
    cancel_notify_customer: bool = False


def check_api_version(version: str) -> str | None:
    """Why `version` cannot be used, or None."""
    if not re.fullmatch(r"\d{4}-(01|04|07|10)", version or ""):
        return f"{version!r} is not a Shopify API version (YYYY-01, -04, -07 or -10, e.g. {DEFAULT_API_VERSION})"
    if version < OLDEST_API_VERSION:
        return f"{version} is older than {OLDEST_API_VERSION}, the first version with changeFromQuantity"
    return None


class ShopifyAdapter:
    """A Shopify channel over `http` (one `ChannelHttp` whose base URL is the shop's), authenticated by
    `access_token` (a custom app's) or by `client_id` + `client_secret` (client credentials, shared
    through `store`)."""

    cancel_reasons = CANCEL_REASONS

    def __init__(self, name: str, http: ChannelHttp, *, access_token: str | None = None,
                 client_id: str | None = None, client_secret: str | None = None, store: TokenStore | None = None,
                 options: ShopifyOptions = ShopifyOptions(), now=time.time, locations: Sequence[str] = ()):
        problem = check_api_version(options.api_version)
        if problem:
            raise ValueError(f"api_version: {problem}")
        # the channel's `locations`: key as written -> its gid ({}: the one location below)
        self.locations = {str(key): location_gid(key) for key in locations}
        wrong = [key for key, found in self.locations.items() if found is None]
        if wrong:
            raise ValueError(f"locations: {wrong[0]!r} is not a Shopify location id (a number or "
                             "gid://shopify/Location/<number>)")
        if self.locations and options.location_id:
            raise ValueError("location_id: a channel with `locations` names its locations there")
        if len(set(self.locations.values())) < len(self.locations):
            raise ValueError("locations: one Shopify location is named twice (as a number and as a gid)")
        if options.take_stock_at not in TAKE_STOCK_AT:
            raise ValueError(f"take_stock_at must be one of {', '.join(TAKE_STOCK_AT)}")
        self.name, self.http, self.options, self._now = name, http, options, now
        self.graphql = ShopifyGraphql(name, http, options.api_version, access_token=access_token,
                                      client_id=client_id, client_secret=client_secret, store=store,
                                      margin_seconds=options.token_margin_seconds, now=now)
        self.tokens, self.auth_kind = self.graphql.tokens, self.graphql.auth_kind
        self._push = QuantityPush(self.graphql, options, http.redact)
        self._location = (location_gid(options.location_id) or gid("Location", options.location_id)) \
            if options.location_id else None

    def location(self, budget: WaitBudget | None = None) -> str:
        """The location gid quantities are set at: the option's, else the shop's primary location."""
        if self._location is None:
            found = (self.graphql(PRIMARY_LOCATION, budget=budget).get("location") or {}).get("id")
            if not found:
                raise PermanentChannelError(f"channel {self.name}: shopify names no primary location; set the "
                                            "location_id option")
            self._location = str(found)
        return self._location

    # --- quantities -----------------------------------------------------------------------------------

    def push_quantities(self, updates: Sequence[tuple[str, int]]) -> list[PushResult]:
        """Set each listing's available quantity at its location; one result per listing, in order."""
        return self._push(updates)

    def push_location_quantities(self, location: str, updates: Sequence[tuple[str, int]]) -> list[PushResult]:
        """Set each listing's available quantity at location `location` (a key of the channel's
        `locations`); a listing id naming another location fails alone, unsent."""
        at = self.locations.get(str(location)) or location_gid(location)
        if at is None:
            return results_for_all(updates, f"{location!r} is not a Shopify location id", retryable=False)
        return self._push(updates, at=at)

    # --- listings -------------------------------------------------------------------------------------

    def list_listings(self, cursor: str | None, full: bool) -> ListingPage:
        """One page of variants with a SKU; every sync reads all of them (the last page's cursor is "")."""
        state = json.loads(cursor) if cursor else {}
        places = list(self.locations.items()) or [(None, self.location())]    # (key, gid) per location
        size = max(1, self.options.variants_page_size // len(places))    # the cost of one location's page
        query = f"id:>{state['floor']}" if state.get("floor") else None
        data = self.graphql(variants_query(len(places)), {
            "first": size, "after": state.get("after"), "query": query,
            **{f"at{n}": at for n, (_, at) in enumerate(places)}})
        connection = data.get("productVariants") or {}
        nodes = connection.get("nodes") or []
        listings = []
        for v in nodes:
            item = (v.get("inventoryItem") or {})
            if not v.get("sku") or not item.get("id"):
                continue
            variant_size = v.get("title") if v.get("title") not in (None, "", "Default Title") else None
            for n, (key, at) in enumerate(places):
                level = item.get(f"at{n}")
                listings.append(RemoteListing(f"{item['id']}@{at}", str(v["sku"]), variant_size,
                                              None if level is None else available(level),
                                              (v.get("product") or {}).get("title"), key))
        info = connection.get("pageInfo") or {}
        more = bool(info.get("hasNextPage")) and bool(nodes)
        if not more:
            return ListingPage(listings, "", False)
        seen = int(state.get("seen", 0)) + len(nodes)
        if seen + size > self.options.pagination_cap:
            # Shopify pages through at most 25,000 objects: start again after the last id read
            new = {"floor": numeric_id(nodes[-1]["id"]), "after": None, "seen": 0}
        else:
            new = {"floor": state.get("floor"), "after": info.get("endCursor"), "seen": seen}
        return ListingPage(listings, json.dumps(new, sort_keys=True), True)

    # --- orders ---------------------------------------------------------------------------------------

    def fetch_orders(self, cursor: str | None) -> OrderPage:
        """One page of orders updated since the last poll (less the overlap). The cursor is JSON: `since`
        (ISO, the server time of the last complete poll), `after` (Shopify's endCursor while paging),
        `until` (the server time of the current poll's first page)."""
        now = datetime.fromtimestamp(self._now(), UTC)
        state = json.loads(cursor) if cursor else {
            "since": iso(now.timestamp() - self.options.first_pull_hours * 3600)}
        start = datetime.fromisoformat(state["since"].replace("Z", "+00:00")).timestamp() \
            - self.options.order_overlap_seconds
        query = f"updated_at:>='{iso(start)}'"
        self.graphql.server_time = None
        data = self.graphql(ORDERS, {"first": self.options.orders_page_size, "after": state.get("after"),
                                     "query": query})
        connection = data.get("orders") or {}
        nodes = list({n["id"]: n for n in connection.get("nodes") or [] if n.get("id")}.values())
        orders, cancellations = [], []
        for node in nodes:
            order, cancelled = read_order(node, self.options.take_stock_at, self._more_lines(node))
            orders.append(order)
            cancellations += cancelled
        until = state.get("until") or self.graphql.server_time or iso(now.timestamp())
        info = connection.get("pageInfo") or {}
        more = bool(info.get("hasNextPage")) and bool(nodes)
        if more:
            new = {"since": state["since"], "after": info.get("endCursor"), "until": until}
        else:
            new = {"since": max(state["since"], until), "after": None}
        return OrderPage(orders, cancellations, json.dumps(new, sort_keys=True), more=more)

    def _more_lines(self, node: dict) -> list[dict]:
        """The line items of an order past its first page of them (bounded by the order's size)."""
        info = (node.get("lineItems") or {}).get("pageInfo") or {}
        lines, after = [], info.get("endCursor")
        for _ in range(100):
            if not info.get("hasNextPage"):
                break
            data = self.graphql(ORDER_LINES, {"id": node["id"], "after": after})
            connection = ((data.get("order") or {}).get("lineItems")) or {}
            lines += connection.get("nodes") or []
            info = connection.get("pageInfo") or {}
            after = info.get("endCursor")
        return lines

    def orders_committed(self, page: OrderPage) -> None:
        """Nothing to acknowledge: orders are read by update time."""

    def cancel_order(self, order_id: str, lines: Sequence[tuple[str, int]], reason: str) -> None:
        """Cancel the order on Shopify with `reason` (an OrderCancelReason). Shopify cancels whole orders
        only: a request for some of the order's lines is refused before anything is sent."""
        code = str(reason).strip().upper()
        if code not in CANCEL_REASONS:
            raise PermanentChannelError(f"shopify does not accept cancellation reason {reason!r} "
                                        f"(one of {', '.join(CANCEL_REASONS)})")
        order_gid = gid("Order", order_id)
        data = self.graphql(ORDER_LINES, {"id": order_gid, "after": None})
        if not data.get("order"):
            raise PermanentChannelError(f"shopify has no order {order_id}")
        everything = {numeric_id(n["id"]) for n in data["order"]["lineItems"]["nodes"] +
                      self._more_lines(data["order"])}
        asked = {str(line) for line, _ in lines}
        if asked != everything:
            raise PermanentChannelError(f"shopify cancels whole orders only: order {order_id} has line(s) "
                                        f"{', '.join(sorted(everything - asked))} not being cancelled; cancel "
                                        "those lines in Shopify (refund), or cancel here only (--here-only)")
        refund = {"originalPaymentMethodsRefund": bool(self.options.cancel_refund)}
        data = self.graphql(CANCEL, {"orderId": order_gid, "reason": code, "refundMethod": refund, "restock": False,
                                     "notifyCustomer": self.options.cancel_notify_customer,
                                     "staffNote": "cancelled from StockGate"}, idempotent=False)
        errors = (data.get("orderCancel") or {}).get("orderCancelUserErrors") or []
        if errors:
            raise PermanentChannelError("shopify refused to cancel order " + order_id + ": " + "; ".join(
                f"{e.get('code')}: {e.get('message')}" for e in errors))

    # --- channels check -------------------------------------------------------------------------------

    def check(self) -> list[CheckResult]:
        """Try the token, the app's access scopes, the location(s) and each query the channel uses, read-only
        (`channels.shopify_check`)."""
        from channels.shopify_check import check_adapter

        return check_adapter(self)
