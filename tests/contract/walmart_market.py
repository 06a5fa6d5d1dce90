"""The state of the Walmart contract server: credentials and tokens, the catalogue, inventory per ship node,
orders with per-line statuses, a controllable clock with visibility lag, and the failures queued for the
next matching requests (CHANNEL_APIS.md section 10). `walmart_server` speaks HTTP over it.
"""

from __future__ import annotations

import copy
import secrets

from base_market import ContractMarket

TOKEN_SECONDS = 900
DEFAULT_NODE = "DEFAULT"


class WalmartMarket(ContractMarket):
    """Everything the contract server knows; every method takes the lock (the server is threaded)."""

    def __init__(self, client_id: str = "cid-contract-0001", client_secret: str = "csecret-contract-0001"):
        super().__init__(client_id, client_secret)
        self.tokens: dict[str, float] = {}          # token -> expiry (server seconds)
        self.visibility_lag_ms = 0
        self.items: list[dict] = []
        self.inventory: dict[tuple[str, str], int] = {}   # (sku, ship node) -> quantity
        self.ship_nodes: set[str] | None = None     # the seller's ship nodes: a PUT to another is refused
        self.node_errors: dict[str, tuple[int, str, str]] = {}   # ship node -> the error every PUT there gets
        self.sku_errors: dict[str, tuple[int, str, str]] = {}
        self.orders: dict[str, list[tuple[int, dict]]] = {}   # po -> versions (visible_at_ms, order)
        self.cursors: dict[str, int] = {}           # issued items cursors -> offset
        self.order_cursors: dict[str, int] = {}     # issued orders nextCursor (without "?") -> offset
        self.on_items_page: list = []               # callables run before answering an items page with a cursor
        self.cancel_calls: list[dict] = []

    # --- clock, tokens, failures ----------------------------------------------------------------------

    def issue_token(self) -> str:
        with self.lock:
            token = "wmtok-" + secrets.token_urlsafe(24)
            self.tokens[token] = self.now() + TOKEN_SECONDS
            self.tokens_issued += 1
            return token

    def token_valid(self, token: str | None) -> bool:
        with self.lock:
            return token is not None and self.tokens.get(token, 0) > self.now()

    def expire_tokens(self) -> None:
        """Every token issued so far stops working now (token expiry mid-run)."""
        with self.lock:
            self.tokens = {t: self.now() - 1 for t in self.tokens}

    # --- catalogue and inventory ----------------------------------------------------------------------

    def add_item(self, sku: str, name: str = "", quantity: int | None = None, node: str = DEFAULT_NODE,
                 at_start: bool = False) -> None:
        with self.lock:
            item = {"mart": "WALMART_US", "sku": sku, "wpid": f"W{len(self.items):06d}", "gtin": "00000000000000",
                    "productName": name or f"Product {sku}", "lifecycleStatus": "ACTIVE",
                    "publishedStatus": "PUBLISHED"}
            self.items.insert(0, item) if at_start else self.items.append(item)
            if quantity is not None:
                self.inventory[(sku, node)] = quantity

    def quantity(self, sku: str, node: str = DEFAULT_NODE) -> int | None:
        with self.lock:
            return self.inventory.get((sku, node))

    def set_inventory(self, sku: str, node: str | None, amount: int) -> tuple[int, dict] | None:
        """Apply a PUT; an error tuple (status, body) for a SKU set to fail or not in the catalogue."""
        with self.lock:
            if sku in self.sku_errors:
                status, code, message = self.sku_errors[sku]
                return status, error_body(code, message, "sku")
            if not any(i["sku"] == sku for i in self.items):
                return 404, error_body("CONTENT_NOT_FOUND.GMP_INVENTORY_API", f"sku {sku} not found", "sku")
            if node is not None and self.ship_nodes is not None and node not in self.ship_nodes:
                return 400, error_body("INVALID_REQUEST_PARAM.GMP_INVENTORY_API",
                                       f"shipNode {node} is not a ship node of this seller", "shipNode")
            if node in self.node_errors:
                status, code, message = self.node_errors[node]
                return status, error_body(code, message, "shipNode")
            self.inventory[(sku, node or DEFAULT_NODE)] = amount
            return None

    # --- orders ---------------------------------------------------------------------------------------

    def _put_order(self, order: dict) -> None:
        order["_modified"] = self.now_ms()
        self.orders.setdefault(order["purchaseOrderId"], []).append(
            (order["_modified"] + self.visibility_lag_ms, order))

    def place_order(self, po: str, lines: list[tuple[str, int]], status: str = "Created") -> None:
        """A released order, lines (sku, quantity) numbered from 1."""
        with self.lock:
            now = self.now_ms()
            order = {"purchaseOrderId": po, "customerOrderId": f"C{po}", "orderDate": now,
                     "customerEmailId": "buyer@relay.walmart.com", "orderType": "REGULAR",
                     "orderLines": {"orderLine": [
                         {"lineNumber": str(n), "item": {"productName": f"Product {sku}", "sku": sku},
                          "orderLineQuantity": {"unitOfMeasurement": "EACH", "amount": str(qty)}, "statusDate": now,
                          "orderLineStatuses": {"orderLineStatus": [
                              {"status": status, "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(qty)}}]}}
                         for n, (sku, qty) in enumerate(lines, start=1)]}}
            self._put_order(order)

    def latest(self, po: str) -> dict:
        with self.lock:
            return self.orders[po][-1][1]

    def cancel_line(self, po: str, line: str, reason: str | None, *, intent_to_cancel: bool = False) -> bool:
        """Cancel one whole line (as Walmart, the buyer or the seller did); False if it was cancelled already."""
        with self.lock:
            order = copy.deepcopy(self.latest(po))
            for l in order["orderLines"]["orderLine"]:
                if l["lineNumber"] == str(line):
                    statuses = l["orderLineStatuses"]["orderLineStatus"]
                    if any(s["status"] == "Cancelled" for s in statuses):
                        return False
                    status = {"status": "Cancelled", "statusQuantity": dict(l["orderLineQuantity"])}
                    if reason is not None:
                        status["cancellationReason"] = reason
                    l["orderLineStatuses"]["orderLineStatus"] = [status]
                    l["statusDate"] = self.now_ms()
                    if intent_to_cancel:
                        l["intentToCancel"] = True
                    self._put_order(order)
                    return True
            raise KeyError(f"order {po} has no line {line}")

    def visible_orders(self, since_ms: int) -> list[dict]:
        """The latest version of each order visible now, modified at or after `since_ms`, oldest first."""
        shown = self.latest_visible(self.now_ms(), lambda o: o["_modified"] >= since_ms)
        return sorted(shown, key=lambda o: (o["_modified"], o["purchaseOrderId"]))


def error_body(code: str, message: str, field: str | None = None) -> dict:
    """Walmart's error envelope."""
    error = {"code": code, "description": message, "info": message, "severity": "ERROR", "category": "DATA"}
    if field:
        error["field"] = field
    return {"errors": [error]}
