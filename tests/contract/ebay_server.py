"""An eBay contract server for tests: a real HTTP server on 127.0.0.1, port 0, speaking the calls the `ebay`
adapter makes (the OAuth refresh-token grant, Inventory `bulk_update_price_quantity`, `inventory_item`,
`offer`, `location`, Fulfillment `order` and `order/{orderId}`, Post-Order `cancellation`) with eBay's
answers and failures (CHANNEL_APIS.md sections 3 and 10).

Every request to an operation described in `../shared/specs/ebay/` (the Inventory and Fulfillment OpenAPI
files, YAML) is validated against it (openapi-core); a violation answers 400 `SPEC_VIOLATION` and is kept
in `market.violations`. The descriptions declare an OAuth2 scheme, read here as a Bearer header (the scope
each operation needs is checked by hand, answering 403 as eBay does). The token endpoint has no
description there and is checked by hand, as is the Post-Order cancellation (eBay publishes no OpenAPI
file for it: `Authorization: IAF <token>`, `X-EBAY-C-MARKETPLACE-ID`, a seller reason, whole orders). Without the folder nothing is validated (`validating` False).
"""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import unquote

from base_server import ContractServer, JsonHandler, canned_failure, query_params
from ebay_market import ROOT, EbayMarket, error_body
from spec_validation import SpecValidator

INVENTORY, FULFILLMENT, POST_ORDER = "/sell/inventory/v1", "/sell/fulfillment/v1", "/post-order/v2"
MAX_REQUESTS = 25
SELLER_REASONS = ("OUT_OF_STOCK_OR_CANNOT_FULFILL", "BUYER_ASKED_CANCEL", "ADDRESS_ISSUES")


def _patch(spec: dict) -> dict:
    base = INVENTORY if "Inventory" in spec["info"]["title"] else FULFILLMENT
    spec["servers"] = [{"url": base}]
    spec["components"]["securitySchemes"] = {"api_auth": {"type": "http", "scheme": "bearer"}}
    return spec


def needed_scopes(method: str, path: str) -> tuple[str, ...]:
    """The scopes one of which the operation's `security` asks for."""
    api = "sell.inventory" if path.startswith(INVENTORY) else "sell.fulfillment"
    return (ROOT + api,) if method == "POST" else (ROOT + api, ROOT + api + ".readonly")


FAILURES = {429: error_body(2001, "Too many requests. The request limit has been reached for the resource."),
            403: error_body(1100, "Access denied"), 500: error_body(25001, "System error")}


