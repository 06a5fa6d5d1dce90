"""Quantities for the `shopify` adapter: `inventorySetQuantities` in batches of at most 250, each with an
`@idempotent` key and `changeFromQuantity` (compare-and-set, re-read and sent again on a stale compare),
`userErrors` mapped to their entries (docs/channels/shopify.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from channels.base import PushResult
from channels.errors import RetryableChannelError
from channels.http import WaitBudget

BATCH_LIMIT = 250
RETRY_CODES = ("IDEMPOTENCY_CONCURRENT_REQUEST", "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED")

SET_QUANTITIES = """
mutation StockGateSetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) @idempotent(key: "%s") {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}"""

LEVELS = """
query StockGateLevels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem { id inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } } }
  }
}"""


class QuantityPush:
    """A channel's quantity pushes (called with (listing id, quantity) pairs) through `graphql` (a
    `ShopifyGraphql`) with the adapter's options; `redact` hides secrets in error texts."""

    def __init__(self, graphql, options, redact):
        self.graphql, self.options, self.redact = graphql, options, redact

    def __call__(self, updates: Sequence[tuple[str, int]], at: str | None = None) -> list[PushResult]:
        """Set each listing's available quantity at its location; one result per listing, in order. With
        `at` (a location gid) a listing id naming another location fails alone, unsent."""
        budget = self.graphql.http.budget()
        results: dict[int, PushResult] = {}
        entries = []
        for index, (listing_id, quantity) in enumerate(updates):
            item, _, location = str(listing_id).partition("@")
            if not item.startswith("gid://shopify/InventoryItem/") or not location.startswith("gid://"):
                results[index] = PushResult(listing_id, False, f"{listing_id!r} is not a shopify listing id "
                                            "(<inventory item gid>@<location gid>): sync the listings again")
                continue
            if at is not None and location != at:
                results[index] = PushResult(listing_id, False, f"{listing_id!r} is stocked at {location}, not at "
                                            f"{at}: sync the listings again")
                continue
            entries.append((index, listing_id, item, location, int(quantity)))
        size = max(1, min(self.options.batch_size, BATCH_LIMIT))
        stopped: str | None = None
        for start in range(0, len(entries), size):
            chunk = entries[start:start + size]
            if stopped is None:
                try:
                    self._push_batch(chunk, budget, results)
                    continue
                except RetryableChannelError as exc:
                    stopped = str(exc)
                    for index, listing_id, *_ in chunk:
                        results.setdefault(index, PushResult(listing_id, False, stopped, retryable=True))
                    continue
            for index, listing_id, *_ in chunk:
                results[index] = PushResult(listing_id, False, f"not sent: {stopped}", retryable=True)
        return [results[i] for i in range(len(updates))]

    def _levels(self, entries, budget: WaitBudget) -> dict[tuple[str, str], int | None]:
        """The available quantity of each (item, location) now; None when the item is not stocked there
        (missing items are left out)."""
        found: dict[tuple[str, str], int | None] = {}
        for location in sorted({e[3] for e in entries}):
            ids = sorted({e[2] for e in entries if e[3] == location})
            data = self.graphql(LEVELS, {"ids": ids, "locationId": location}, budget=budget)
            for node in data.get("nodes") or []:
                if not node or not node.get("id"):
                    continue
                level = node.get("inventoryLevel")
                found[(node["id"], location)] = None if level is None else available(level)
        return found

    def _push_batch(self, chunk, budget: WaitBudget, results: dict[int, PushResult]) -> None:
        pending = list(chunk)
        stale_rounds = 0
        for _ in range(self.options.cas_retries + 2):     # bounded: re-reads after stale, one resend after a rejection
            if not pending:
                return
            send = []
            if self.options.compare_and_set:
                levels = self._levels(pending, budget)
                for entry in pending:
                    index, listing_id, item, location, quantity = entry
                    if (item, location) not in levels:
                        results[index] = PushResult(listing_id, False, f"INVALID_INVENTORY_ITEM: {item} is not in the "
                                                    "shop any more (the variant was deleted?)")
                    elif levels[(item, location)] is None:
                        results[index] = PushResult(listing_id, False, f"ITEM_NOT_STOCKED_AT_LOCATION: {item} is not "
                                                    f"stocked at {location}: activate it there in Shopify")
                    else:
                        send.append((entry, levels[(item, location)]))
            else:
                send = [(entry, None) for entry in pending]
            if not send:
                return
            quantities = [{"inventoryItemId": item, "locationId": location, "quantity": quantity,
                           "changeFromQuantity": before}
                          for (_, _, item, location, quantity), before in send]
            variables = {"input": {"name": "available", "reason": self.options.reason,
                                   "referenceDocumentUri": f"gid://stockgate/Push/{uuid.uuid4()}",
                                   "quantities": quantities}}
            # one key per batch content: the HTTP client repeats this very request (same key) after a 5xx or
            # a dropped connection, and Shopify answers the first attempt's result instead of applying it twice
            data = self.graphql(SET_QUANTITIES % uuid.uuid4(), variables, budget=budget)
            payload = data.get("inventorySetQuantities") or {}
            applied = payload.get("inventoryAdjustmentGroup") is not None
            by_entry: dict[int, dict] = {}
            general = []
            for error in payload.get("userErrors") or []:
                position = _position(error.get("field"))
                if position is not None and position < len(send):
                    by_entry.setdefault(position, error)
                else:
                    general.append(error)
            if general and not by_entry:
                text = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in general)
                retry = any(e.get("code") in RETRY_CODES for e in general)
                for (index, listing_id, *_), _ in send:
                    results[index] = PushResult(listing_id, False, self.redact(text), retryable=retry)
                return
            pending, stale = [], False
            for position, ((index, listing_id, *rest), _) in enumerate(send):
                error = by_entry.get(position)
                if error is None:
                    if applied or not by_entry:
                        results[index] = PushResult(listing_id, True)
                    else:                       # the group was refused: this entry was not applied either
                        pending.append((index, listing_id, *rest))
                elif error.get("code") == "CHANGE_FROM_QUANTITY_STALE":
                    stale = True
                    pending.append((index, listing_id, *rest))
                    results[index] = PushResult(listing_id, False, "CHANGE_FROM_QUANTITY_STALE: the quantity kept "
                                                f"changing on Shopify ({self.options.cas_retries} re-reads)",
                                                retryable=True)
                else:
                    retry = error.get("code") in RETRY_CODES
                    results[index] = PushResult(listing_id, False, self.redact(
                        f"{error.get('code')}: {error.get('message')}"), retryable=retry)
            if stale:
                stale_rounds += 1
                if stale_rounds > self.options.cas_retries:
                    return
        for index, listing_id, *_ in pending:
            results.setdefault(index, PushResult(listing_id, False, "not applied by Shopify after retries",
                                                 retryable=True))


def available(level: dict) -> int | None:
    """The `available` figure of an inventory level, or None when it has none."""
    for q in level.get("quantities") or []:
        if q.get("name") == "available":
            return int(q.get("quantity") or 0)
    return None


def _position(field: Any) -> int | None:
    """The entry an error's field path points at (["input", "quantities", "3", "inventoryItemId"] -> 3)."""
    if isinstance(field, list) and len(field) >= 3 and field[:2] == ["input", "quantities"]:
        try:
            return int(field[2])
        except (TypeError, ValueError):
            return None
    return None
