"""The `ebay` adapter: an eBay seller account through the Sell Inventory and Fulfillment REST APIs
(docs/channels/ebay.md).

- Auth: the OAuth refresh-token grant (`POST /identity/v1/oauth2/token`, Basic client auth) gives a user
  access token (~2 h) for the `sell.inventory` and `sell.fulfillment` scopes, sent as a Bearer token;
  renewed `token_margin_seconds` before expiry and at once on a 401 (`channels.tokens`).
- Quantities: `POST /sell/inventory/v1/bulk_update_price_quantity`, at most `batch_size` (25) SKUs a call,
  each SKU's `shipToLocationAvailability` (at the channel's merchant location) and its published offer's
  `availableQuantity`; the per-item `responses[]` become per-listing outcomes, so a partial failure retries
  only what failed. Absolute quantities, so the call is repeated safely after a 5xx or a dropped connection.
- Listings: `GET /inventory_item` (following `next` as eBay gives it), and for each SKU `GET /offer?sku=`.
  The listing id is the SKU, which stays the same when an offer is published or re-created (an id that
  changed then would strand the item's link); the SKU -> offerId mapping is kept by the adapter: looked
  up for a SKU new to it or without a published offer yet (each sync, or a push), and again once eBay
  says the offer is gone.
- Orders: `GET /order?filter=lastmodifieddate:[T..]` from the last poll's server time less
  `order_overlap_seconds`, paged by offset with the poll's filter kept; a cancelled order is read again with
  `GET /order/{orderId}` for its reason and initiator (`channels.ebay_orders`).
- Cancel on eBay: the Post-Order API's `POST /post-order/v2/cancellation` (the seller cancels the whole
  order with a seller reason: eBay cancels whole orders only), `Authorization: IAF <token>` and
  `X-EBAY-C-MARKETPLACE-ID`; never repeated (not idempotent).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from channels.base import CheckResult, ListingPage, OrderPage, PushResult, RemoteListing
from channels.ebay_answers import error_list, errors_text, server_ms, token_problem
from channels.ebay_orders import cancel_body, is_cancelled, iso_ms, read_cancellation, read_order
from channels.errors import PermanentChannelError, RetryableChannelError
from channels.http import ChannelHttp, ThrottledError
from channels.tokens import AccessToken, TokenRefresher, TokenStore

PRODUCTION_URL = "https://api.ebay.com"
SANDBOX_URL = "https://api.sandbox.ebay.com"
TOKEN_PATH = "/identity/v1/oauth2/token"
INVENTORY = "/sell/inventory/v1"
FULFILLMENT = "/sell/fulfillment/v1"
SCOPE_ROOT = "https://api.ebay.com/oauth/api_scope/"
SCOPES = (SCOPE_ROOT + "sell.inventory", SCOPE_ROOT + "sell.fulfillment")
MAX_BATCH = 25
POST_ORDER = "/post-order/v2"
# CancelReasonEnum values the Post-Order API lets a seller give (the others are the buyer's)
SELLER_CANCEL_REASONS = ("OUT_OF_STOCK_OR_CANNOT_FULFILL", "BUYER_ASKED_CANCEL", "ADDRESS_ISSUES")
LOOKUPS_KEPT = 5000            # cancelled orders whose look-up is remembered (by order id and modification)


@dataclass(frozen=True)
class EbayOptions:
    """The channel's `options` the adapter reads (defaults in docs/channels/ebay.md)."""

    marketplace_id: str = "EBAY_US"             # the offers whose quantity is set
    merchant_location_key: str | None = None    # None: the account's first enabled location
    scopes: str = " ".join(SCOPES)
    token_margin_seconds: float = 300.0
    order_overlap_seconds: float = 300.0
    first_pull_hours: float = 24.0
    orders_page_limit: int = 100                # getOrders takes at most 200
    items_page_limit: int = 100                 # getInventoryItems takes at most 200
    batch_size: int = MAX_BATCH


