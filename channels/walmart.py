"""The `walmart` adapter: Walmart Marketplace (US) through its REST API (docs/channels/walmart.md).

- Auth: `POST /v3/token` (client credentials, Basic auth) gives a 900-second token, sent as
  `WM_SEC.ACCESS_TOKEN` with `WM_SVC.NAME` and a fresh `WM_QOS.CORRELATION_ID` on every call; refreshed
  `token_margin_seconds` before expiry and at once on a 401 (`channels.tokens`).
- Quantities: `PUT /v3/inventory?sku=` per listing, not the bulk feed: an absolute quantity set per SKU is
  idempotent (safe to repeat after a 5xx or a dropped connection) and answers per SKU at once, so a
  partial failure retries only the SKUs that failed; the feed answers later through a feed id whose
  production limits are unconfirmed. One wait budget covers a whole push: throttled beyond it, the SKUs not
  yet sent are left to the outbox (retryable), never dropped.
- Listings: `GET /v3/items`, paged by `nextCursor` (sent back exactly as received, every character
  percent-encoded); the listing id is the Walmart SKU, the ship node is the channel's `ship_node` option.
- Several ship nodes (the channel's `locations`, keyed by ship node id): every item is listed once per
  configured ship node (`RemoteListing.location`), and `push_location_quantities(node, updates)` sets
  each SKU's quantity at that node (`shipNode` query parameter), per SKU as above.
- Orders: `GET /v3/orders?lastModifiedStartDate=` from the last poll's server time less an overlap
  (`order_overlap_seconds`, covering Walmart's visibility lag); the `nextCursor` query string is appended
  verbatim. The gateway's order services are idempotent, so an order seen twice takes stock once.
- Cancel on the marketplace: `POST /v3/orders/{purchaseOrderId}/cancel` with a reason Walmart accepts.
"""

from __future__ import annotations

import base64
import email.utils
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from channels.base import CheckResult, ListingPage, OrderPage, PushResult, RemoteListing
from channels.errors import PermanentChannelError, RetryableChannelError
from channels.http import ChannelHttp, ThrottledError
from channels.tokens import AccessToken, TokenRefresher, TokenStore
from channels.walmart_orders import CANCEL_REASONS, TAKE_STOCK_AT, cancel_body, iso_ms, read_order, to_epoch_ms

PRODUCTION_URL = "https://marketplace.walmartapis.com"
SANDBOX_URL = "https://sandbox.walmartapis.com"


@dataclass(frozen=True)
class WalmartOptions:
    """The channel's `options` the adapter reads (defaults in docs/channels/walmart.md)."""

    ship_node: str | None = None               # None: the seller's default ship node
    svc_name: str = "Walmart Marketplace"
    channel_type: str | None = None            # WM_CONSUMER.CHANNEL.TYPE, when onboarding gave one
    token_margin_seconds: float = 120.0
    order_overlap_seconds: float = 600.0
    first_pull_hours: float = 24.0
    orders_page_limit: int = 100               # the Orders API takes at most 200
    items_page_limit: int = 50
    take_stock_at: str = "Created"             # or "Acknowledged": which line status takes stock


