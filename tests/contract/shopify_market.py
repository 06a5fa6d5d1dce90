"""The state of the Shopify contract server: the app's credentials, tokens and access scopes, locations,
variants with inventory items and levels per location, orders with their cancellations, the cost bucket,
`@idempotent` keys already answered, a controllable clock with visibility lag, and failures queued for
the next matching requests (CHANNEL_APIS.md sections 1 and 10). `shopify_server` speaks HTTP over it.
"""

from __future__ import annotations

import copy
import secrets
import time
from datetime import UTC, datetime

from base_market import ContractMarket, Failure

TOKEN_SECONDS = 86_399
ALL_SCOPES = ("read_products", "read_inventory", "write_inventory", "read_orders", "write_orders", "read_locations")
PRIMARY = "gid://shopify/Location/1"


class ShopifyMarket(ContractMarket):
    """Everything the contract server knows; every method takes the lock (the server is threaded). A queued
    failure is for the next request whose GraphQL operation name starts with the one given (kinds: 429 |
    429_throttled | throttled_200 | 401 | 503_after_apply | drop_after_apply | concurrent)."""

    def __init__(self, client_id: str = "shp-client-contract-0001", client_secret: str = "shpss_contract_secret_0001",
                 static_token: str = "shpat_contract_static_token_0001"):
        super().__init__(client_id, client_secret)
        self.static_token = static_token
        self.tokens: dict[str, float] = {static_token: float("inf")}
        self.scopes = set(ALL_SCOPES)
        self.visibility_lag_seconds = 0.0
        self.locations = {PRIMARY: "Main warehouse", "gid://shopify/Location/2": "Second shop"}
        self.variants: list[dict] = []                  # by id
        self.levels: dict[tuple[str, str], int] = {}    # (inventory item, location) -> available
        self.item_errors: dict[str, str] = {}           # inventory item -> user error code to answer
        self.group_rejects_all = True                   # one failing entry refuses the whole group
        self.orders: dict[str, list[tuple[float, dict]]] = {}    # order gid -> versions (visible_at, order)
        self.idempotency: dict[str, tuple[str, dict]] = {}       # key -> (input, answer)
        self.before_set: list = []                      # callables run before applying a set (a sale in between)
        self.on_page: list = []                         # callables run before answering a page after the first
        self.bucket_max, self.restore_rate = 1000.0, 100.0       # the current Standard plan: 100 points/s
        self.bucket, self.bucket_at = 1000.0, time.time()
        self.throttle_status = 200                      # HTTP status of a THROTTLED answer (200 or 429)
        self.pagination_cap = 25_000
        self.cancel_calls: list[dict] = []
        self.sets: list[dict] = []                      # every applied inventorySetQuantities input

    @property
    def access_token(self) -> str:
        """The static token under the name of the option the channel reads it by (`access_token_env`)."""
        return self.static_token

    # --- clock, tokens, bucket, failures --------------------------------------------------------------

    def iso(self, at: float | None = None) -> str:
        return datetime.fromtimestamp(self.now() if at is None else at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def issue_token(self) -> str:
        with self.lock:
            token = "shpca_" + secrets.token_urlsafe(24)
            self.tokens[token] = self.now() + TOKEN_SECONDS
            self.tokens_issued += 1
            return token

    def token_valid(self, token: str | None) -> bool:
        with self.lock:
            return token is not None and self.tokens.get(token, 0) > self.now()

    def expire_tokens(self) -> None:
        """Every client-credentials token issued so far stops working (the static token stays)."""
        with self.lock:
            self.tokens = {t: (e if e == float("inf") else self.now() - 1) for t, e in self.tokens.items()}

    def take_cost(self, cost: float) -> tuple[bool, dict]:
        """Spend `cost` points from the bucket if it holds them; (allowed, throttleStatus)."""
        with self.lock:
            now = self.now()
            self.bucket = min(self.bucket_max, self.bucket + (now - self.bucket_at) * self.restore_rate)
            self.bucket_at = now
            allowed = cost <= self.bucket
            if allowed:
                self.bucket -= cost
            return allowed, {"maximumAvailable": self.bucket_max, "currentlyAvailable": round(self.bucket),
                             "restoreRate": self.restore_rate}

    def refund(self, points: float) -> None:
        """Give back what a call did not cost after all (requested cost less actual cost)."""
        with self.lock:
            self.bucket = min(self.bucket_max, self.bucket + max(0.0, points))

    def drain_bucket(self) -> None:
        with self.lock:
            self.bucket, self.bucket_at = 0.0, self.now()

    def fail(self, kind: str, operation: str = "", *, times: int = 1, **headers: str) -> None:
        """Queue `times` failures of `kind` for the next requests of `operation...` (header _ become -)."""
        super().fail(kind, operation, times=times, **headers)

    def take_failure(self, operation: str) -> Failure | None:
        return super().take_failure(None, operation)

    # --- catalogue and inventory ----------------------------------------------------------------------

    def add_variant(self, sku: str | None, quantity: int | None = 0, *, location: str = PRIMARY,
                    title: str = "Default Title", product: str = "", number: int | None = None) -> dict:
        """A variant (its inventory item stocked at `location` with `quantity`, or nowhere when None);
        `number` (default: the next) orders it among the others (variants are paged by id)."""
        with self.lock:
            n = number if number is not None else len(self.variants) + 1
            variant = {"id": f"gid://shopify/ProductVariant/{1000 + n}", "sku": sku, "title": title,
                       "product": {"title": product or f"Product {sku}"},
                       "item": f"gid://shopify/InventoryItem/{5000 + n}"}
            self.variants.append(variant)
            if quantity is not None:
                self.levels[(variant["item"], location)] = quantity
            return variant

    def stock_at(self, sku: str, location: str, quantity: int = 0) -> None:
        """The variant's inventory item is stocked at `location` too, with `quantity` available."""
        with self.lock:
            self.levels[(self.item(sku), location)] = quantity

    def item(self, sku: str) -> str:
        with self.lock:
            return next(v["item"] for v in self.variants if v["sku"] == sku)

    def quantity(self, sku: str, location: str = PRIMARY) -> int | None:
        with self.lock:
            return self.levels.get((self.item(sku), location))

    def level(self, item: str, location: str) -> int | None:
        with self.lock:
            return self.levels.get((item, location))

    # --- orders ---------------------------------------------------------------------------------------

    def _put_order(self, order: dict) -> None:
        order["updatedAt"] = self.iso()
        self.orders.setdefault(order["id"], []).append((self.now() + self.visibility_lag_seconds, order))

    def place_order(self, number: int, lines: list[tuple[str, int]], financial: str = "PAID") -> str:
        """An order `#<number>` (gid Order/<number>) with lines (sku, quantity); its numeric id."""
        with self.lock:
            order = {"id": f"gid://shopify/Order/{number}", "name": f"#{number}", "createdAt": self.iso(),
                     "displayFinancialStatus": financial, "cancelledAt": None, "cancelReason": None,
                     "lines": [{"id": f"gid://shopify/LineItem/{number * 100 + i}", "sku": sku, "quantity": qty}
                               for i, (sku, qty) in enumerate(lines, start=1)]}
            self._put_order(order)
            return str(number)

    def latest(self, number) -> dict:
        with self.lock:
            return self.orders[f"gid://shopify/Order/{number}"][-1][1]

    def update_order(self, number, **fields) -> None:
        with self.lock:
            order = copy.deepcopy(self.latest(number))
            order.update(fields)
            self._put_order(order)

    def cancel(self, number, reason: str) -> bool:
        """Cancel the order (as the merchant did in Shopify); False when it was cancelled already."""
        with self.lock:
            if self.latest(number)["cancelledAt"]:
                return False
            self.update_order(number, cancelledAt=self.iso(), cancelReason=reason)
            return True

    def visible_orders(self, since: str | None) -> list[dict]:
        """The latest visible version of each order updated at or after `since`, by updatedAt then id."""
        shown = self.latest_visible(self.now(), lambda o: since is None or o["updatedAt"] >= since)
        return sorted(shown, key=lambda o: (o["updatedAt"], int(o["id"].rsplit("/", 1)[1])))
