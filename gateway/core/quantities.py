"""Sellable quantities: what is available, and what each channel is shown."""

from __future__ import annotations

from collections.abc import Iterable


def available_quantity(levels: Iterable[tuple[int, bool]]) -> int:
    """Sum of on_hand over sellable warehouses; `levels` holds (on_hand, sellable) pairs."""
    return sum(on_hand for on_hand, sellable in levels if sellable)


def channel_quantity(available: int, buffer: int = 0, max_qty: int = 0) -> int:
    """The quantity a channel is pushed: available minus the buffer, never below 0, capped by max_qty
    (0 means no cap)."""
    quantity = max(available - buffer, 0)
    if max_qty > 0:
        quantity = min(quantity, max_qty)
    return quantity
