"""The `amazon` adapter: Amazon Selling Partner API (docs/channels/amazon.md).

- Auth: Login with Amazon, `grant_type=refresh_token` at `token_url`, gives a 1-hour access token sent as
  `x-amz-access-token` (no SigV4 since 2023-10-02); refreshed `token_margin_seconds` before expiry and at
  once when SP-API refuses it (403 `Unauthorized` "...expired" / "...invalid", or 401) (`channels.tokens`).
- Quantities: Listings Items `patchListingsItem` per SKU (`fulfillment_availability` of the channel's
  `fulfillment_channel_code`, op `merge` by default): an absolute quantity, so safe to repeat after a 5xx or
  a dropped connection, answered per SKU at once (HTTP 200 with status ACCEPTED or INVALID + issues), so a
  partial failure retries only what failed. Pushes of at least `feed_min_listings` go as one
  JSON_LISTINGS_FEED instead (`channels.amazon_feed`; off unless set: see the docs for why).
- Identity: the listing id is `<productType>/<sku>` (the product type every patch must name), the seller id
  and marketplace id are options.
- Listings: `searchListingsItems` (pageSize at most 20, pageToken), quantity from `fulfillmentAvailability`.
- Orders: Orders v2026-01-01 `searchOrders` by `lastUpdatedAfter` (the last poll's `lastUpdatedBefore` less
  `order_overlap_seconds`) and `lastUpdatedBefore` (at least `orders_lag_seconds`, >= 120, in the past), paged
  by `paginationToken` with every other parameter repeated unchanged.
- Throttling: client-side token buckets per operation (`channels.usage_plan`) following
  `x-amzn-RateLimit-Limit`; a 429 `QuotaExceeded` (no Retry-After) is backed off by `ChannelHttp`.
- Cancel on the marketplace: SP-API has no call that cancels a merchant-fulfilled order (`cancel_refusal`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from channels.amazon_feed import FEED_MAX_MESSAGES, push_by_feed
from channels.amazon_orders import iso, read_order
from channels.base import CheckResult, ListingPage, OrderPage, PushResult, RemoteListing
from channels.errors import PermanentChannelError, RetryableChannelError
from channels.model import read_time
from channels.http import ChannelHttp, ThrottledError, WaitBudget
from channels.tokens import AccessToken, TokenRefresher, TokenStore
from channels.usage_plan import RATE_HEADER, UsagePlans

REGIONS = ("na", "eu", "fe")


def region_urls(region: str) -> dict[str, str]:
    """The SP-API hosts of a region: production and the static sandbox."""
    return {"production": f"https://sellingpartnerapi-{region}.amazon.com",
            "sandbox": f"https://sandbox.sellingpartnerapi-{region}.amazon.com"}


TOKEN_URL = "https://api.amazon.com/auth/o2/token"
US_MARKETPLACE = "ATVPDDKIKX0DER"
PATCH_OPS = ("merge", "replace")
CANCEL_REFUSAL = ("SP-API has no call that cancels a merchant-fulfilled order: cancel it in Seller Central "
                  "too (Orders > Manage Orders > Cancel order)")
MIN_LAG_SECONDS = 120.0


@dataclass(frozen=True)
class AmazonOptions:
    """The channel's `options` the adapter reads (defaults in docs/channels/amazon.md)."""

    seller_id: str = ""
    marketplace_id: str = US_MARKETPLACE
    fulfillment_channel_code: str = "DEFAULT"    # DEFAULT: merchant-fulfilled, the seller's default location
    patch_op: str = "merge"
    token_url: str = TOKEN_URL
    token_margin_seconds: float = 300.0
    order_overlap_seconds: float = 600.0
    orders_lag_seconds: float = 180.0
    first_pull_hours: float = 24.0
    orders_page_limit: int = 100                 # searchOrders takes 1..100
    listings_page_limit: int = 20                # searchListingsItems takes at most 20
    feed_min_listings: int | None = None         # pushes of this many listings or more go by JSON_LISTINGS_FEED
    feed_poll_seconds: float = 30.0
    feed_wait_seconds: float = 600.0


