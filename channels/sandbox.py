"""The `sandbox` adapter: talks to the bundled marketplace simulator the way a real adapter talks to an API.

The transport is a function `(operation, payload) -> answer`: the gateway hands it the simulator's
`SandboxMarketplace.handle` (`gateway.channel_sync.adapters`), tests their own. Transport errors become
channel errors here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from channels.base import ListingPage, OrderPage, PushResult, RemoteListing, Transport
from channels.errors import ChannelError, PermanentChannelError, RetryableChannelError
from channels.model import CancellationData, OrderData, OrderLineData, read_time
from channels.sandbox_market import SandboxRequestError


def _time(text: str, what: str) -> datetime:
    try:
        return read_time(str(text), what)
    except ValueError as exc:
        raise PermanentChannelError(f"sandbox sent {exc}") from exc


class SandboxAdapter:
    """A channel adapter over a sandbox marketplace (or any transport speaking its operations)."""

    def __init__(self, name: str, transport: Transport):
        self.name = name
        self._transport = transport

    def _call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._transport(operation, payload)
        except ChannelError:
            raise
        except (TimeoutError, ConnectionError, OSError) as exc:
            raise RetryableChannelError(f"channel {self.name}: {operation} failed: {exc}") from exc
        except (SandboxRequestError, KeyError, TypeError, ValueError) as exc:
            raise PermanentChannelError(f"channel {self.name}: {operation} refused: {exc}") from exc

    def list_listings(self, cursor: str | None, full: bool) -> ListingPage:
        """Listings after `cursor` (the sandbox pages by creation order in both modes)."""
        answer = self._call("list_listings", {"cursor": cursor, "full": full})
        listings = [RemoteListing(l["listing_id"], l["sku"], l.get("size"), l.get("quantity"), l.get("title"),
                                  l.get("location")) for l in answer["listings"]]
        return ListingPage(listings, answer["cursor"], bool(answer.get("more")))

    def fetch_orders(self, cursor: str | None) -> OrderPage:
        """Orders changed and cancellations made after `cursor`, oldest first."""
        answer = self._call("fetch_orders", {"cursor": cursor})
        orders = []
        for o in answer["orders"]:
            # An order paid before it was cancelled is reported as accepted, so its stock is taken and the
            # cancellation that follows decides whether it comes back.
            status = "accepted" if o.get("accepted_at") else o["status"]
            lines = tuple(OrderLineData(line["line_id"], line["sku"], int(line["quantity"])) for line in o["lines"])
            orders.append(OrderData(o["order_id"], _time(o["placed_at"], "placed_at"), status, lines))
        cancellations = [CancellationData(c["order_id"], _time(c["cancelled_at"], "cancelled_at"), "marketplace",
                                          c.get("reason"), tuple(c["line_ids"]) if c.get("line_ids") else None)
                         for c in answer["cancellations"]]
        return OrderPage(orders, cancellations, answer["cursor"], bool(answer.get("more")))

    def orders_committed(self, page: OrderPage) -> None:
        """Nothing to acknowledge: the sandbox is read by cursor."""

    def push_quantities(self, updates: Sequence[tuple[str, int]]) -> list[PushResult]:
        """Send absolute quantities; a listing the marketplace refuses fails alone, permanently."""
        return self._push(updates, None)

    def push_location_quantities(self, location: str, updates: Sequence[tuple[str, int]]) -> list[PushResult]:
        """Send absolute quantities to the listings' stock at `location` (`channels.base`)."""
        return self._push(updates, location)

    def _push(self, updates: Sequence[tuple[str, int]], location: str | None) -> list[PushResult]:
        if not updates:
            return []
        at = [] if location is None else [location]
        answer = self._call("push_quantities", {"updates": [[lid, qty, *at] for lid, qty in updates]})
        by_id = {r["listing_id"]: r for r in answer["results"]}
        results = []
        for listing_id, _ in updates:
            r = by_id.get(listing_id)
            if r is None:
                results.append(PushResult(listing_id, False, "no result for this listing", retryable=True))
            else:
                results.append(PushResult(listing_id, bool(r["ok"]), r.get("error"), retryable=False))
        return results