class EbayAdapter:
    """An eBay channel over `http` (one `ChannelHttp` per channel), its token shared through `store`."""

    cancel_reasons = SELLER_CANCEL_REASONS

    def __init__(self, name: str, http: ChannelHttp, client_id: str, client_secret: str, refresh_token: str, *,
                 store: TokenStore | None = None, options: EbayOptions = EbayOptions(), now=time.time):
        if not 1 <= options.batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1 to {MAX_BATCH}")
        self.name, self.http, self.options, self._now = name, http, options, now
        self._basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._refresh = refresh_token
        http.redact.add(client_id, client_secret, refresh_token, self._basic)
        self.tokens = TokenRefresher(self._fetch_token, store, margin_seconds=options.token_margin_seconds,
                                     now=now, on_new=http.redact.add)
        self._location: str | None = options.merchant_location_key
        self._location_known = options.merchant_location_key is not None
        self._looked_up: dict[tuple[str, str], Any] = {}     # (orderId, lastModifiedDate) -> cancellation
        self.offers: dict[str, str | None] = {}              # SKU -> its published offer on marketplace_id

    # --- auth -----------------------------------------------------------------------------------------

    def _token_answer(self, scopes: str) -> httpx.Response:
        return self.http.request("POST", TOKEN_PATH, idempotent=True,
                                 headers={"Authorization": f"Basic {self._basic}", "Accept": "application/json"},
                                 data={"grant_type": "refresh_token", "refresh_token": self._refresh,
                                       "scope": scopes})

    def _fetch_token(self) -> AccessToken:
        r = self._token_answer(self.options.scopes)
        if r.status_code != 200:
            raise PermanentChannelError(self.http.redact(f"channel {self.name}: ebay token request "
                                                         f"{token_problem(r)}"))
        body = r.json()
        try:
            return AccessToken(str(body["access_token"]), self._now() + float(body.get("expires_in", 7200)))
        except (KeyError, TypeError, ValueError):
            raise PermanentChannelError(f"channel {self.name}: ebay token answer without access_token") from None

    def call(self, method: str, url: str, *, idempotent: bool, scheme: str = "Bearer", **kwargs: Any) -> httpx.Response:
        """One API call with the token (`scheme` Bearer, or IAF for the Post-Order API); a 401 drops the
        token, fetches a new one and tries once more."""
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        for attempt in (1, 2):
            token = self.tokens.token()
            r = self.http.request(method, url, idempotent=idempotent,
                                  headers={**headers, "Authorization": f"{scheme} {token}"}, **kwargs)
            if r.status_code != 401:
                return r
            self.tokens.refused(token)
        raise PermanentChannelError(self.http.redact(
            f"channel {self.name}: ebay refused a fresh token for {method} {url.split('?')[0]} (401: "
            f"{errors_text(r)}): check the refresh token and the environment (production or sandbox)"))

    def _refuse(self, r: httpx.Response, what: str, scope: str) -> PermanentChannelError:
        hint = f" (the token lacks scope {scope})" if r.status_code == 403 else ""
        return PermanentChannelError(self.http.redact(f"channel {self.name}: ebay {what} answered "
                                                      f"{r.status_code}{hint}: {errors_text(r)}"))

    # --- quantities -----------------------------------------------------------------------------------

    def location(self) -> str | None:
        """The merchant location quantities are set at: the option, else the first enabled one (read once)."""
        if not self._location_known:
            r = self.call("GET", f"{INVENTORY}/location?limit=100", idempotent=True)
            if r.status_code != 200:
                raise self._refuse(r, "location list", SCOPES[0])
            enabled = [l for l in r.json().get("locations") or [] if l.get("merchantLocationStatus") != "DISABLED"]
            self._location = str(enabled[0]["merchantLocationKey"]) if enabled else None
            self._location_known = True
        return self._location

    def _request(self, sku: str, quantity: int, location: str | None) -> dict:
        offer = self.offers.get(sku)
        availability: dict[str, Any] = {"quantity": int(quantity)}
        if location:
            availability["availabilityDistributions"] = [{"merchantLocationKey": location, "quantity": int(quantity)}]
        request: dict[str, Any] = {"sku": sku, "shipToLocationAvailability": availability}
        if offer:
            request["offers"] = [{"offerId": offer, "availableQuantity": int(quantity)}]
        return request

    def push_quantities(self, updates: Sequence[tuple[str, int]]) -> list[PushResult]:
        """Set each listing's quantity, `batch_size` SKUs a call; one result per listing, in the order given."""
        budget, results, throttled = self.http.budget(), [], None
        location = self.location() if updates else None
        size = self.options.batch_size
        for start in range(0, len(updates), size):
            batch = list(updates[start:start + size])
            if throttled is not None:
                results += [PushResult(l, False, f"not sent: {throttled}", retryable=True) for l, _ in batch]
                continue
            try:
                for sku, _ in batch:
                    if sku not in self.offers:
                        self.offers[sku] = self._offer(sku)
                body = {"requests": [self._request(l, q, location) for l, q in batch]}
                r = self.call("POST", f"{INVENTORY}/bulk_update_price_quantity", idempotent=True, budget=budget,
                              json=body, headers={"Content-Type": "application/json"})
            except ThrottledError as exc:
                throttled = str(exc)
                results += [PushResult(l, False, throttled, retryable=True) for l, _ in batch]
                continue
            except RetryableChannelError as exc:
                results += [PushResult(l, False, str(exc), retryable=True) for l, _ in batch]
                continue
            if r.status_code == 403:
                raise self._refuse(r, "quantity update", SCOPES[0])
            if r.status_code not in (200, 207):
                problem = self.http.redact(f"{r.status_code}: {errors_text(r)}")
                results += [PushResult(l, False, problem, retryable=r.status_code >= 500) for l, _ in batch]
                continue
            results += self._outcomes(batch, r.json().get("responses") or [])
        return results

    def _outcomes(self, batch: list[tuple[str, int]], responses: list[dict]) -> list[PushResult]:
        """Each listing's own entry of eBay's per-item answers (by SKU and offer id)."""
        out = []
        for sku, _ in batch:
            offer = self.offers.get(sku)
            mine = [a for a in responses if a.get("sku") == sku and (offer is None or a.get("offerId") in (offer, None))]
            if not mine:
                out.append(PushResult(sku, False, "ebay answered nothing for this SKU", retryable=True))
                continue
            failed = [a for a in mine if int(a.get("statusCode") or 0) != 200]
            if not failed:
                out.append(PushResult(sku, True))
                continue
            status = int(failed[0].get("statusCode") or 0)
            text = self.http.redact(f"{status}: {error_list(failed[0].get('errors'))}")
            if offer is not None and status == 404:      # the offer is gone (withdrawn, re-created): look again
                self.offers.pop(sku, None)
                out.append(PushResult(sku, False, f"{text} (offer {offer} is gone; looked up again on the next "
                                                  "try)", retryable=True))
                continue
            out.append(PushResult(sku, False, text, retryable=status >= 500 or status == 429))
        return out

    # --- listings -------------------------------------------------------------------------------------

    def list_listings(self, cursor: str | None, full: bool) -> ListingPage:
        """One page of inventory items with their published offers; every sync reads the whole catalogue
        (the last page's cursor is "", so the next sync starts from the first page)."""
        query = cursor or f"limit={self.options.items_page_limit}&offset=0"
        r = self.call("GET", f"{INVENTORY}/inventory_item?{query}", idempotent=True)
        if r.status_code != 200:
            raise self._refuse(r, "inventory item list", SCOPES[0])
        body = r.json()
        items = [i for i in body.get("inventoryItems") or [] if i.get("sku")]
        listings = []
        for item in items:
            sku = str(item["sku"])
            quantity = ((item.get("availability") or {}).get("shipToLocationAvailability") or {}).get("quantity")
            if self.offers.get(sku) is None:      # new, or not published when last looked at
                self.offers[sku] = self._offer(sku)
            listings.append(RemoteListing(sku, sku, None,
                                          int(quantity) if isinstance(quantity, int) else None,
                                          (item.get("product") or {}).get("title")))
        after = urlsplit(str(body["next"])).query if body.get("next") else ""
        more = bool(after) and bool(items)
        return ListingPage(listings, after if more else "", more)

    def _offer(self, sku: str) -> str | None:
        """The SKU's published offer on the channel's marketplace, or None."""
        r = self.call("GET", f"{INVENTORY}/offer?sku={quote(sku, safe='')}&marketplace_id="
                             f"{quote(self.options.marketplace_id, safe='')}", idempotent=True)
        if r.status_code == 404:                   # eBay: no offer for this SKU
            return None
        if r.status_code != 200:
            raise self._refuse(r, f"offer look-up of SKU {sku}", SCOPES[0])
        offers = [o for o in r.json().get("offers") or [] if o.get("status") == "PUBLISHED"
                  and o.get("marketplaceId", self.options.marketplace_id) == self.options.marketplace_id]
        return str(offers[0]["offerId"]) if offers else None

    # --- orders ---------------------------------------------------------------------------------------

    def fetch_orders(self, cursor: str | None) -> OrderPage:
        """One page of orders modified since the last poll (less the overlap); the cursor is JSON: `since`
        (epoch ms, the server time of the last complete poll), and while a poll pages, `start` (its
        filter's time), `offset` and `until` (the server time of its first page)."""
        now_ms = int(self._now() * 1000)
        state = json.loads(cursor) if cursor else {"since": now_ms - int(self.options.first_pull_hours * 3600_000)}
        start = state.get("start", state["since"] - int(self.options.order_overlap_seconds * 1000))
        offset, limit = int(state.get("offset") or 0), self.options.orders_page_limit
        r = self.call("GET", f"{FULFILLMENT}/order?filter=lastmodifieddate:%5B{iso_ms(start)}..%5D"
                             f"&limit={limit}&offset={offset}", idempotent=True)
        if r.status_code != 200:
            raise self._refuse(r, "order list", SCOPES[1])
        body = r.json()
        raw = [o for o in body.get("orders") or [] if isinstance(o, dict)]
        until = state.get("until") or server_ms(r) or now_ms
        unique = list({str(o.get("orderId")): o for o in raw}.values())     # an order moving pages
        orders = [read_order(o) for o in unique]
        cancellations = [c for c in (self._cancellation(o) for o in unique if is_cancelled(o)) if c is not None]
        more = bool(body.get("next")) and bool(raw)
        if more:
            new = {"since": state["since"], "start": start, "offset": offset + len(raw), "until": until}
        else:
            new = {"since": max(state["since"], until)}
        return OrderPage(orders, cancellations, json.dumps(new, sort_keys=True), more=more)

    def _cancellation(self, order: dict):
        """The per-order look-up: getOrders leaves `cancelRequests` empty, getOrder fills it. An order the
        overlap shows again unchanged (same lastModifiedDate) is not looked up again."""
        order_id = str(order.get("orderId"))
        key = (order_id, str(order.get("lastModifiedDate")))
        if key in self._looked_up:
            return self._looked_up[key]
        r = self.call("GET", f"{FULFILLMENT}/order/{quote(order_id, safe='')}", idempotent=True)
        if r.status_code != 200:
            raise self._refuse(r, f"order look-up of {order_id}", SCOPES[1])
        found = read_cancellation(r.json())
        if len(self._looked_up) >= LOOKUPS_KEPT:
            self._looked_up.pop(next(iter(self._looked_up)))
        self._looked_up[key] = found
        return found

    def orders_committed(self, page: OrderPage) -> None:
        """Nothing to acknowledge: orders are read by modification time."""

    def cancel_order(self, order_id: str, lines: Sequence[tuple[str, int]], reason: str) -> None:
        """Cancel the whole order on eBay with a seller `reason`; `lines` must be every line of it."""
        if reason not in SELLER_CANCEL_REASONS:
            raise PermanentChannelError(f"ebay does not accept cancellation reason {reason!r} from a seller "
                                        f"(one of {', '.join(SELLER_CANCEL_REASONS)})")
        r = self.call("GET", f"{FULFILLMENT}/order/{quote(order_id, safe='')}", idempotent=True)
        if r.status_code != 200:
            raise self._refuse(r, f"order look-up of {order_id}", SCOPES[1])
        body = cancel_body(r.json(), order_id, [line for line, _ in lines], reason)
        r = self.call("POST", f"{POST_ORDER}/cancellation", idempotent=False, scheme="IAF", json=body,
                      headers={"Content-Type": "application/json",
                               "X-EBAY-C-MARKETPLACE-ID": self.options.marketplace_id})
        if r.status_code not in (200, 201):
            raise self._refuse(r, f"cancel of order {order_id}", SCOPES[1])
        eligibility = r.json().get("orderEligibilityResult") or {}
        if eligibility.get("eligible") is False or not r.json().get("cancelId"):
            why = ", ".join(map(str, eligibility.get("failureReason") or [])) or "no reason given"
            raise PermanentChannelError(f"channel {self.name}: ebay says order {order_id} cannot be cancelled "
                                        f"({why}): cancel it in Seller Hub")

    def check(self) -> list[CheckResult]:
        """Try the refresh token, each scope and each API the channel uses, read-only; say what is missing."""
        from channels.ebay_check import check_adapter

        return check_adapter(self)
