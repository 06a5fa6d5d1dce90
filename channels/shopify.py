"""The `shopify` adapter: a Shopify store through the Admin GraphQL API (docs/channels/shopify.md).

- Endpoint `POST /admin/api/{api_version}/graphql.json` (the version is an option, default
  `DEFAULT_API_VERSION`; 2026-01 at the oldest, the first with `changeFromQuantity`), header
  `X-Shopify-Access-Token`. The token is a custom app's static token (it does not expire; a 401 means
  it was revoked) or, for a Dev-Dashboard app, one fetched by the client credentials grant
  (`POST /admin/oauth/access_token`, about 24 h), refreshed before expiry and at once on a 401 by the
  channel's one `TokenRefresher`.
- Quantities: `inventorySetQuantities` (name `available`) in batches of at most 250, each with an
  `@idempotent(key:)` directive whose key is kept while the same batch is repeated (5xx, dropped
  connection), so a write Shopify applied before the answer was lost is not applied twice. Compare-and-set:
  the batch's levels are read first and each entry carries `changeFromQuantity` = the level read; an
  entry answered `CHANGE_FROM_QUANTITY_STALE` (a sale or an edit in Shopify in between) is read again and
  sent again, up to `cas_retries` times, then left retryable. StockGate's quantity still wins (it is
  computed from the stock and the orders StockGate knows); the compare only guarantees that what is
  overwritten is what was read. `compare_and_set = false` sends `changeFromQuantity: null` (no compare).
  `userErrors` are mapped to entries by their `field` path; when Shopify returns no adjustment group the
  entries without an error of their own were not applied either and are sent again in the next round.
- Throttling: every answer's `extensions.cost.throttleStatus` is remembered; a call waits first when the
  bucket cannot cover its last known cost; `THROTTLED` (HTTP 200 or 429) waits (cost - available) /
  restoreRate. Every wait of a push comes from one `WaitBudget`; beyond it the rest is left retryable.
- Listings: `productVariants` by cursor (<= 250 a page); the listing id is `<inventoryItem gid>@<location
  gid>`, the SKU the variant's. The location is the `location_id` option, else the shop's primary location
  (`location` without an id). Past `pagination_cap` objects a pass starts again with `id:>` the last id.
- Orders: `orders(query: "updated_at:>=...", sortKey: UPDATED_AT)` from the server time of the last
  complete poll less `order_overlap_seconds`; orders seen twice are stored once by the order services.
- Cancel on the marketplace: `orderCancel` (whole orders only; Shopify has no line cancel) with
  `restock: false` (StockGate owns the quantity) and a refund to the original payment method.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from channels.base import CheckResult, ListingPage, OrderPage, PushResult, RemoteListing
from channels.errors import PermanentChannelError, RetryableChannelError
from channels.http import ChannelHttp, ThrottledError, WaitBudget
from channels.shopify_orders import (
    CANCEL, CANCEL_REASONS, ORDER_LINES, ORDERS, TAKE_STOCK_AT, gid, numeric_id, read_order,
)
from channels.tokens import AccessToken, TokenRefresher, TokenStore

DEFAULT_API_VERSION = "2026-10"
OLDEST_API_VERSION = "2026-01"
BATCH_LIMIT = 250
PAGINATION_CAP = 25_000
CLIENT_CREDENTIALS_SECONDS = 86_399.0     # used when the token answer has no expires_in (lifetime unconfirmed)
SCOPES = {"read_products": "listings", "read_inventory": "quantities", "write_inventory": "quantities",
          "read_orders": "orders", "write_orders": "cancelling on Shopify"}

SET_QUANTITIES = """
mutation StockGateSetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) @idempotent(key: "%s") {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}"""

LEVELS = """
query StockGateLevels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem { id inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } } }
  }
}"""

VARIANTS = """
query StockGateVariants($first: Int!, $after: String, $query: String, $locationId: ID!) {
  productVariants(first: $first, after: $after, query: $query, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id sku title
      product { title }
      inventoryItem { id inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } } }
    }
  }
}"""

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


class StaticToken:
    """A custom app's access token: it does not expire; refused once, it is refused for good."""

    fetches = 0

    def __init__(self, value: str):
        self.value = value

    def token(self) -> str:
        return self.value

    def refused(self, value: str) -> None:
        pass