class AmazonAdapter:
    """An Amazon channel over `http` (one `ChannelHttp`), its LWA token shared through `store`."""

    cancel_refusal = CANCEL_REFUSAL

    def __init__(self, name: str, http: ChannelHttp, client_id: str, client_secret: str, refresh_token: str, *,
                 store: TokenStore | None = None, options: AmazonOptions = AmazonOptions(), now=time.time,
                 plans: UsagePlans | None = None):
        if not options.seller_id:
            raise ValueError("seller_id is required")
        if options.patch_op not in PATCH_OPS:
            raise ValueError(f"patch_op must be one of {', '.join(PATCH_OPS)}")
        self.name, self.http, self.options, self._now = name, http, options, now
        self._grant = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id,
                       "client_secret": client_secret}
        http.redact.add(client_id, client_secret, refresh_token)
        self.plans = plans or UsagePlans()
        self.tokens = TokenRefresher(self._fetch_token, store, margin_seconds=options.token_margin_seconds,
                                     now=now, on_new=http.redact.add)

    # --- auth -----------------------------------------------------------------------------------------

    def _fetch_token(self) -> AccessToken:
        r = self.http.request("POST", self.options.token_url, idempotent=True, data=self._grant,
                              headers={"Accept": "application/json"})
        if r.status_code != 200:
            error = _lwa_error(r)
            if "invalid_grant" in error:
                what = "refused the refresh token (re-authorize the app in Seller Central to get a new one)"
            elif "invalid_client" in error or r.status_code == 401:
                what = "refused the client id and secret"
            else:
                what = "refused the request" if r.status_code < 500 else "failed"
            raise PermanentChannelError(self.http.redact(
                f"channel {self.name}: amazon LWA token request {what} ({r.status_code}: {error})"))
        body = r.json()
        try:
            return AccessToken(str(body["access_token"]), self._now() + float(body.get("expires_in", 3600)))
        except (KeyError, TypeError, ValueError):
            raise PermanentChannelError(f"channel {self.name}: amazon LWA answer without access_token") from None

    def call(self, operation: str, method: str, url: str, *, idempotent: bool, budget: WaitBudget | None = None,
             **kwargs: Any) -> httpx.Response:
        """One SP-API call: waits for its usage-plan bucket (within `budget`), sends the token; a refused
        token (expired or invalid) is refreshed and the call tried once more."""
        budget = budget or self.http.budget()
        bucket = self.plans.bucket(operation)
        extra = kwargs.pop("headers", {})
        for attempt in (1, 2):
            wait = bucket.wait_needed()
            if wait > 0:
                if not budget.take(wait):
                    raise ThrottledError(f"channel {self.name}: amazon {operation} usage plan ({bucket.rate:g}/s, "
                                         f"burst {bucket.burst}) allows the next call in {wait:.1f} s "
                                         "(left for a later retry)", wait)
                self.http.wait(wait)
            bucket.reserve()
            token = self.tokens.token()
            headers = {"x-amz-access-token": token, "Accept": "application/json", **extra}
            r = self.http.request(method, url, idempotent=idempotent, budget=budget, headers=headers, **kwargs)
            bucket.follow(r.headers.get(RATE_HEADER))
            if not _token_refused(r):
                return r
            self.tokens.refused(token)
        raise PermanentChannelError(self.http.redact(
            f"channel {self.name}: amazon refused a fresh access token for {operation} ({r.status_code}: "
            f"{_errors(r)}): check the app's client id, secret and refresh token, and the region's base_url"))

    def refusal(self, r: httpx.Response, what: str) -> PermanentChannelError:
        hint = " (the app lacks the role for this API, or the seller id is not the authorizing seller)" \
            if r.status_code == 403 else ""
        return PermanentChannelError(self.http.redact(f"channel {self.name}: amazon {what} answered "
                                                      f"{r.status_code}{hint}: {_errors(r)}"))

    # --- quantities -----------------------------------------------------------------------------------

    def _patch_body(self, product_type: str, quantity: int) -> dict:
        code = self.options.fulfillment_channel_code
        return {"productType": product_type, "patches": [{
            "op": self.options.patch_op, "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": code, "quantity": int(quantity)}]}]}

    def push_quantities(self, updates: Sequence[tuple[str, int]]) -> list[PushResult]:
        """Patch each listing's quantity (or send them all as one feed when there are at least
        `feed_min_listings`); one result per listing, in the order given."""
        if self.options.feed_min_listings and len(updates) >= self.options.feed_min_listings:
            return push_by_feed(self, updates[:FEED_MAX_MESSAGES]) + push_by_feed(self, updates[FEED_MAX_MESSAGES:]) \
                if len(updates) > FEED_MAX_MESSAGES else push_by_feed(self, updates)
        budget, results, throttled = self.http.budget(), [], None
        query = urlencode({"marketplaceIds": self.options.marketplace_id, "includedData": "issues"})
        seller = quote(self.options.seller_id, safe="")
        for listing_id, quantity in updates:
            if throttled is not None:
                results.append(PushResult(listing_id, False, f"not sent: {throttled}", retryable=True))
                continue
            product_type, sep, sku = listing_id.partition("/")
            if not sep or not product_type or not sku:
                results.append(PushResult(listing_id, False, f"listing id {listing_id!r} is not <productType>/<sku>: "
                                          "sync the channel's listings again"))
                continue
            try:
                r = self.call("patchListingsItem", "PATCH",
                              f"/listings/2021-08-01/items/{seller}/{quote(sku, safe='')}?{query}",
                              idempotent=True, budget=budget, json=self._patch_body(product_type, quantity))
            except ThrottledError as exc:
                throttled = str(exc)
                results.append(PushResult(listing_id, False, throttled, retryable=True))
                continue
            except RetryableChannelError as exc:
                results.append(PushResult(listing_id, False, str(exc), retryable=True))
                continue
            results.append(self._push_result(listing_id, r))
        return results

    def _push_result(self, listing_id: str, r: httpx.Response) -> PushResult:
        if r.status_code == 403:
            raise self.refusal(r, "listings update")
        if r.status_code != 200:
            return PushResult(listing_id, False, self.http.redact(f"{r.status_code}: {_errors(r)}"),
                              retryable=r.status_code >= 500)
        body = r.json()
        errors = [i for i in body.get("issues") or [] if i.get("severity") == "ERROR"]
        if body.get("status") == "ACCEPTED" and not errors:
            return PushResult(listing_id, True)
        text = "; ".join(f"{i.get('code')}: {i.get('message')}"
                         + (f" (attribute {', '.join(i['attributeNames'])})" if i.get("attributeNames") else "")
                         for i in errors) or "no issue given"
        return PushResult(listing_id, False, self.http.redact(f"amazon answered {body.get('status')}: {text}"))

    # --- listings -------------------------------------------------------------------------------------

    def list_listings(self, cursor: str | None, full: bool) -> ListingPage:
        """One page of the seller's listings; every sync reads all of them (the last page's cursor is "")."""
        params = {"marketplaceIds": self.options.marketplace_id, "includedData": "summaries,fulfillmentAvailability",
                  "pageSize": self.options.listings_page_limit}
        if cursor:
            params["pageToken"] = cursor
        r = self.call("searchListingsItems", "GET",
                      f"/listings/2021-08-01/items/{quote(self.options.seller_id, safe='')}?{urlencode(params)}",
                      idempotent=True)
        if r.status_code != 200:
            raise self.refusal(r, "listings search")
        body = r.json()
        listings = [listing for item in body.get("items") or [] if (listing := self._listing(item)) is not None]
        after = (body.get("pagination") or {}).get("nextToken")
        more = bool(after) and bool(body.get("items"))
        return ListingPage(listings, after if more else "", more)

    def _listing(self, item: dict) -> RemoteListing | None:
        sku = str(item.get("sku") or "")
        summary = next((s for s in item.get("summaries") or [] if s.get("marketplaceId") == self.options.marketplace_id),
                       None)
        if not sku or summary is None or not summary.get("productType"):
            return None
        quantity = next((a.get("quantity") for a in item.get("fulfillmentAvailability") or []
                         if a.get("fulfillmentChannelCode") == self.options.fulfillment_channel_code), None)
        return RemoteListing(f"{summary['productType']}/{sku}", sku, None,
                             int(quantity) if isinstance(quantity, int) else None, summary.get("itemName"))

    # --- orders ---------------------------------------------------------------------------------------

    def fetch_orders(self, cursor: str | None) -> OrderPage:
        """One page of orders updated since the last poll (less the overlap). The cursor is JSON: `since`
        (POSIX seconds: the `lastUpdatedBefore` of the last complete poll), and while a poll is paging `next`
        (the pagination token) with the `after`/`before` it must repeat."""
        now = self._now()
        state = json.loads(cursor) if cursor else {"since": now - self.options.first_pull_hours * 3600}
        if state.get("next"):
            after, before = state["after"], state["before"]
        else:
            before = iso(now - max(self.options.orders_lag_seconds, MIN_LAG_SECONDS))
            after = iso(min(state["since"] - self.options.order_overlap_seconds,
                            now - max(self.options.orders_lag_seconds, MIN_LAG_SECONDS) - 1))
        params = {"lastUpdatedAfter": after, "lastUpdatedBefore": before,
                  "marketplaceIds": self.options.marketplace_id, "fulfilledBy": "MERCHANT",
                  "includedData": "CANCELLATION", "maxResultsPerPage": self.options.orders_page_limit}
        if state.get("next"):
            params["paginationToken"] = state["next"]
        r = self.call("searchOrders", "GET", f"/orders/2026-01-01/orders?{urlencode(params)}", idempotent=True)
        if r.status_code != 200:
            raise self.refusal(r, "order search")
        body = r.json()
        raw = body.get("orders") or []
        unique = list({str(o.get("orderId")): o for o in raw}.values())     # an order moving pages
        orders, cancellations = [], []
        for o in unique:
            order, cancelled = read_order(o)
            orders.append(order)
            cancellations += cancelled
        token = (body.get("pagination") or {}).get("nextToken")
        if token and raw:
            new = {"since": state["since"], "next": token, "after": after, "before": before}
        else:
            until = _posix(body.get("lastUpdatedBefore") or before)
            new = {"since": max(state["since"], until)}
        return OrderPage(orders, cancellations, json.dumps(new, sort_keys=True), more=bool(token and raw))

    def orders_committed(self, page: OrderPage) -> None:
        """Nothing to acknowledge: orders are read by update time."""

    # --- check ----------------------------------------------------------------------------------------

    def check(self) -> list[CheckResult]:
        """Try the LWA credentials and each API the channel uses, read-only; say what is missing."""
        try:
            self.tokens.refused(self.tokens.token())          # a fresh token proves the client and refresh token
            self.tokens.token()
        except (PermanentChannelError, RetryableChannelError) as exc:
            return [CheckResult("token", False, str(exc))]
        results = [CheckResult("token", True, "the client id, secret and refresh token give a 1-hour access token")]
        now = self._now()
        seller = quote(self.options.seller_id, safe="")
        market = self.options.marketplace_id
        steps = [("listings", "Product Listing", "searchListingsItems",
                  f"/listings/2021-08-01/items/{seller}?marketplaceIds={market}&pageSize=1"),
                 ("orders", "Inventory and Order Tracking", "searchOrders",
                  f"/orders/2026-01-01/orders?lastUpdatedAfter={iso(now - 86_400)}"
                  f"&lastUpdatedBefore={iso(now - 300)}&marketplaceIds={market}&maxResultsPerPage=1")]
        for step, role, operation, url in steps:
            try:
                r = self.call(operation, "GET", url, idempotent=True)
            except (PermanentChannelError, RetryableChannelError) as exc:
                results.append(CheckResult(step, False, str(exc)))
                continue
            if r.status_code == 200:
                results.append(CheckResult(step, True, f"the app may call {operation} (role {role})"))
            elif r.status_code == 403:
                results.append(CheckResult(step, False, self.http.redact(
                    f"the app lacks the {role} role for {operation} (403: {_errors(r)}): add the role to the app "
                    "in Seller Central > Develop Apps and authorize it again")))
            elif r.status_code == 400:
                results.append(CheckResult(step, False, self.http.redact(
                    f"{operation} refused the request (400: {_errors(r)}): check seller_id and marketplace_id")))
            else:
                results.append(CheckResult(step, False, self.http.redact(
                    f"{operation} answered {r.status_code}: {_errors(r)}")))
        return results


