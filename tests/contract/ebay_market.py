"""The state of the eBay contract server: the app's credentials, refresh tokens with their granted scopes,
user access tokens, inventory items with their offers and merchant locations, orders with their cancel
status, a controllable clock with visibility lag, and the failures queued for the next matching requests
(CHANNEL_APIS.md sections 3 and 10). `ebay_server` speaks HTTP over it.
"""

from __future__ import annotations

import copy
import secrets
from datetime import UTC, datetime

from base_market import ContractMarket

TOKEN_SECONDS = 7200
ROOT = "https://api.ebay.com/oauth/api_scope/"
ALL_SCOPES = frozenset({ROOT + "sell.inventory", ROOT + "sell.fulfillment", ROOT + "sell.inventory.readonly",
                        ROOT + "sell.fulfillment.readonly"})
REVISIONS_PER_DAY = 250


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class EbayMarket(ContractMarket):
    """Everything the contract server knows; every method takes the lock (the server is threaded)."""

    def __init__(self, client_id: str = "StockGat-cid-PRD-0001", client_secret: str = "PRD-csecret-0001",
                 refresh_token: str = "v^1.1#i^1#refresh-contract-0001"):
        super().__init__(client_id, client_secret)
        self.refresh_token = refresh_token
        self.refresh_tokens: dict[str, set[str]] = {refresh_token: set(ALL_SCOPES)}   # token -> granted scopes
        self.tokens: dict[str, tuple[float, frozenset]] = {}   # access token -> (expiry, scopes)
        self.visibility_lag_ms = 0
        self.items: list[dict] = []                           # inventory items, in eBay's order
        self.offers: dict[str, list[dict]] = {}               # sku -> offers
        self.locations: list[dict] = [{"merchantLocationKey": "WH-MAIN", "merchantLocationStatus": "ENABLED",
                                       "name": "Main warehouse"}]
        self.sku_errors: dict[str, tuple[int, int, str]] = {}  # sku -> (statusCode, errorId, message)
        self.revisions: dict[tuple[str, str], int] = {}       # (sku, day) -> revisions
        self.orders: dict[str, list[tuple[int, dict]]] = {}   # order id -> versions (visible_at_ms, order)
        self.on_items_page: list = []                         # run before answering an items page after the first
        self.cancel_calls: list[dict] = []                    # Post-Order cancellation bodies received
        self.not_cancellable: set[str] = set()                # orders past eBay's cancellation window

    # --- clock, tokens, failures ----------------------------------------------------------------------

    def issue_token(self, scopes: frozenset = ALL_SCOPES) -> str:
        with self.lock:
            token = "v^1.1#i^1#access-" + secrets.token_urlsafe(24)
            self.tokens[token] = (self.now() + TOKEN_SECONDS, frozenset(scopes))
            self.tokens_issued += 1
            return token

    def token_scopes(self, token: str | None) -> frozenset | None:
        """The scopes of a live access token, None for an unknown or expired one."""
        with self.lock:
            expiry, scopes = self.tokens.get(token or "", (0, frozenset()))
            return scopes if expiry > self.now() else None

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working now (token expiry mid-run)."""
        with self.lock:
            self.tokens = {t: (self.now() - 1, s) for t, (_, s) in self.tokens.items()}

    # --- inventory and offers -------------------------------------------------------------------------

    def add_item(self, sku: str, quantity: int = 0, *, offer: str | None = "auto", published: bool = True,
                 marketplace_id: str = "EBAY_US", at_start: bool = False) -> str | None:
        """An inventory item and (unless `offer` is None) its offer; the offer id is returned."""
        with self.lock:
            item = {"sku": sku, "locale": "en_US", "condition": "NEW", "product": {"title": f"Product {sku}"},
                    "availability": {"shipToLocationAvailability": {"quantity": quantity}}}
            self.items.insert(0, item) if at_start else self.items.append(item)
            if offer is None:
                return None
            offer_id = str(500000000000 + sum(len(o) for o in self.offers.values()) + len(self.items)) \
                if offer == "auto" else offer
            self.offers.setdefault(sku, []).append({
                "offerId": offer_id, "sku": sku, "marketplaceId": marketplace_id, "format": "FIXED_PRICE",
                "availableQuantity": quantity, "status": "PUBLISHED" if published else "UNPUBLISHED",
                "listing": {"listingId": str(110000000000 + len(self.items))} if published else {}})
            return offer_id

    def item(self, sku: str) -> dict | None:
        with self.lock:
            return next((i for i in self.items if i["sku"] == sku), None)

    def quantity(self, sku: str) -> int | None:
        """What the listing shows: min(shipToLocationAvailability, the published offer's availableQuantity)."""
        with self.lock:
            item = self.item(sku)
            if item is None:
                return None
            total = item["availability"]["shipToLocationAvailability"]["quantity"]
            offers = [o["availableQuantity"] for o in self.offers.get(sku, []) if o["status"] == "PUBLISHED"]
            return min([total, *offers])

    def apply(self, request: dict) -> list[dict]:
        """One entry of a bulk_update_price_quantity call: eBay's per-item responses."""
        with self.lock:
            sku = request.get("sku")
            offers = request.get("offers") or []
            refs = [(sku, o.get("offerId")) for o in offers] or [(sku, None)]

            def answer(status: int, error_id: int | None = None, message: str = "") -> list[dict]:
                out = []
                for s, offer_id in refs:
                    entry = {"statusCode": status, "sku": s}
                    if offer_id:
                        entry["offerId"] = offer_id
                    if error_id:
                        entry["errors"] = [{"errorId": error_id, "domain": "API_INVENTORY", "category": "REQUEST",
                                            "message": message, "longMessage": message}]
                    out.append(entry)
                return out

            if sku in self.sku_errors:
                return answer(*self.sku_errors[sku])
            item = self.item(sku)
            if item is None:
                return answer(404, 25702, f"SKU {sku} is not available in the system")
            known = {o["offerId"]: o for o in self.offers.get(sku, [])}
            for o in offers:
                if o.get("offerId") not in known:
                    return answer(404, 25713, "This Offer is not available.")
                if known[o["offerId"]]["status"] != "PUBLISHED":
                    return answer(400, 25725, "The offer is not published: only published offers can be revised")
            day = datetime.fromtimestamp(self.now(), UTC).date().isoformat()
            if self.revisions.get((sku, day), 0) >= REVISIONS_PER_DAY:
                return answer(400, 25016, "This listing has been revised 250 times today: try again tomorrow")
            self.revisions[(sku, day)] = self.revisions.get((sku, day), 0) + 1
            ship = request.get("shipToLocationAvailability")
            if ship and "quantity" in ship:
                item["availability"]["shipToLocationAvailability"] = copy.deepcopy(ship)
            for o in offers:
                if "availableQuantity" in o:
                    known[o["offerId"]]["availableQuantity"] = o["availableQuantity"]
            return answer(200)

    # --- orders ---------------------------------------------------------------------------------------

    def _put(self, order: dict) -> None:
        now = self.now_ms()
        order["lastModifiedDate"] = iso(now)
        order["_modified"] = now
        self.orders.setdefault(order["orderId"], []).append((now + self.visibility_lag_ms, order))

    def place_order(self, order_id: str, lines: list[tuple[str, int]], *, paid: bool = True) -> None:
        """An order that completed checkout, lines (sku, quantity)."""
        with self.lock:
            now = iso(self.now_ms())
            self._put({"orderId": order_id, "legacyOrderId": f"L{order_id}", "creationDate": now,
                       "paymentSummary": {"payments": [{"paymentDate": now, "paymentStatus": "PAID"}] if paid else []},
                       "orderFulfillmentStatus": "NOT_STARTED",
                       "orderPaymentStatus": "PAID" if paid else "PENDING", "sellerId": "stockgate_seller",
                       "buyer": {"username": "buyer_contract"},
                       "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
                       "lineItems": [{"lineItemId": f"{10000000000 + n}", "sku": sku, "quantity": qty,
                                      "legacyItemId": "110000000001", "title": f"Product {sku}",
                                      "lineItemFulfillmentStatus": "NOT_STARTED", "listingMarketplaceId": "EBAY_US"}
                                     for n, (sku, qty) in enumerate(lines, start=1)]})

    def latest(self, order_id: str) -> dict:
        with self.lock:
            return self.orders[order_id][-1][1]

    def pay(self, order_id: str) -> None:
        with self.lock:
            order = copy.deepcopy(self.latest(order_id))
            order["orderPaymentStatus"] = "PAID"
            order["paymentSummary"] = {"payments": [{"paymentDate": iso(self.now_ms()), "paymentStatus": "PAID"}]}
            self._put(order)

    def cancel(self, order_id: str, reason: str | None, initiator: str | None = "Buyer", *,
               completed: bool = True) -> None:
        """The buyer, the seller (`initiator`) or eBay (None) cancels the whole order; with `completed`
        False a cancel request is only pending (cancelState IN_PROGRESS)."""
        with self.lock:
            order = copy.deepcopy(self.latest(order_id))
            now = iso(self.now_ms())
            status = order["cancelStatus"]
            if initiator is not None or reason is not None:
                request = {"cancelRequestId": f"5{len(status['cancelRequests']):09d}", "cancelRequestedDate": now,
                           "cancelRequestState": "COMPLETED" if completed else "REQUESTED"}
                if initiator is not None:
                    request["cancelInitiator"] = initiator
                if reason is not None:
                    request["cancelReason"] = reason
                if completed:
                    request["cancelCompletedDate"] = now
                status["cancelRequests"].append(request)
            status["cancelState"] = "CANCELED" if completed else "IN_PROGRESS"
            if completed:
                status["cancelledDate"] = now
                if order["orderPaymentStatus"] == "PAID":
                    order["orderPaymentStatus"] = "FULLY_REFUNDED"
            self._put(order)

    def visible_orders(self, since_ms: int) -> list[dict]:
        """The latest version of each order visible now, modified at or after `since_ms`, oldest first."""
        shown = self.latest_visible(self.now_ms(), lambda o: o["_modified"] >= since_ms)
        return sorted(shown, key=lambda o: (o["_modified"], o["orderId"]))


def error_body(error_id: int, message: str, domain: str = "API_INVENTORY", **more) -> dict:
    """eBay's error envelope."""
    return {"errors": [{"errorId": error_id, "domain": domain, "category": "REQUEST", "message": message,
                        "longMessage": message, **more}]}
