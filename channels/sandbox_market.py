"""The bundled marketplace simulator: listings, buyers' orders and cancellations, and every quantity it is sent.

Its state is one JSON document per channel under `<data_dir>/sandbox/`, changed under a file lock and
replaced atomically, so the CLI and a running `serve` can share it and it survives restarts. `handle` is
its "API" (what the sandbox adapter calls); the other methods are what a buyer or the marketplace does.
It can be told to fail, or to time out after applying a push, for its next N calls.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from channels.state_file import StateFile

HISTORY_LIMIT = 100_000          # quantities received, newest kept
PAGE_SIZE = 500


class SandboxRequestError(ValueError):
    """A request the simulated marketplace refuses (unknown listing, unknown order, bad quantity)."""


def sandbox_path(data_dir: Path, channel: str) -> Path:
    """Where channel `channel`'s sandbox state lives."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", channel)
    return Path(data_dir) / "sandbox" / f"{safe}.json"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


class SandboxMarketplace:
    """One simulated marketplace of the flavour `marketplace` (its reason codes are that marketplace's)."""

    def __init__(self, path: Path, marketplace: str = "other", *, timeout_seconds: float = 0.5):
        self.marketplace = marketplace
        self.timeout_seconds = timeout_seconds
        self.state = StateFile(path, lambda: {"marketplace": marketplace, "seq": 0, "listings": {}, "orders": {},
                                              "cancellations": [], "history": [],
                                              "fail": {"remaining": 0, "timeout": False, "all_calls": False}})

    # --- the API the adapter calls -------------------------------------------------------------------

    def handle(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Answer one API call; simulated outages raise ConnectionError, simulated timeouts TimeoutError."""
        handlers = {"list_listings": self._list_listings, "fetch_orders": self._fetch_orders,
                    "push_quantities": self._push_quantities}
        if operation not in handlers:
            raise SandboxRequestError(f"unknown operation {operation!r}")
        with self.state.change() as doc:
            failure = self._take_failure(doc, operation)
            left = doc["fail"]["remaining"]
            answer = handlers[operation](doc, payload) if failure != "outage" else None
        if failure == "outage":
            raise ConnectionError(f"sandbox {self.marketplace}: simulated outage ({left} more failing calls)")
        if failure == "timeout":   # the marketplace applied the call; its answer never arrives
            time.sleep(self.timeout_seconds)
            raise TimeoutError(f"sandbox {self.marketplace}: simulated timeout after {self.timeout_seconds} s")
        return answer

    @staticmethod
    def _take_failure(doc: dict, operation: str) -> str | None:
        fail = doc["fail"]
        if fail["remaining"] <= 0 or (operation != "push_quantities" and not fail["all_calls"]):
            return None
        fail["remaining"] -= 1
        return "timeout" if fail["timeout"] else "outage"

    @staticmethod
    def _list_listings(doc: dict, payload: dict) -> dict:
        after = int(payload.get("cursor") or 0)
        live = sorted((l for l in doc["listings"].values() if not l["removed"] and l["seq"] > after),
                      key=lambda l: l["seq"])
        page = live[:PAGE_SIZE]
        cursor = page[-1]["seq"] if page else max(after, 0)
        # a listing shows the last quantity pushed to it, or its own before any push; a listing stocked at
        # several locations is shown once per location, with that location's quantity
        shown = []
        for l in page:
            fields = {k: l[k] for k in ("listing_id", "sku", "size", "title")}
            if l.get("locations"):
                shown += [{**fields, "location": loc, "quantity": at["quantity"] if at["pushed"] is None
                           else at["pushed"]} for loc, at in sorted(l["locations"].items())]
            else:
                shown.append({**fields, "quantity": l["quantity"] if l["pushed"] is None else l["pushed"]})
        return {"listings": shown, "cursor": str(cursor), "more": len(live) > len(page)}

    @staticmethod
    def _fetch_orders(doc: dict, payload: dict) -> dict:
        after = int(payload.get("cursor") or 0)
        events = [("order", o["seq"], o) for o in doc["orders"].values() if o["seq"] > after]
        events += [("cancel", c["seq"], c) for c in doc["cancellations"] if c["seq"] > after]
        events.sort(key=lambda e: (e[1], e[0] != "order"))
        page = events[:PAGE_SIZE]
        while len(page) < len(events) and events[len(page)][1] == page[-1][1]:
            page.append(events[len(page)])     # never split one sequence number over two pages
        cursor = page[-1][1] if page else after
        orders = [{**o, "lines": [dict(line) for line in o["lines"]]} for kind, _, o in page if kind == "order"]
        cancellations = [dict(c) for kind, _, c in page if kind == "cancel"]
        return {"orders": orders, "cancellations": cancellations, "cursor": str(cursor),
                "more": len(events) > len(page)}

    @staticmethod
    def _push_quantities(doc: dict, payload: dict) -> dict:
        results = []
        at = _now_iso()
        for update in payload["updates"]:       # [listing id, quantity] or [listing id, quantity, location]
            listing_id, quantity, location = (list(update) + [None])[:3]
            listing = doc["listings"].get(listing_id)
            if listing is None or listing["removed"]:
                results.append({"listing_id": listing_id, "ok": False, "error": "listing not found"})
                continue
            if not isinstance(quantity, int) or quantity < 0:
                results.append({"listing_id": listing_id, "ok": False, "error": f"invalid quantity {quantity!r}"})
                continue
            located = listing.get("locations") or {}
            if (location is None) != (not located) or (location is not None and location not in located):
                where = f"at location {location!r}" if location is not None else "without a location"
                results.append({"listing_id": listing_id, "ok": False, "error": f"listing is not stocked {where} "
                                f"(its locations: {', '.join(sorted(located)) or 'none'})"})
                continue
            target = located[location] if location is not None else listing
            target["pushed"] = quantity
            target["pushes"] = target.get("pushes", 0) + 1
            doc["history"].append({"listing_id": listing_id, "quantity": quantity, "at": at,
                                   **({"location": location} if location is not None else {})})
            results.append({"listing_id": listing_id, "ok": True, "error": None})
        del doc["history"][:-HISTORY_LIMIT]
        return {"results": results}

    # --- what a buyer, a seller or the marketplace does ----------------------------------------------

    def add_listing(self, listing_id: str, sku: str, quantity: int, *, size: str | None = None,
                    title: str | None = None, locations: tuple[str, ...] = ()) -> dict:
        """Create or replace a listing (it shows as new to the next incremental sync); stocked at each of
        `locations` (each showing `quantity` until pushed), or at the marketplace's one location."""
        return self.add_listings([(listing_id, sku, quantity, size, title)], locations=locations)[0]

    def add_listings(self, listings: list[tuple[str, str, int, str | None, str | None]], *,
                     locations: tuple[str, ...] = ()) -> list[dict]:
        """Create or replace many listings at once: (listing_id, sku, quantity, size, title) each."""
        for listing_id, _, quantity, _, _ in listings:
            if quantity < 0:
                raise SandboxRequestError(f"listing {listing_id}: quantity {quantity} is negative")
        for location in locations:
            if not str(location).strip():
                raise SandboxRequestError("a location id is not empty")
        added = []
        with self.state.change() as doc:
            for listing_id, sku, quantity, size, title in listings:
                doc["seq"] += 1
                listing = {"listing_id": listing_id, "sku": sku, "size": size, "title": title, "quantity": quantity,
                           "seq": doc["seq"], "removed": False, "pushed": None, "pushes": 0}
                if locations:
                    listing["locations"] = {str(loc): {"quantity": quantity, "pushed": None, "pushes": 0}
                                            for loc in locations}
                doc["listings"][listing_id] = listing
                added.append(dict(listing))
        return added

    def remove_listing(self, listing_id: str) -> None:
        """Take a listing off the marketplace (sold out for good or deleted by the seller)."""
        with self.state.change() as doc:
            listing = doc["listings"].get(listing_id)
            if listing is None or listing["removed"]:
                raise SandboxRequestError(f"no listing {listing_id!r} on this sandbox")
            listing["removed"] = True

    def place_order(self, order_id: str, lines: list[tuple[str, int]], *, placed_at: datetime | None = None,
                    pending: bool = False) -> dict:
        """A buyer orders `lines` ((sku, quantity) pairs); paid at once unless `pending`."""
        if not lines:
            raise SandboxRequestError("an order needs at least one SKU:QTY line")
        for sku, quantity in lines:
            if quantity <= 0:
                raise SandboxRequestError(f"line {sku}:{quantity}: the quantity must be 1 or more")
        placed = (placed_at or datetime.now(UTC)).isoformat()
        with self.state.change() as doc:
            if order_id in doc["orders"]:
                raise SandboxRequestError(f"order {order_id!r} already exists on this sandbox")
            doc["seq"] += 1
            order = {"order_id": order_id, "placed_at": placed, "status": "pending" if pending else "accepted",
                     "accepted_at": None if pending else placed, "seq": doc["seq"],
                     "lines": [{"line_id": str(n), "sku": sku, "quantity": qty, "cancelled": False}
                               for n, (sku, qty) in enumerate(lines, start=1)]}
            doc["orders"][order_id] = order
            return order

    def accept_order(self, order_id: str) -> dict:
        """The buyer paid: a pending order becomes accepted."""
        with self.state.change() as doc:
            order = self._order(doc, order_id)
            if order["status"] != "pending":
                raise SandboxRequestError(f"order {order_id!r} is {order['status']}, not pending")
            doc["seq"] += 1
            order.update(status="accepted", accepted_at=_now_iso(), seq=doc["seq"])
            return order

    def cancel_order(self, order_id: str, *, reason: str | None = None, at: datetime | None = None,
                     line_ids: list[str] | None = None) -> dict:
        """Cancel the whole order, or only `line_ids`, on the marketplace, with its own reason text."""
        with self.state.change() as doc:
            order = self._order(doc, order_id)
            open_lines = [line["line_id"] for line in order["lines"] if not line["cancelled"]]
            wanted = line_ids or open_lines
            unknown = [l for l in wanted if l not in {line["line_id"] for line in order["lines"]}]
            if unknown:
                raise SandboxRequestError(f"order {order_id!r} has no line {unknown[0]!r} "
                                          f"(lines: {', '.join(l['line_id'] for l in order['lines'])})")
            if not set(wanted) & set(open_lines):
                raise SandboxRequestError(f"order {order_id!r}: nothing left to cancel")
            doc["seq"] += 1
            for line in order["lines"]:
                if line["line_id"] in wanted:
                    line["cancelled"] = True
            if all(line["cancelled"] for line in order["lines"]):
                order["status"] = "cancelled"
            order["seq"] = doc["seq"]
            cancellation = {"seq": doc["seq"], "order_id": order_id, "reason": reason,
                            "cancelled_at": (at or datetime.now(UTC)).isoformat(),
                            "line_ids": None if line_ids is None else sorted(set(wanted) & set(open_lines))}
            doc["cancellations"].append(cancellation)
            return cancellation

    def fail_next(self, calls: int, *, timeout: bool = False, all_calls: bool = False) -> None:
        """Make the next `calls` pushes (or every kind of call) fail, or time out after being applied."""
        if calls < 0:
            raise SandboxRequestError(f"number of calls {calls} is negative")
        with self.state.change() as doc:
            doc["fail"] = {"remaining": calls, "timeout": timeout, "all_calls": all_calls}

    def show(self) -> dict:
        """What the marketplace holds: listings with the quantity they show, orders, received quantities."""
        doc = self.state.read()
        listings = [{"listing_id": l["listing_id"], "sku": l["sku"], "size": l["size"], "title": l["title"],
                     "quantity": l["quantity"] if l["pushed"] is None else l["pushed"],
                     "pushes": l.get("pushes", 0),
                     **({"locations": {loc: {"quantity": at["quantity"] if at["pushed"] is None else at["pushed"],
                                             "pushes": at["pushes"]} for loc, at in sorted(l["locations"].items())}}
                        if l.get("locations") else {})}
                    for l in sorted(doc["listings"].values(), key=lambda l: l["seq"]) if not l["removed"]]
        orders = [{"order_id": o["order_id"], "placed_at": o["placed_at"], "status": o["status"],
                   "lines": [{k: line[k] for k in ("line_id", "sku", "quantity", "cancelled")} for line in o["lines"]],
                   "cancellations": [{k: c[k] for k in ("cancelled_at", "reason", "line_ids")}
                                     for c in doc["cancellations"] if c["order_id"] == o["order_id"]]}
                  for o in doc["orders"].values()]
        return {"marketplace": doc.get("marketplace", self.marketplace), "listings": listings, "orders": orders,
                "history": doc["history"], "failing_calls": doc["fail"]["remaining"]}

    @staticmethod
    def _order(doc: dict, order_id: str) -> dict:
        if order_id not in doc["orders"]:
            raise SandboxRequestError(f"no order {order_id!r} on this sandbox")
        return doc["orders"][order_id]