def _token_refused(r: httpx.Response) -> bool:
    """SP-API refuses an expired or invalid token with 403 `Unauthorized` naming the token (401 elsewhere)."""
    if r.status_code == 401:
        return True
    if r.status_code != 403:
        return False
    return "access token" in _errors(r).lower()


def _errors(r: httpx.Response) -> str:
    """SP-API's error list (`errors[{code, message, details}]`) in one line, or the body's start."""
    try:
        body = r.json()
    except ValueError:
        return r.text[:200] or r.reason_phrase
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        return "; ".join(f"{e.get('code', '?')}: {e.get('message') or ''}".strip()
                         + (f" ({e['details']})" if e.get("details") else "") for e in errors if isinstance(e, dict))
    return str(body)[:200]


def _lwa_error(r: httpx.Response) -> str:
    """LWA's error answer (`error`, `error_description`) in one line."""
    try:
        body = r.json()
    except ValueError:
        return r.text[:200] or r.reason_phrase
    if isinstance(body, dict) and body.get("error"):
        return f"{body['error']}: {body.get('error_description') or ''}".strip()
    return str(body)[:200]


def _posix(text: str) -> float:
    try:
        return read_time(text, "lastUpdatedBefore").timestamp()
    except ValueError as exc:
        raise PermanentChannelError(f"amazon sent {exc}") from None
