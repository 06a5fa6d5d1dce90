"""A Walmart Marketplace contract server for tests: a real HTTP server on 127.0.0.1, port 0, speaking the
calls the `walmart` adapter makes (`/v3/token`, `/v3/inventory`, `/v3/items`, `/v3/orders`, cancel) with
Walmart's headers, answers and failures (CHANNEL_APIS.md sections 4 and 10).

Every request to an operation described in `../shared/specs/walmart/{inventory,orders}.json` is validated
against it (openapi-core); a violation answers 400 `SPEC_VIOLATION` and is kept in `market.violations`.
The descriptions declare a bearer scheme although Walmart reads `WM_SEC.ACCESS_TOKEN` (their own
`components.parameters.accessToken`), so the scheme is read as that header. `/v3/token` and `/v3/items`
have no description there (no auth.json or items.json in specs/) and are checked by hand. Without the
folder nothing is validated (`validating` is False) and the tests that prove validation skip.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from urllib.parse import parse_qs, unquote

from base_server import ContractServer, JsonHandler, canned_failure, query_params
from spec_validation import SpecValidator
from walmart_market import WalmartMarket, error_body

REQUIRED_HEADERS = ("WM_SVC.NAME", "WM_QOS.CORRELATION_ID")


def _patch(spec: dict) -> dict:
    spec["components"]["securitySchemes"] = {"accessTokenScheme": {"type": "apiKey", "in": "header",
                                                                   "name": "WM_SEC.ACCESS_TOKEN"}}
    return spec


FAILURE_CODES = {429: "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API", 401: "UNAUTHORIZED.GMP_GATEWAY_API",
                 403: "FORBIDDEN.GMP_GATEWAY_API", 500: "SYSTEM_ERROR.GMP_GATEWAY_API"}
FAILURES = {status: error_body(code, "contract server failure") for status, code in FAILURE_CODES.items()}


class _Handler(JsonHandler):
    server: "WalmartServer"

    do_PUT = do_POST = JsonHandler.do_GET

    def handle_request(self) -> None:
        market = self.server.market
        path, query, body, headers = self.read_request()
        missing = [h for h in REQUIRED_HEADERS if not self.headers.get(h)]
        if missing:
            return self._send(400, error_body("INVALID_REQUEST_HEADER.GMP_GATEWAY_API",
                                              f"{missing[0]} header is required", missing[0]))
        if path == "/v3/token":
            return self._token(body)
        if not market.token_valid(self.headers.get("WM_SEC.ACCESS_TOKEN")):
            return self._send(401, error_body("UNAUTHORIZED.GMP_GATEWAY_API", "Unauthorized"))
        failure = market.take_failure(self.command, path)
        canned = canned_failure(failure, FAILURES)
        if canned:
            return self._send(*canned)
        problem = self.spec_problem(path, query, headers, body)
        if problem:
            return self._send(400, error_body("SPEC_VIOLATION", problem))
        route = self._route(path)
        if route is None:
            return self._send(404, error_body("NOT_FOUND", f"no route {self.command} {path}"))
        status, answer = route(path, query, body)
        return self.answer_applied(failure, status, answer,
                                   error_body("SYSTEM_ERROR.GMP_GATEWAY_API", "Service Unavailable"))

    def _route(self, path: str):
        if self.command == "PUT" and path == "/v3/inventory":
            return self._inventory
        if self.command == "GET" and path == "/v3/items":
            return self._items
        if self.command == "GET" and path == "/v3/orders":
            return self._orders
        if self.command == "POST" and path.startswith("/v3/orders/") and path.endswith("/cancel"):
            return self._cancel
        return None

    # --- the calls ------------------------------------------------------------------------------------

    def _token(self, body: bytes):
        market = self.server.market
        failure = market.take_failure(self.command, "/v3/token")
        canned = canned_failure(failure, {429: error_body("REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API", "too many")})
        if canned:
            return self._send(*canned)
        if (self.form(body) or {}).get("grant_type") != "client_credentials":
            return self._send(400, error_body("INVALID_REQUEST_PARAM.GMP_GATEWAY_API", "grant_type is required"))
        if not market.basic_ok(self.headers.get("Authorization")):
            return self._send(401, error_body("UNAUTHORIZED.GMP_GATEWAY_API", "invalid client credentials"))
        return self._send(200, {"access_token": market.issue_token(), "token_type": "Bearer", "expires_in": 900})

    def _inventory(self, path: str, query: str, body: bytes):
        params = query_params(query)
        sent = json.loads(body)
        if sent.get("sku") != params.get("sku"):
            return 400, error_body("INVALID_REQUEST_PARAM.GMP_INVENTORY_API", "sku in body and query differ", "sku")
        refused = self.server.market.set_inventory(params["sku"], params.get("shipNode"),
                                                   int(sent["quantity"]["amount"]))
        return refused or (200, {"sku": sent["sku"], "quantity": sent["quantity"]})

    def _items(self, path: str, query: str, body: bytes):
        market = self.server.market
        params = query_params(query)
        cursor, limit = params.get("nextCursor", "*"), int(params.get("limit", "20"))
        if limit > 200:
            return 400, error_body("INVALID_REQUEST_PARAM.GMP_ITEM_API", "limit is at most 200", "limit")
        with market.lock:
            if cursor != "*":
                if cursor not in market.cursors:
                    return 400, error_body("INVALID_REQUEST_PARAM.GMP_ITEM_API", "invalid nextCursor", "nextCursor")
                for hook in list(market.on_items_page):
                    hook()
                market.on_items_page.clear()
            start = 0 if cursor == "*" else market.cursors[cursor]
            page = market.items[start:start + limit]
            after = None
            if start + limit < len(market.items):
                after = f"AoE/{secrets.token_urlsafe(6)}+{start + limit}=="     # '/', '+' and '=' must survive
                market.cursors[after] = start + limit
            return 200, {"ItemResponse": page, "totalItems": len(market.items), "nextCursor": after}

    def _orders(self, path: str, query: str, body: bytes):
        market = self.server.market
        with market.lock:
            if query in market.order_cursors:
                start, since = market.order_cursors[query]
                limit = int(parse_qs(query)["limit"][0])
            elif "hasMoreElements" in query:
                return 400, error_body("INVALID_REQUEST_PARAM.GMP_ORDER_API", "nextCursor was altered", "nextCursor")
            else:
                params = {k: v[0] for k, v in parse_qs(query).items()}
                start, limit = 0, int(params.get("limit", "100"))
                try:
                    since = int(datetime.fromisoformat(params["lastModifiedStartDate"].replace("Z", "+00:00"))
                                .timestamp() * 1000)
                except (KeyError, ValueError):
                    return 400, error_body("INVALID_REQUEST_PARAM.GMP_ORDER_API", "lastModifiedStartDate",
                                           "lastModifiedStartDate")
            if limit > 200:
                return 400, error_body("INVALID_REQUEST_PARAM.GMP_ORDER_API", "limit is at most 200", "limit")
            shown = market.visible_orders(since)
            page = [{k: v for k, v in o.items() if not k.startswith("_")} for o in shown[start:start + limit]]
            if not page:
                return 404, error_body("CONTENT_NOT_FOUND.GMP_ORDER_API", "No orders found")
            after = None
            if start + limit < len(shown):
                after = (f"?limit={limit}&hasMoreElements=true&soIndex={start + limit}&poIndex={start + limit}"
                         f"&partnerId=100009&sellerId=8&lastModifiedStartDate={since}")
                market.order_cursors[after[1:]] = (start + limit, since)
            return 200, {"list": {"meta": {"totalCount": len(shown), "limit": limit, "nextCursor": after},
                                  "elements": {"order": page}}}

    def _cancel(self, path: str, query: str, body: bytes):
        market = self.server.market
        po = unquote(path.split("/")[3])
        sent = json.loads(body)
        market.cancel_calls.append({"po": po, "body": sent})
        if po not in market.orders:
            return 404, error_body("CONTENT_NOT_FOUND.GMP_ORDER_API", f"order {po} not found")
        for line in sent["orderCancellation"]["orderLines"]["orderLine"]:
            status = line["orderLineStatuses"]["orderLineStatus"][0]
            if not market.cancel_line(po, line["lineNumber"], status["cancellationReason"]):
                return 400, error_body("INVALID_REQUEST_PARAM.GMP_ORDER_API",
                                       f"line {line['lineNumber']} is already cancelled")
        latest = {k: v for k, v in market.latest(po).items() if not k.startswith("_")}
        return 200, {"order": latest}


class WalmartServer(ContractServer):
    """The server on 127.0.0.1 port 0; `url` is where it listens, `market` its state."""

    def __init__(self, market: WalmartMarket | None = None):
        super().__init__(_Handler, market or WalmartMarket(), "walmart",
                         SpecValidator.cached("walmart", ("inventory.json", "orders.json"), _patch))
