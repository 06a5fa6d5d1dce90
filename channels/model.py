"""What an adapter hands StockGate's order services: orders, their lines and cancellations, as the
marketplace reports them, and the reading of the times they carry (ISO-8601, UTC).

The order services check every value before a row is written (`gateway.orders.model`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class OrderLineData:
    """One line of a marketplace order."""

    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class OrderData:
    """An order as the marketplace reports it; `status` is pending, accepted (paid) or cancelled."""

    order_id: str
    placed_at: datetime
    status: str
    lines: tuple[OrderLineData, ...]


@dataclass(frozen=True)
class CancellationData:
    """A cancellation of a whole order (`line_ids` None) or of some of its lines.

    `where` is "marketplace" or "stockgate"; `choice` ("restore" or "keep") is the operator's and is
    required when where == "stockgate"; `reason` is in the marketplace's own words or API code;
    `cancelled_by` (buyer, seller or marketplace) where the marketplace says who cancelled.
    """

    order_id: str
    cancelled_at: datetime
    where: str
    reason: str | None = None
    line_ids: tuple[str, ...] | None = None
    choice: str | None = None
    cancelled_by: str | None = None


def read_time(text: str, what: str = "time") -> datetime:
    """An ISO-8601 time from a marketplace as aware UTC (naive means UTC); ValueError naming the value."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{what} {text!r} is not an ISO-8601 time (e.g. 2026-11-26T08:30:00Z)") from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
