"""The resolvers of the Shopify contract server: Query and Mutation fields over `ShopifyMarket`, with
Shopify's answers and `userErrors` (`inventorySetQuantities` with `@idempotent` replay and mismatch, the
2026-04 rules, per-entry errors; `orderCancel`; offset cursors that let rows move between pages).
"""

from __future__ import annotations

import hashlib
import json
import re

from graphql.error import GraphQLError

REASONS = ("correction", "cycle_count_available", "damaged", "movement_created", "movement_updated",
           "movement_received", "movement_canceled", "other", "promotion", "quality_control", "received",
           "reservation_created", "reservation_deleted", "reservation_updated", "restock", "safety_stock",
           "shrinkage")


LOCATION_GID = re.compile(r"gid://shopify/Location/\d+")


class Root:
    """The resolvers of Query and Mutation over the market (default resolver: attribute, called with args)."""

    def __init__(self, server, version: str, idempotency_key: str | None, raw_variables: dict):
        self.server, self.market, self.version = server, server.market, version
        self.key, self.raw = idempotency_key, raw_variables

    # --- queries --------------------------------------------------------------------------------------

    def shop(self, info):
        return {"name": "StockGate contract shop", "myshopifyDomain": "contract.myshopify.com"}

    def currentAppInstallation(self, info):
        return {"accessScopes": [{"handle": s} for s in sorted(self.market.scopes)]}

    def _location_gid(self, value: str, where: str) -> str:
        """Shopify refuses an ID argument that is not a global id (a bare number included)."""
        if not LOCATION_GID.fullmatch(str(value)):
            self.market.violations.append(f"{where}: {value!r} is not a location gid")
            raise GraphQLError(f"Invalid global id '{value}'")
        return value

    def location(self, info, id=None):
        location = self._location_gid(id, "location(id:)") if id is not None else "gid://shopify/Location/1"
        name = self.market.locations.get(location)
        return {"__typename": "Location", "id": location, "name": name} if name else None

    def _item(self, item: str) -> dict:
        market = self.market

        def level(info, locationId):
            quantity = market.level(item, self._location_gid(locationId, "inventoryLevel(locationId:)"))
            if quantity is None:
                return None
            return {"id": f"{item}-{locationId}", "location": {"id": locationId, "name": market.locations.get(locationId)},
                    "quantities": lambda info, names: [{"name": n, "quantity": quantity} for n in names
                                                       if n == "available"]}

        return {"__typename": "InventoryItem", "id": item, "tracked": True, "inventoryLevel": level}

    def nodes(self, info, ids):
        if len(ids) > 250:
            raise GraphQLError(f"The input array size of {len(ids)} is greater than the maximum allowed of 250.")
        with self.market.lock:
            items = {v["item"] for v in self.market.variants}
        return [self._item(i) if i in items else None for i in ids]

    def _page(self, rows_of, first, after, make) -> dict:
        """One page of `rows_of()` (read after the hooks of a page after the first ran)."""
        market = self.market
        if first is None or first > 250 or first < 1:
            raise GraphQLError("first must be between 1 and 250")
        start = 0
        if after is not None:
            try:
                start = int(bytes.fromhex(after).decode().split(":")[1])
            except (ValueError, IndexError):
                raise GraphQLError(f"Invalid cursor {after!r}") from None
            hooks = list(market.on_page)
            market.on_page.clear()
            for hook in hooks:              # a hook may queue itself again
                hook()
        rows = list(rows_of())
        if start + first > market.pagination_cap and start >= market.pagination_cap:
            raise GraphQLError(f"Pagination is limited to {market.pagination_cap} objects; narrow the query")
        page = rows[start:start + first]
        end = start + len(page)
        return {"nodes": [make(r) for r in page],
                "pageInfo": {"hasNextPage": end < len(rows), "hasPreviousPage": start > 0,
                             "endCursor": f"cursor:{end}".encode().hex() if page else None,
                             "startCursor": None}}

    def productVariants(self, info, first=None, after=None, query=None, sortKey=None, reverse=False):
        market = self.market
        floor = re.fullmatch(r"id:>(\d+)", query or "")
        if query and not floor:
            raise GraphQLError(f"the contract server understands only the query id:>N, got {query!r}")

        def rows():
            with market.lock:
                found = sorted(market.variants, key=lambda v: int(v["id"].rsplit("/", 1)[1]))
            return [v for v in found if not floor or int(v["id"].rsplit("/", 1)[1]) > int(floor[1])]

        return self._page(rows, first, after,
                          lambda v: {"__typename": "ProductVariant", "id": v["id"], "sku": v["sku"],
                                     "title": v["title"], "displayName": v["title"], "product": v["product"],
                                     "inventoryItem": self._item(v["item"])})

    def _order(self, o: dict) -> dict:
        def lines(info, first=None, after=None):
            return self._page(lambda: o["lines"], first, after, lambda l: {**l, "currentQuantity": l["quantity"]})
        return {"__typename": "Order", **{k: v for k, v in o.items() if k != "lines"}, "processedAt": o["createdAt"],
                "cancellation": {"staffNote": None} if o["cancelledAt"] else None, "lineItems": lines}

    def orders(self, info, first=None, after=None, query=None, sortKey=None, reverse=False):
        since = None
        if query:
            found = re.fullmatch(r"updated_at:>=?'?([0-9T:\-.Z+]+)'?", query)
            if not found:
                raise GraphQLError(f"the contract server understands only updated_at:>=..., got {query!r}")
            since = found[1]
        if sortKey not in (None, "UPDATED_AT"):
            raise GraphQLError("the contract server sorts orders by UPDATED_AT only")
        return self._page(lambda: self.market.visible_orders(since), first, after, self._order)

    def order(self, info, id):
        versions = self.market.orders.get(id)
        return self._order(versions[-1][1]) if versions else None

    # --- mutations ------------------------------------------------------------------------------------

    def inventorySetQuantities(self, info, input):
        market = self.market
        raw = (self.raw or {}).get("input") or {}
        if self.version >= "2026-04":
            if self.key is None:
                raise GraphQLError("The @idempotent directive is required for this mutation.")
            missing = [i for i, q in enumerate(raw.get("quantities") or []) if "changeFromQuantity" not in q]
            if missing:
                raise GraphQLError(f"changeFromQuantity is required (pass null to skip the compare): "
                                   f"quantities {missing[:5]}")
        for q in input["quantities"]:
            self._location_gid(q["locationId"], "inventorySetQuantities locationId")
        if len(input["quantities"]) > 250:
            raise GraphQLError(f"The input array size of {len(input['quantities'])} is greater than the maximum "
                               "allowed of 250.")
        fingerprint = hashlib.sha256(json.dumps(input, sort_keys=True, default=str).encode()).hexdigest()
        with market.lock:
            if self.key is not None and self.key in market.idempotency:
                seen, answer = market.idempotency[self.key]
                if seen != fingerprint:
                    return {"inventoryAdjustmentGroup": None, "userErrors": [
                        {"code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH", "field": None,
                         "message": "The idempotency key was used with different parameters."}]}
                return answer                               # the first attempt's result, not applied again
            hooks = list(market.before_set)
            market.before_set.clear()
            for hook in hooks:              # a hook may queue itself again
                hook()
            answer = self._apply(input)
            if self.key is not None:
                market.idempotency[self.key] = (fingerprint, answer)
            return answer

    def _apply(self, input) -> dict:
        market, errors = self.market, []
        if input["name"] not in ("available", "on_hand"):
            errors.append({"code": "INVALID_NAME", "field": ["input", "name"], "message": "name is not valid"})
        if input["reason"] not in REASONS:
            errors.append({"code": "INVALID_REASON", "field": ["input", "reason"], "message": "reason is not valid"})
        items = {v["item"] for v in market.variants}
        seen = set()
        for n, q in enumerate(input["quantities"]):
            field = ["input", "quantities", str(n)]
            key = (q["inventoryItemId"], q["locationId"])
            code = market.item_errors.get(q["inventoryItemId"])
            if code:
                errors.append({"code": code, "field": field + ["inventoryItemId"], "message": f"{code.lower()}"})
            elif q["inventoryItemId"] not in items:
                errors.append({"code": "INVALID_INVENTORY_ITEM", "field": field + ["inventoryItemId"],
                               "message": "The specified inventory item could not be found."})
            elif q["locationId"] not in market.locations:
                errors.append({"code": "INVALID_LOCATION", "field": field + ["locationId"],
                               "message": "The specified location could not be found."})
            elif key not in market.levels:
                errors.append({"code": "ITEM_NOT_STOCKED_AT_LOCATION", "field": field + ["locationId"],
                               "message": "The specified inventory item is not stocked at the location."})
            elif key in seen:
                errors.append({"code": "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR", "field": field,
                               "message": "The inventory item and location pair is given twice."})
            elif q["quantity"] < 0:
                errors.append({"code": "INVALID_QUANTITY_NEGATIVE", "field": field + ["quantity"],
                               "message": "The quantity can't be negative."})
            elif q["quantity"] > 1_000_000_000:
                errors.append({"code": "INVALID_QUANTITY_TOO_HIGH", "field": field + ["quantity"],
                               "message": "The quantity can't be higher than 1,000,000,000."})
            elif q.get("changeFromQuantity") is not None and q["changeFromQuantity"] != market.levels[key]:
                errors.append({"code": "CHANGE_FROM_QUANTITY_STALE", "field": field + ["changeFromQuantity"],
                               "message": "The specified compare quantity does not match the current quantity."})
            seen.add(key)
        failed = {int(e["field"][2]) for e in errors if e["field"] and len(e["field"]) > 2}
        if errors and (market.group_rejects_all or len(failed) < len(errors)):
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        applied = [q for n, q in enumerate(input["quantities"]) if n not in failed]
        for q in applied:
            market.levels[(q["inventoryItemId"], q["locationId"])] = q["quantity"]
        market.sets.append({"input": input, "key": self.key})
        group = {"id": f"gid://shopify/InventoryAdjustmentGroup/{len(market.sets)}", "createdAt": market.iso(),
                 "reason": input["reason"], "referenceDocumentUri": input.get("referenceDocumentUri")}
        return {"inventoryAdjustmentGroup": group, "userErrors": errors}

    def orderCancel(self, info, orderId, reason, restock, refundMethod=None, notifyCustomer=None, staffNote=None):
        market = self.market
        market.cancel_calls.append({"orderId": orderId, "reason": reason, "restock": restock,
                                    "refundMethod": refundMethod, "notifyCustomer": notifyCustomer})
        number = orderId.rsplit("/", 1)[1]
        if orderId not in market.orders:
            return {"job": None, "userErrors": [], "orderCancelUserErrors": [
                {"code": "NOT_FOUND", "field": ["orderId"], "message": "Order does not exist"}]}
        if not market.cancel(number, reason):
            return {"job": None, "userErrors": [], "orderCancelUserErrors": [
                {"code": "INVALID", "field": ["orderId"], "message": "Cannot cancel an order that is already cancelled"}]}
        return {"job": {"id": f"gid://shopify/Job/{len(market.cancel_calls)}", "done": False},
                "userErrors": [], "orderCancelUserErrors": []}