class _Bucket:
    """Shopify's calculated-cost leaky bucket as the last answer reported it."""

    def __init__(self) -> None:
        self.maximum = self.available = self.rate = None
        self.at = 0.0
        self.costs: dict[str, float] = {}

    def note(self, extensions: dict | None, now: float, operation: str) -> None:
        cost = (extensions or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        try:
            self.maximum = float(status["maximumAvailable"])
            self.available = float(status["currentlyAvailable"])
            self.rate = float(status["restoreRate"])
            self.at = now
        except (KeyError, TypeError, ValueError):
            pass
        if cost.get("requestedQueryCost") is not None:
            self.costs[operation] = float(cost["requestedQueryCost"])

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until the bucket holds `cost` points (0 when it does, or nothing is known)."""
        if self.available is None or not self.rate:
            return 0.0
        available = min(self.maximum or cost, self.available + (now - self.at) * self.rate)
        return max(0.0, (cost - available) / self.rate)


class ShopifyAdapter:
    """A Shopify channel over `http` (one `ChannelHttp` whose base URL is the shop's), authenticated by
    `access_token` (a custom app's) or by `client_id` + `client_secret` (client credentials, shared
    through `store`)."""

    def __init__(self, name: str, http: ChannelHttp, *, access_token: str | None = None,
                 client_id: str | None = None, client_secret: str | None = None, store: TokenStore | None = None,
                 options: ShopifyOptions = ShopifyOptions(), now=time.time):
        problem = check_api_version(options.api_version)
        if problem:
            raise ValueError(f"api_version: {problem}")
        if options.take_stock_at not in TAKE_STOCK_AT:
            raise ValueError(f"take_stock_at must be one of {', '.join(TAKE_STOCK_AT)}")
        self.name, self.http, self.options, self._now = name, http, options, now
        self.path = f"/admin/api/{options.api_version}/graphql.json"
        self.bucket = _Bucket()
        self.server_time: str | None = None       # the Date of the last answer, ISO
        self._location = gid("Location", options.location_id) if options.location_id else None
        if access_token:
            http.redact.add(access_token)
            self.tokens: Any = StaticToken(access_token)
            self.auth_kind = "access token"
        elif client_id and client_secret:
            http.redact.add(client_id, client_secret)
            self._client = (client_id, client_secret)
            self.tokens = TokenRefresher(self._fetch_token, store, margin_seconds=options.token_margin_seconds,
                                         now=now, on_new=http.redact.add)
            self.auth_kind = "client credentials"
        else:
            raise ValueError("an access token, or a client id and secret, is required")

    # --- auth and the GraphQL call --------------------------------------------------------------------

    def _fetch_token(self) -> AccessToken:
        client_id, client_secret = self._client
        r = self.http.request("POST", "/admin/oauth/access_token", idempotent=True,
                              data={"grant_type": "client_credentials", "client_id": client_id,
                                    "client_secret": client_secret}, headers={"Accept": "application/json"})
        if r.status_code != 200:
            what = "refused the client id and secret" if r.status_code in (400, 401, 403) else "failed"
            raise PermanentChannelError(self.http.redact(
                f"channel {self.name}: shopify token request {what} ({r.status_code}: {_errors(r)})"))
        try:
            body = r.json()
            lifetime = float(body.get("expires_in") or CLIENT_CREDENTIALS_SECONDS)
            return AccessToken(str(body["access_token"]), self._now() + lifetime)
        except (KeyError, TypeError, ValueError):
            raise PermanentChannelError(f"channel {self.name}: shopify token answer without access_token") from None

    def graphql(self, document: str, variables: dict | None = None, *, idempotent: bool = True,
                budget: WaitBudget | None = None) -> dict:
        """Run one GraphQL document; its `data`. Waits out the cost bucket (from `budget`), refreshes a
        refused token once; PermanentChannelError naming a missing scope or a refused token."""
        budget = budget or self.http.budget()
        operation = (re.search(r"(?:query|mutation)\s+(\w+)", document) or [None, "?"])[1]
        refreshed = False
        for attempt in range(1, self.http.policy.max_attempts + 1):
            wait = self.bucket.wait_for(self.bucket.costs.get(operation, 10.0), self._now())
            if wait > 0:
                self.http.pause(wait, budget, f"{operation}: the cost bucket is short")
            token = self.tokens.token()
            r = self.http.request("POST", self.path, idempotent=idempotent, budget=budget,
                                  headers={"X-Shopify-Access-Token": token, "Accept": "application/json"},
                                  json={"query": document, "variables": variables or {}})
            if r.status_code == 401:
                self.tokens.refused(token)
                if refreshed or isinstance(self.tokens, StaticToken):
                    raise PermanentChannelError(self.http.redact(
                        f"channel {self.name}: shopify refused the {self.auth_kind} (401: {_errors(r)}): "
                        + ("the token was revoked or the app uninstalled; create a new token"
                           if isinstance(self.tokens, StaticToken) else "check the client id and secret")))
                refreshed = True
                continue
            if r.status_code != 200:
                raise self._refuse(r, operation)
            try:
                body = r.json()
            except ValueError:
                raise RetryableChannelError(f"channel {self.name}: shopify {operation} answered 200 without "
                                            f"JSON: {r.text[:120]!r}") from None
            self.bucket.note(body.get("extensions"), self._now(), operation)
            self.server_time = _date_iso(r) or self.server_time
            errors = body.get("errors") or []
            if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors if isinstance(e, dict)):
                cost = ((body.get("extensions") or {}).get("cost") or {}).get("requestedQueryCost") or 10
                self.http.pause(max(self.bucket.wait_for(float(cost), self._now()), 0.05), budget,
                                f"{operation} answered THROTTLED (cost {cost})")
                continue
            if errors:
                raise PermanentChannelError(self.http.redact(
                    f"channel {self.name}: shopify {operation} refused: {_graphql_errors(errors)}"))
            return body.get("data") or {}
        raise ThrottledError(f"channel {self.name}: shopify {operation} kept being throttled "
                             "(left for a later retry)")

    def _refuse(self, r: httpx.Response, operation: str) -> PermanentChannelError:
        hints = {402: " (the shop is frozen: its plan is unpaid)", 403: " (the app lacks a permission)",
                 404: f" (no such shop, or API version {self.options.api_version} is not served)",
                 423: " (the shop is locked)"}
        return PermanentChannelError(self.http.redact(
            f"channel {self.name}: shopify {operation} answered {r.status_code}{hints.get(r.status_code, '')}: "
            f"{_errors(r)}"))

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
        budget = self.http.budget()
        results: dict[int, PushResult] = {}
        entries = []
        for index, (listing_id, quantity) in enumerate(updates):
            item, _, location = str(listing_id).partition("@")
            if not item.startswith("gid://shopify/InventoryItem/") or not location.startswith("gid://"):
                results[index] = PushResult(listing_id, False, f"{listing_id!r} is not a shopify listing id "
                                            "(<inventory item gid>@<location gid>): sync the listings again")
                continue
            entries.append((index, listing_id, item, location, int(quantity)))
        size = max(1, min(self.options.batch_size, BATCH_LIMIT))
        stopped: str | None = None
        for start in range(0, len(entries), size):
            chunk = entries[start:start + size]
            if stopped is None:
                try:
                    self._push_batch(chunk, budget, results)
                    continue
                except RetryableChannelError as exc:
                    stopped = str(exc)
                    for index, listing_id, *_ in chunk:
                        results.setdefault(index, PushResult(listing_id, False, stopped, retryable=True))
                    continue
            for index, listing_id, *_ in chunk:
                results[index] = PushResult(listing_id, False, f"not sent: {stopped}", retryable=True)
        return [results[i] for i in range(len(updates))]

    def _levels(self, entries, budget: WaitBudget) -> dict[tuple[str, str], int | None]:
        """The available quantity of each (item, location) now; None when the item is not stocked there
        (missing items are left out)."""
        found: dict[tuple[str, str], int | None] = {}
        for location in sorted({e[3] for e in entries}):
            ids = sorted({e[2] for e in entries if e[3] == location})
            data = self.graphql(LEVELS, {"ids": ids, "locationId": location}, budget=budget)
            for node in data.get("nodes") or []:
                if not node or not node.get("id"):
                    continue
                level = node.get("inventoryLevel")
                found[(node["id"], location)] = None if level is None else _available(level)
        return found

    def _push_batch(self, chunk, budget: WaitBudget, results: dict[int, PushResult]) -> None:
        pending = list(chunk)
        stale_rounds = 0
        for _ in range(self.options.cas_retries + 2):     # bounded: re-reads after stale, one resend after a rejection
            if not pending:
                return
            send = []
            if self.options.compare_and_set:
                levels = self._levels(pending, budget)
                for entry in pending:
                    index, listing_id, item, location, quantity = entry
                    if (item, location) not in levels:
                        results[index] = PushResult(listing_id, False, f"INVALID_INVENTORY_ITEM: {item} is not in the "
                                                    "shop any more (the variant was deleted?)")
                    elif levels[(item, location)] is None:
                        results[index] = PushResult(listing_id, False, f"ITEM_NOT_STOCKED_AT_LOCATION: {item} is not "
                                                    f"stocked at {location}: activate it there in Shopify")
                    else:
                        send.append((entry, levels[(item, location)]))
            else:
                send = [(entry, None) for entry in pending]
            if not send:
                return
            quantities = [{"inventoryItemId": item, "locationId": location, "quantity": quantity,
                           "changeFromQuantity": before}
                          for (_, _, item, location, quantity), before in send]
            variables = {"input": {"name": "available", "reason": self.options.reason,
                                   "referenceDocumentUri": f"gid://stockgate/Push/{uuid.uuid4()}",
                                   "quantities": quantities}}
            # one key per batch content: the HTTP client repeats this very request (same key) after a 5xx or
            # a dropped connection, and Shopify answers the first attempt's result instead of applying it twice
            data = self.graphql(SET_QUANTITIES % uuid.uuid4(), variables, budget=budget)
            payload = data.get("inventorySetQuantities") or {}
            applied = payload.get("inventoryAdjustmentGroup") is not None
            by_entry: dict[int, dict] = {}
            general = []
            for error in payload.get("userErrors") or []:
                position = _position(error.get("field"))
                if position is not None and position < len(send):
                    by_entry.setdefault(position, error)
                else:
                    general.append(error)
            if general and not by_entry:
                text = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in general)
                retry = any(e.get("code") in ("IDEMPOTENCY_CONCURRENT_REQUEST", "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED")
                            for e in general)
                for (index, listing_id, *_), _ in send:
                    results[index] = PushResult(listing_id, False, self.http.redact(text), retryable=retry)
                return
            pending, stale = [], False
            for position, ((index, listing_id, *rest), _) in enumerate(send):
                error = by_entry.get(position)
                if error is None:
                    if applied or not by_entry:
                        results[index] = PushResult(listing_id, True)
                    else:                       # the group was refused: this entry was not applied either
                        pending.append((index, listing_id, *rest))
                elif error.get("code") == "CHANGE_FROM_QUANTITY_STALE":
                    stale = True
                    pending.append((index, listing_id, *rest))
                    results[index] = PushResult(listing_id, False, "CHANGE_FROM_QUANTITY_STALE: the quantity kept "
                                                f"changing on Shopify ({self.options.cas_retries} re-reads)",
                                                retryable=True)
                else:
                    retry = error.get("code") in ("IDEMPOTENCY_CONCURRENT_REQUEST",
                                                  "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED")
                    results[index] = PushResult(listing_id, False, self.http.redact(
                        f"{error.get('code')}: {error.get('message')}"), retryable=retry)
            if stale:
                stale_rounds += 1
                if stale_rounds > self.options.cas_retries:
                    return
        for index, listing_id, *_ in pending:
            results.setdefault(index, PushResult(listing_id, False, "not applied by Shopify after retries",
                                                 retryable=True))

    # --- listings -------------------------------------------------------------------------------------

    def list_listings(self, cursor: str | None, full: bool) -> ListingPage:
        """One page of variants with a SKU; every sync reads all of them (the last page's cursor is "")."""
        state = json.loads(cursor) if cursor else {}
        location = self.location()
        query = f"id:>{state['floor']}" if state.get("floor") else None
        data = self.graphql(VARIANTS, {"first": self.options.variants_page_size, "after": state.get("after"),
                                       "query": query, "locationId": location})
        connection = data.get("productVariants") or {}
        nodes = connection.get("nodes") or []
        listings = []
        for v in nodes:
            item = (v.get("inventoryItem") or {})
            if not v.get("sku") or not item.get("id"):
                continue
            level = item.get("inventoryLevel")
            size = v.get("title") if v.get("title") not in (None, "", "Default Title") else None
            listings.append(RemoteListing(f"{item['id']}@{location}", str(v["sku"]), size,
                                          None if level is None else _available(level),
                                          (v.get("product") or {}).get("title")))
        info = connection.get("pageInfo") or {}
        more = bool(info.get("hasNextPage")) and bool(nodes)
        if not more:
            return ListingPage(listings, "", False)
        seen = int(state.get("seen", 0)) + len(nodes)
        if seen + self.options.variants_page_size > self.options.pagination_cap:
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
            "since": _iso(now.timestamp() - self.options.first_pull_hours * 3600)}
        start = datetime.fromisoformat(state["since"].replace("Z", "+00:00")).timestamp() \
            - self.options.order_overlap_seconds
        query = f"updated_at:>='{_iso(start)}'"
        self.server_time = None
        data = self.graphql(ORDERS, {"first": self.options.orders_page_size, "after": state.get("after"),
                                     "query": query})
        connection = data.get("orders") or {}
        nodes = list({n["id"]: n for n in connection.get("nodes") or [] if n.get("id")}.values())
        orders, cancellations = [], []
        for node in nodes:
            order, cancelled = read_order(node, self.options.take_stock_at, self._more_lines(node))
            orders.append(order)
            cancellations += cancelled
        until = state.get("until") or self.server_time or _iso(now.timestamp())
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
        """Try the token, the app's access scopes, the location and each query the channel uses, read-only."""
        try:
            if isinstance(self.tokens, TokenRefresher):
                self.tokens.refused(self.tokens.token())      # a fresh token proves the client id and secret
            data = self.graphql(SCOPES_QUERY)
        except (PermanentChannelError, RetryableChannelError) as exc:
            return [CheckResult("token", False, str(exc))]
        shop = (data.get("shop") or {}).get("name") or "?"
        results = [CheckResult("token", True, f"the {self.auth_kind} opens shop {shop!r} "
                                              f"(API version {self.options.api_version})")]
        granted = {s.get("handle") for s in ((data.get("currentAppInstallation") or {}).get("accessScopes") or [])}
        # a write scope implies its read scope
        granted |= {"read_" + s[6:] for s in granted if s and s.startswith("write_")}
        missing = [s for s in SCOPES if s not in granted]
        if not self.options.location_id and "read_locations" not in granted:
            missing.append("read_locations")
        results.append(CheckResult("scopes", not missing, "the app has every access scope StockGate uses" if not missing
                                   else "the app lacks the access scope(s) " + ", ".join(
                                       f"{s} ({SCOPES.get(s, 'finding the primary location')})" for s in missing)
                                   + ": add them to the app's configuration and reinstall it"))
        steps = [("location", lambda: self._check_location()),
                 ("listings", lambda: self.graphql(VARIANTS, {"first": 1, "after": None, "query": None,
                                                              "locationId": self.location()}) and "variants readable"),
                 ("orders", lambda: self.graphql(ORDERS, {"first": 1, "after": None, "query": None})
                  and "orders readable")]
        for step, run in steps:
            try:
                results.append(CheckResult(step, True, str(run())))
            except (PermanentChannelError, RetryableChannelError) as exc:
                results.append(CheckResult(step, False, str(exc)))
        return results

    def _check_location(self) -> str:
        if self.options.location_id:
            found = self.graphql(LOCATION, {"id": self._location}).get("location")
            if not found:
                raise PermanentChannelError(f"location_id {self.options.location_id}: no such location in the shop")
            return f"quantities go to location {found.get('name')!r} ({found['id']})"
        return f"quantities go to the shop's primary location ({self.location()})"


def _available(level: dict) -> int | None:
    for q in level.get("quantities") or []:
        if q.get("name") == "available":
            return int(q.get("quantity") or 0)
    return None


def _position(field: Any) -> int | None:
    """The entry an error's field path points at (["input", "quantities", "3", "inventoryItemId"] -> 3)."""
    if isinstance(field, list) and len(field) >= 3 and field[:2] == ["input", "quantities"]:
        try:
            return int(field[2])
        except (TypeError, ValueError):
            return None
    return None


def _date_iso(r: httpx.Response) -> str | None:
    """The server's clock from the `Date` header, ISO."""
    try:
        return _iso(email.utils.parsedate_to_datetime(r.headers["date"]).timestamp())
    except (KeyError, TypeError, ValueError):
        return None


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _graphql_errors(errors: list) -> str:
    """GraphQL `errors` in one line, an ACCESS_DENIED naming the scope it needs."""
    parts = []
    for e in errors[:5]:
        if not isinstance(e, dict):
            parts.append(str(e)[:200])
            continue
        ext = e.get("extensions") or {}
        text = f"{ext.get('code') or 'ERROR'}: {e.get('message')}"
        if ext.get("requiredAccess"):
            text += f" (required access: {ext['requiredAccess']})"
        parts.append(text)
    return "; ".join(parts)


def _errors(r: httpx.Response) -> str:
    """Shopify's error body in one line (`{"errors": "..."}`, `{"errors": [...]}`, OAuth's
    `error_description`), or the body's start."""
    try:
        body = r.json()
    except ValueError:
        return r.text[:200] or r.reason_phrase
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list):
            return _graphql_errors(errors)
        if errors:
            return str(errors)[:200]
        if body.get("error"):
            return f"{body['error']}: {body.get('error_description') or ''}".strip()
    return str(body)[:200]