class WalmartAdapter:
    """A Walmart channel over `http` (one `ChannelHttp` per channel), its token shared through `store`."""

    cancel_reasons = CANCEL_REASONS

    def __init__(self, name: str, http: ChannelHttp, client_id: str, client_secret: str, *,
                 store: TokenStore | None = None, options: WalmartOptions = WalmartOptions(),
                 now=time.time, ship_nodes: Sequence[str] = ()):
        if options.take_stock_at not in TAKE_STOCK_AT:
            raise ValueError(f"take_stock_at must be one of {', '.join(TAKE_STOCK_AT)}")
        self.name, self.http, self.options, self._now = name, http, options, now
        self.ship_nodes = tuple(ship_nodes)       # the channel's `locations`: () for its one ship node
        self._basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        http.redact.add(client_id, client_secret, self._basic)
        self.tokens = TokenRefresher(self._fetch_token, store, margin_seconds=options.token_margin_seconds,
                                     now=now, on_new=http.redact.add)

    # --- auth -----------------------------------------------------------------------------------------

    def _headers(self, token: str | None = None) -> dict[str, str]:
        headers = {"WM_SVC.NAME": self.options.svc_name, "WM_QOS.CORRELATION_ID": str(uuid.uuid4()),
                   "Accept": "application/json"}
        if token is not None:
            headers["WM_SEC.ACCESS_TOKEN"] = token
        if self.options.channel_type:
            headers["WM_CONSUMER.CHANNEL.TYPE"] = self.options.channel_type
        return headers

    def _fetch_token(self) -> AccessToken:
        headers = {**self._headers(), "Authorization": f"Basic {self._basic}"}
        r = self.http.request("POST", "/v3/token", idempotent=True, headers=headers,
                              data={"grant_type": "client_credentials"})
        if r.status_code != 200:
            what = "refused the client id and secret" if r.status_code in (401, 403) else \
                "refused the request" if r.status_code < 500 else "failed"
            raise PermanentChannelError(self.http.redact(
                f"channel {self.name}: walmart token request {what} ({r.status_code}: {_errors(r)})"))
        body = r.json()
        try:
            return AccessToken(str(body["access_token"]), self._now() + float(body.get("expires_in", 900)))
        except (KeyError, TypeError, ValueError):
            raise PermanentChannelError(f"channel {self.name}: walmart token answer without access_token") from None

    def call(self, method: str, url: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        """One API call with the token and the required headers; a 401 refreshes the token and tries once more."""
        for attempt in (1, 2):
            token = self.tokens.token()
            r = self.http.request(method, url, idempotent=idempotent, headers=self._headers(token), **kwargs)
            if r.status_code != 401:
                return r
            self.tokens.refused(token)
        raise PermanentChannelError(self.http.redact(
            f"channel {self.name}: walmart refused a fresh token for {method} {url.split('?')[0]} "
            f"(401: {_errors(r)}): check the client id and secret and the environment (production or sandbox)"))

    def _refuse(self, r: httpx.Response, what: str) -> PermanentChannelError:
        hint = " (the token lacks a permission for this API)" if r.status_code == 403 else ""
        return PermanentChannelError(self.http.redact(f"channel {self.name}: walmart {what} answered "
                                                      f"{r.status_code}{hint}: {_errors(r)}"))

    # --- quantities -----------------------------------------------------------------------------------

    def push_quantities(self, updates: Sequence[tuple[str, int]]) -> list[PushResult]:
        """Set each SKU's quantity at the channel's ship node; one result per SKU, in the order given."""
        return self._push(updates, self.options.ship_node)

    def push_location_quantities(self, location: str, updates: Sequence[tuple[str, int]]) -> list[PushResult]:
        """Set each SKU's quantity at ship node `location`; one result per SKU, in the order given."""
        return self._push(updates, location)

    def _push(self, updates: Sequence[tuple[str, int]], ship_node: str | None) -> list[PushResult]:
        budget, results, throttled = self.http.budget(), [], None
        node = f"&shipNode={quote(ship_node, safe='')}" if ship_node else ""
        for sku, quantity in updates:
            if throttled is not None:
                results.append(PushResult(sku, False, f"not sent: {throttled}", retryable=True))
                continue
            body = {"sku": sku, "quantity": {"unit": "EACH", "amount": int(quantity)}}
            try:
                r = self.call("PUT", f"/v3/inventory?sku={quote(sku, safe='')}{node}", idempotent=True,
                              budget=budget, json=body)
            except ThrottledError as exc:
                throttled = str(exc)
                results.append(PushResult(sku, False, throttled, retryable=True))
                continue
            except RetryableChannelError as exc:
                results.append(PushResult(sku, False, str(exc), retryable=True))
                continue
            if r.status_code == 200:
                results.append(PushResult(sku, True))
            elif r.status_code == 403:
                raise self._refuse(r, "inventory update")
            else:
                results.append(PushResult(sku, False, self.http.redact(f"{r.status_code}: {_errors(r)}"),
                                          retryable=r.status_code >= 500))
        return results

    # --- listings -------------------------------------------------------------------------------------

    def list_listings(self, cursor: str | None, full: bool) -> ListingPage:
        """One page of the catalogue; every sync reads all of it (Walmart's cursor is for one pass only):
        the last page's cursor is "" so the next sync starts again from the first page."""
        start = cursor or "*"
        r = self.call("GET", f"/v3/items?nextCursor={quote(start, safe='*')}&limit={self.options.items_page_limit}",
                      idempotent=True)
        if r.status_code != 200:
            raise self._refuse(r, "item list")
        body = r.json()
        items = body.get("ItemResponse") or []
        listings = [RemoteListing(str(i["sku"]), str(i["sku"]), None, None, i.get("productName"), node)
                    for i in items if i.get("sku") for node in (self.ship_nodes or (None,))]
        after = body.get("nextCursor")
        more = bool(after) and bool(items)
        return ListingPage(listings, after if more else "", more)

    # --- orders ---------------------------------------------------------------------------------------

    def fetch_orders(self, cursor: str | None) -> OrderPage:
        """One page of orders changed since the last poll (less the overlap); the cursor is JSON:
        `since` (epoch ms, the server time of the last complete poll), `next` (Walmart's nextCursor while
        a poll is paging), `until` (the server time of the current poll's first page)."""
        now_ms = int(self._now() * 1000)
        state = json.loads(cursor) if cursor else {"since": now_ms - int(self.options.first_pull_hours * 3600_000)}
        if state.get("next"):
            url = "/v3/orders" + (state["next"] if state["next"].startswith("?") else "?" + state["next"])
        else:
            start = state["since"] - int(self.options.order_overlap_seconds * 1000)
            url = f"/v3/orders?lastModifiedStartDate={iso_ms(start)}&limit={self.options.orders_page_limit}"
        r = self.call("GET", url, idempotent=True)
        if r.status_code == 404:        # Walmart answers 404 when no order matches
            body = {}
        elif r.status_code != 200:
            raise self._refuse(r, "order list")
        else:
            body = r.json()
        listed = (body.get("list") or {})
        raw = ((listed.get("elements") or {}).get("order")) or []
        until = state.get("until") or _server_ms(r) or now_ms
        unique = list({str(o.get("purchaseOrderId")): o for o in raw}.values())   # an order moving pages
        orders, cancellations = [], []
        for o in unique:
            order, cancelled = read_order(o, self.options.take_stock_at)
            orders.append(order)
            cancellations += cancelled
        after = (listed.get("meta") or {}).get("nextCursor")
        if after and raw:
            new = {"since": state["since"], "next": after, "until": until}
        else:
            new = {"since": max(state["since"], until), "next": None}
        return OrderPage(orders, cancellations, json.dumps(new, sort_keys=True), more=bool(after and raw))

    def orders_committed(self, page: OrderPage) -> None:
        """Nothing to acknowledge: orders are read by modification time."""

    def cancel_order(self, order_id: str, lines: Sequence[tuple[str, int]], reason: str) -> None:
        """Cancel whole lines (line number, quantity) of a purchase order on Walmart with `reason`."""
        r = self.call("POST", f"/v3/orders/{quote(order_id, safe='')}/cancel", idempotent=False,
                      json=cancel_body(lines, reason))
        if r.status_code != 200:
            raise self._refuse(r, f"cancel of order {order_id}")


    def check(self) -> list[CheckResult]:
        """Try the credentials and each API the channel uses, read-only; say what is missing."""
        try:
            self.tokens.refused(self.tokens.token())          # a fresh token proves the client id and secret
            self.tokens.token()
        except (PermanentChannelError, RetryableChannelError) as exc:
            return [CheckResult("token", False, str(exc))]
        results = [CheckResult("token", True, "the client id and secret give a 900-second token")]
        since = iso_ms(int(self._now() * 1000) - 86_400_000)
        steps = [("items", "Items", "/v3/items?nextCursor=*&limit=1"),
                 ("orders", "Orders", f"/v3/orders?lastModifiedStartDate={since}&limit=1"),
                 ("inventory", "Inventory", "/v3/inventory?sku=STOCKGATE-CHECK")]
        for step, api, url in steps:
            try:
                r = self.call("GET", url, idempotent=True)
            except (PermanentChannelError, RetryableChannelError) as exc:
                results.append(CheckResult(step, False, str(exc)))
                continue
            if r.status_code in (200, 404):               # 404: nothing matched, but the call was allowed
                results.append(CheckResult(step, True, f"the token may read the {api} API"))
            elif r.status_code == 403:
                results.append(CheckResult(step, False, f"the API key lacks the {api} permission (403): add it "
                                                        "under API Key Management in Seller Center"))
            else:
                results.append(CheckResult(step, False, self.http.redact(f"{api} API answered {r.status_code}: "
                                                                         f"{_errors(r)}")))
        return results


def _errors(r: httpx.Response) -> str:
    """Walmart's error envelope (`errors[{code, message, field}]`) in one line, or the body's start."""
    try:
        body = r.json()
    except ValueError:
        return r.text[:200] or r.reason_phrase
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, dict):
        errors = errors.get("error")
    if isinstance(errors, list) and errors:
        return "; ".join(f"{e.get('code', '?')}: {e.get('description') or e.get('message') or ''}".strip()
                         + (f" (field {e['field']})" if e.get("field") else "") for e in errors if isinstance(e, dict))
    return str(body)[:200]


def _server_ms(r: httpx.Response) -> int | None:
    """The server's clock from the `Date` header, as epoch milliseconds."""
    try:
        return to_epoch_ms(email.utils.parsedate_to_datetime(r.headers["date"]))
    except (KeyError, TypeError, ValueError):
        return None