class _Handler(JsonHandler):
    server: "EbayServer"

    do_POST = JsonHandler.do_GET

    def handle_request(self) -> None:
        market = self.server.market
        path, query, body, headers = self.read_request()
        if path == "/identity/v1/oauth2/token":
            return self._token(body)
        auth = self.headers.get("Authorization") or ""
        scheme = "IAF " if path.startswith(POST_ORDER) else "Bearer "
        scopes = market.token_scopes(auth[len(scheme):] if auth.startswith(scheme) else None)
        if scopes is None:
            return self._send(401, error_body(1001, "Invalid access token", "OAuth"))
        if not path.startswith(POST_ORDER) and not scopes & set(needed_scopes(self.command, path)):
            return self._send(403, error_body(1100, "Insufficient permissions to fulfill the request.", "API_ACCESS"))
        failure = market.take_failure(self.command, path)
        canned = canned_failure(failure, FAILURES)
        if canned:
            return self._send(*canned)
        problem = self.spec_problem(path, query, headers, body)
        if problem:
            return self._send(400, error_body(0, "SPEC_VIOLATION: " + problem, errorCode="SPEC_VIOLATION"))
        route = self._route(path)
        if route is None:
            return self._send(404, error_body(2002, f"no route {self.command} {path}", "API_ROUTING"))
        status, answer = route(path, query_params(query), body)
        return self.answer_applied(failure, status, answer, error_body(25001, "Service Unavailable"))

    def _route(self, path: str):
        routes = {("POST", f"{INVENTORY}/bulk_update_price_quantity"): self._bulk,
                  ("GET", f"{INVENTORY}/inventory_item"): self._items, ("GET", f"{INVENTORY}/offer"): self._offers,
                  ("GET", f"{INVENTORY}/location"): self._locations, ("GET", f"{FULFILLMENT}/order"): self._orders,
                  ("POST", f"{POST_ORDER}/cancellation"): self._cancel}
        if (self.command, path) in routes:
            return routes[(self.command, path)]
        if self.command == "GET" and path.startswith(f"{INVENTORY}/location/"):
            return self._location
        if self.command == "GET" and path.startswith(f"{FULFILLMENT}/order/"):
            return self._order
        return None

    # --- the calls ------------------------------------------------------------------------------------

    def _token(self, body: bytes):
        market = self.server.market
        failure = market.take_failure(self.command, "/identity/v1/oauth2/token")
        canned = canned_failure(failure, {429: {"error": "rate_limited",
                                                "error_description": "too many token requests"}})
        if canned:
            return self._send(*canned)
        form = self.form(body) or {}
        if form.get("grant_type") != "refresh_token" or not form.get("refresh_token"):
            return self._send(400, {"error": "invalid_request", "error_description": "request is missing a "
                                    "required parameter or malformed"})
        if not market.basic_ok(self.headers.get("Authorization")):
            return self._send(401, {"error": "invalid_client", "error_description": "client authentication failed"})
        granted = market.refresh_tokens.get(form["refresh_token"])
        if granted is None or (failure is not None and failure.kind == "invalid_grant"):
            return self._send(400, {"error": "invalid_grant", "error_description": "the provided authorization "
                                    "refresh token is invalid or was issued to another client"})
        asked = set(form.get("scope", "").split()) or set(granted)
        if not asked <= granted:
            return self._send(400, {"error": "invalid_scope", "error_description": "The requested scope is invalid, "
                                    "unknown, malformed, or exceeds the scope granted to the client"})
        return self._send(200, {"access_token": market.issue_token(frozenset(asked)), "expires_in": 7200,
                                "token_type": "User Access Token"})

    def _bulk(self, path: str, params: dict, body: bytes):
        requests = json.loads(body).get("requests") or []
        if len(requests) > MAX_REQUESTS:
            return 400, error_body(25709, f"at most {MAX_REQUESTS} requests a call, got {len(requests)}")
        responses = [entry for request in requests for entry in self.server.market.apply(request)]
        return (200 if all(r["statusCode"] == 200 for r in responses) else 207), {"responses": responses}

    def _page(self, params: dict, default: int) -> tuple[int, int] | None:
        limit, offset = int(params.get("limit") or default), int(params.get("offset") or 0)
        return None if not 1 <= limit <= 200 or offset < 0 else (limit, offset)

    def _items(self, path: str, params: dict, body: bytes):
        """Paged as eBay's documentation words it: `offset` is the page number; `next` says how to go on."""
        market = self.server.market
        paging = self._page(params, 25)
        if paging is None:
            return 400, error_body(25709, "limit is 1 to 200 and offset 0 or more")
        limit, page = paging
        with market.lock:
            if page > 0:
                for hook in list(market.on_items_page):
                    hook()
                market.on_items_page.clear()
            shown = market.items[page * limit:(page + 1) * limit]
            answer = {"href": self.path, "limit": limit, "size": len(shown), "total": len(market.items),
                      "inventoryItems": shown}
            if (page + 1) * limit < len(market.items):
                answer["next"] = f"{self.server.url}{INVENTORY}/inventory_item?limit={limit}&offset={page + 1}"
            return 200, answer

    def _offers(self, path: str, params: dict, body: bytes):
        market = self.server.market
        with market.lock:
            offers = [o for o in market.offers.get(params.get("sku", ""), [])
                      if o["marketplaceId"] == params.get("marketplace_id", o["marketplaceId"])]
            if not offers:
                return 404, error_body(25713, "This Offer is not available.")
            return 200, {"href": self.path, "limit": 100, "size": len(offers), "total": len(offers), "offers": offers}

    def _locations(self, path: str, params: dict, body: bytes):
        market = self.server.market
        return 200, {"href": self.path, "limit": 100, "offset": 0, "total": len(market.locations),
                     "locations": market.locations}

    def _location(self, path: str, params: dict, body: bytes):
        key = unquote(path.rsplit("/", 1)[1])
        found = [l for l in self.server.market.locations if l["merchantLocationKey"] == key]
        return (200, found[0]) if found else (404, error_body(25804, f"location {key} not found"))

    def _orders(self, path: str, params: dict, body: bytes):
        market = self.server.market
        paging = self._page(params, 50)
        if paging is None:
            return 400, error_body(30700, "limit is 1 to 200 and offset 0 or more", "API_FULFILLMENT")
        limit, offset = paging
        text = params.get("filter", "")
        if not (text.startswith("lastmodifieddate:[") and text.endswith("..]")):
            return 400, error_body(30850, f"The filter {text!r} is invalid", "API_FULFILLMENT")
        try:
            since = int(datetime.fromisoformat(text[18:-3].replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return 400, error_body(30850, f"The filter date {text[18:-3]!r} is invalid", "API_FULFILLMENT")
        with market.lock:
            shown = market.visible_orders(since)
            page = []
            for order in shown[offset:offset + limit]:
                listed = {k: v for k, v in json.loads(json.dumps(order)).items() if not k.startswith("_")}
                listed["cancelStatus"]["cancelRequests"] = []          # "returned but always empty"
                page.append(listed)
            answer = {"href": self.path, "limit": limit, "offset": offset, "total": len(shown), "orders": page}
            if offset + limit < len(shown):
                answer["next"] = (f"{self.server.url}{FULFILLMENT}/order?filter={params['filter']}"
                                  f"&limit={limit}&offset={offset + limit}")
            return 200, answer

    def _order(self, path: str, params: dict, body: bytes):
        market = self.server.market
        order_id = unquote(path.rsplit("/", 1)[1])
        with market.lock:
            versions = [o for at, o in market.orders.get(order_id, []) if at <= market.now_ms()]
            if not versions:
                return 404, error_body(32100, f"Order {order_id} not found", "API_FULFILLMENT")
            return 200, {k: v for k, v in versions[-1].items() if not k.startswith("_")}


    def _cancel(self, path: str, params: dict, body: bytes):
        """The seller cancels a whole order (Post-Order API); an order past the window or shipped is not eligible."""
        market = self.server.market
        if not self.headers.get("X-EBAY-C-MARKETPLACE-ID"):
            return 400, error_body(1305, "X-EBAY-C-MARKETPLACE-ID header is required", "API_POSTORDER")
        sent = json.loads(body or b"{}")
        market.cancel_calls.append(sent)
        with market.lock:
            order_id = next((o for o, versions in market.orders.items()
                             if versions[-1][1]["legacyOrderId"] == sent.get("legacyOrderId")), None)
            if order_id is None:
                return 404, error_body(1404, f"order {sent.get('legacyOrderId')} not found", "API_POSTORDER")
            if sent.get("cancelReason") not in SELLER_REASONS:
                return 400, error_body(1411, f"cancelReason {sent.get('cancelReason')!r} is not a seller reason",
                                       "API_POSTORDER")
            if order_id in market.not_cancellable or market.latest(order_id)["cancelStatus"]["cancelState"] != \
                    "NONE_REQUESTED":
                return 200, {"orderEligibilityResult": {"eligible": False, "failureReason": ["NOT_ELIGIBLE"]}}
            market.cancel(order_id, sent["cancelReason"], "Seller")
            return 201, {"cancelId": f"5{len(market.cancel_calls):09d}", "orderEligibilityResult": {"eligible": True}}


class EbayServer(ContractServer):
    """The server on 127.0.0.1 port 0; `url` is where it listens, `market` its state."""

    def __init__(self, market: EbayMarket | None = None):
        super().__init__(_Handler, market or EbayMarket(), "ebay",
                         SpecValidator.cached("ebay", ("ebay-inventory-openapi-original.yml",
                                                       "ebay-fulfillment-openapi-original.yml"), _patch))
