"""The state of the SP-API contract server: LWA clients, refresh and access tokens, the app's roles, the
seller's listings with their fulfillment availability, orders (v2026-01-01 shape) with a controllable clock
and visibility lag, server-side usage plans, and failures queued for the next matching requests
(CHANNEL_APIS.md sections 2 and 10). `amazon_server` speaks HTTP over it.
"""

from __future__ import annotations

import copy
import secrets
import time
from datetime import UTC, datetime

from base_market import ContractMarket

TOKEN_SECONDS = 3600
MARKETPLACE = "ATVPDDKIKX0DER"
ROLES = ("listings", "orders")
# the model files' default usage plans (rate per second, burst)
PLANS = {"patchListingsItem": (5.0, 5), "searchListingsItems": (5.0, 5), "searchOrders": (0.0056, 20)}


def iso(at: float) -> str:
    """Server seconds as SP-API's ISO-8601 form with milliseconds."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(at * 1000) % 1000:03d}Z"


class _Bucket:
    def __init__(self, rate: float, burst: int):
        self.rate, self.burst, self.tokens, self.at = rate, burst, float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class AmazonMarket(ContractMarket):
    """Everything the contract server knows; every method takes the lock (the server is threaded)."""

    def __init__(self, client_id: str = "amzn1.application-oa2-client.contract0001",
                 client_secret: str = "amzn1.oa2-cs.v1.contractsecret0001",
                 refresh_token: str = "Atzr|contract-refresh-token-0001", seller_id: str = "A1SELLERCONTRACT"):
        super().__init__(client_id, client_secret)
        self.refresh_token = refresh_token
        self.refresh_tokens = {refresh_token: client_id}
        self.seller_id = seller_id
        self.roles = set(ROLES)
        self.tokens: dict[str, float] = {}
        self.expired_status = 403            # SP-API's status for an expired token (unconfirmed: configurable)
        self.event_age_seconds = 0.0         # order events are stamped this long ago (SP-API's clock lag)
        self.visibility_lag_seconds = 0.0
        self.listings: list[dict] = []
        self.listing_errors: dict[str, dict] = {}      # sku -> the issue a patch of it answers (status INVALID)
        self.not_applied: set[str] = set()             # skus whose patch is ACCEPTED but never applied
        self.patches: list[dict] = []
        self.orders: dict[str, list[tuple[float, dict]]] = {}   # order id -> versions (visible_at, order)
        self.page_tokens: dict[str, tuple] = {}
        self.on_page: list = []              # callables run before answering a page asked for by its token
        self.documents: dict[str, bytes | None] = {}   # feed documents (uploads and reports) by id
        self.feeds: dict[str, dict] = {}                # feed id -> {"document", "polls", "status", ...}
        self.feed_polls_to_done = 2                      # getFeed calls answered IN_QUEUE / IN_PROGRESS first
        self.feed_fatal = False
        self.plans = dict(PLANS)
        self._buckets: dict[str, _Bucket] = {}

    # --- clock, tokens, plans, failures ---------------------------------------------------------------

    def issue_token(self) -> str:
        with self.lock:
            token = "Atza|" + secrets.token_urlsafe(32)
            self.tokens[token] = self.now() + TOKEN_SECONDS
            self.tokens_issued += 1
            return token

    def token_state(self, token: str | None) -> str:
        """missing, invalid, expired or ok."""
        with self.lock:
            if not token:
                return "missing"
            if token not in self.tokens:
                return "invalid"
            return "ok" if self.tokens[token] > self.now() else "expired"

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working now (expiry mid-run)."""
        with self.lock:
            self.tokens = {t: self.now() - 1 for t in self.tokens}

    def take_quota(self, operation: str) -> bool:
        with self.lock:
            rate, burst = self.plans.get(operation, (100.0, 100))
            bucket = self._buckets.get(operation)
            if bucket is None or (bucket.rate, bucket.burst) != (rate, burst):
                bucket = self._buckets[operation] = _Bucket(rate, burst)
            return bucket.take()

    # --- listings -------------------------------------------------------------------------------------

    def add_listing(self, sku: str, product_type: str = "HAT", quantity: int | None = None, *,
                    channel_code: str = "DEFAULT", name: str = "", at_start: bool = False) -> None:
        with self.lock:
            listing = {"sku": sku, "productType": product_type, "itemName": name or f"Product {sku}",
                       "asin": f"B0{len(self.listings):08d}", "created": iso(self.now()),
                       "availability": {channel_code: quantity} if quantity is not None else {}}
            self.listings.insert(0, listing) if at_start else self.listings.append(listing)

    def listing(self, sku: str) -> dict | None:
        with self.lock:
            return next((l for l in self.listings if l["sku"] == sku), None)

    def quantity(self, sku: str, channel_code: str = "DEFAULT") -> int | None:
        with self.lock:
            listing = self.listing(sku)
            return None if listing is None else listing["availability"].get(channel_code)

    def item(self, listing: dict) -> dict:
        """A listing as searchListingsItems shows it (summaries + fulfillmentAvailability)."""
        return {"sku": listing["sku"],
                "summaries": [{"marketplaceId": MARKETPLACE, "asin": listing["asin"],
                               "productType": listing["productType"], "conditionType": "new_new",
                               "status": ["BUYABLE"], "itemName": listing["itemName"],
                               "createdDate": listing["created"], "lastUpdatedDate": listing["created"]}],
                "fulfillmentAvailability": [{"fulfillmentChannelCode": code, "quantity": qty}
                                            for code, qty in listing["availability"].items()]}

    # --- orders ---------------------------------------------------------------------------------------

    def _stamp(self) -> float:
        return self.now() - self.event_age_seconds

    def _put_order(self, order: dict, at: float) -> None:
        order["lastUpdatedTime"] = iso(at)
        order["_updated"] = at
        self.orders.setdefault(order["orderId"], []).append((at + self.visibility_lag_seconds
                                                             + self.event_age_seconds, order))

    def place_order(self, order_id: str, lines: list[tuple[str, int]], status: str = "UNSHIPPED") -> None:
        """A merchant-fulfilled order; items (sku, quantity) get ids `<order>-1`, `<order>-2`, ..."""
        with self.lock:
            at = self._stamp()
            order = {"orderId": order_id, "createdTime": iso(at), "lastUpdatedTime": iso(at),
                     "salesChannel": {"channelName": "Amazon.com", "marketplaceId": MARKETPLACE},
                     "fulfillment": {"fulfillmentStatus": status, "fulfilledBy": "MERCHANT"},
                     "orderItems": [{"orderItemId": f"{order_id}-{n}", "quantityOrdered": qty,
                                     "product": {"sellerSku": sku, "asin": "B000000000"}}
                                    for n, (sku, qty) in enumerate(lines, start=1)]}
            self._put_order(order, at)

    def latest(self, order_id: str) -> dict:
        with self.lock:
            return self.orders[order_id][-1][1]

    def update_order(self, order_id: str, change) -> None:
        """A new version of the order: `change(order)` edits a copy; the update time moves on."""
        with self.lock:
            order = copy.deepcopy(self.latest(order_id))
            change(order)
            self._put_order(order, max(self._stamp(), order["_updated"] + 0.001))

    def set_status(self, order_id: str, status: str) -> None:
        self.update_order(order_id, lambda o: o["fulfillment"].update(fulfillmentStatus=status))

    def cancel_item(self, order_id: str, item: int, *, cancelled_by: str | None = "MERCHANT",
                    reason: str | None = None, requested: str | None = None) -> None:
        """Cancel one item (1-based) as the buyer, the seller or Amazon did; the order becomes CANCELLED
        when every item is."""
        def change(order):
            entry = order["orderItems"][item - 1]
            cancellation = {}
            if requested is not None:
                cancellation["cancellationRequest"] = {"requester": "BUYER", "cancelReason": requested}
            execution = {k: v for k, v in (("cancelledBy", cancelled_by), ("cancelReason", reason)) if v}
            cancellation["cancellationExecution"] = execution
            entry["cancellation"] = cancellation
            if all("cancellationExecution" in (i.get("cancellation") or {}) for i in order["orderItems"]):
                order["fulfillment"]["fulfillmentStatus"] = "CANCELLED"
        self.update_order(order_id, change)

    def request_cancel(self, order_id: str, item: int, reason: str) -> None:
        """The buyer asks to cancel an item; nothing is cancelled until the seller acts."""
        def change(order):
            order["orderItems"][item - 1]["cancellation"] = {
                "cancellationRequest": {"requester": "BUYER", "cancelReason": reason}}
        self.update_order(order_id, change)

    def visible_orders(self, after: float, before: float) -> list[dict]:
        """The latest visible version of each order updated within [after, before], oldest update first."""
        shown = self.latest_visible(self.now(), lambda o: after <= o["_updated"] <= before)
        return sorted(shown, key=lambda o: (o["_updated"], o["orderId"]))


def errors_body(code: str, message: str, details: str | None = None) -> dict:
    """SP-API's error list."""
    error = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"errors": [error]}
