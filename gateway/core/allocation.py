"""Order allocation: which warehouses give the units of an accepted order line.

Sellable warehouses give in priority order (lowest first, ties by code), each what it holds; the rest
is recorded as oversold. Pure values only: the caller reads stock levels and writes the ledger.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

LineId = TypeVar("LineId", bound=Hashable)


@dataclass(frozen=True)
class SourceStock:
    """What one warehouse holds of one SKU, with the warehouse's allocation settings."""

    warehouse: str
    priority: int
    sellable: bool
    on_hand: int


@dataclass(frozen=True)
class Allocation:
    """Units taken per warehouse, in the order they were taken, and the units nobody could give."""

    parts: tuple[tuple[str, int], ...]
    oversold: int

    @property
    def allocated(self) -> int:
        """Units actually taken from warehouses."""
        return sum(units for _, units in self.parts)

    @property
    def quantity(self) -> int:
        """Units the line asked for: allocated plus oversold."""
        return self.allocated + self.oversold


def _check_quantity(quantity: int, what: str) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise TypeError(f"{what} must be a whole number of units, got {quantity!r}")
    if quantity < 0:
        raise ValueError(f"{what} must not be negative, got {quantity}")


def _giving_order(sources: Sequence[SourceStock]) -> list[SourceStock]:
    """Sellable sources in the order they give: priority, then warehouse code."""
    seen: set[str] = set()
    for source in sources:
        if source.warehouse in seen:
            raise ValueError(f"warehouse {source.warehouse!r} is listed twice for one SKU")
        seen.add(source.warehouse)
        _check_quantity(source.on_hand, f"on_hand of warehouse {source.warehouse!r}")
    sellable = [source for source in sources if source.sellable]
    return sorted(sellable, key=lambda source: (source.priority, source.warehouse))


def allocate(quantity: int, sources: Sequence[SourceStock]) -> Allocation:
    """Take `quantity` units from the sellable `sources` by priority; the shortfall is oversold.

    Non-sellable warehouses never give. A warehouse with nothing on hand is skipped and does not
    appear in the parts.
    """
    _check_quantity(quantity, "ordered quantity")
    remaining = quantity
    parts: list[tuple[str, int]] = []
    for source in _giving_order(sources):
        if remaining == 0:
            break
        units = min(remaining, source.on_hand)
        if units > 0:
            parts.append((source.warehouse, units))
            remaining -= units
    return Allocation(parts=tuple(parts), oversold=remaining)


def allocate_lines(
    lines: Sequence[tuple[LineId, str, int]],
    stock_by_sku: Mapping[str, Sequence[SourceStock]],
) -> dict[LineId, Allocation]:
    """Allocate several order lines, `(line_id, sku, quantity)`, against shared stock.

    Lines are served in the order given; a later line of the same SKU sees what earlier lines left.
    A SKU absent from `stock_by_sku` has no stock, so its line is wholly oversold. The result keeps
    the order of `lines`.
    """
    left: dict[str, list[SourceStock]] = {
        sku: list(sources) for sku, sources in stock_by_sku.items()
    }
    allocations: dict[LineId, Allocation] = {}
    for line_id, sku, quantity in lines:
        if line_id in allocations:
            raise ValueError(f"order line {line_id!r} appears twice")
        sources = left.get(sku, [])
        allocation = allocate(quantity, sources)
        taken = dict(allocation.parts)
        left[sku] = [
            SourceStock(s.warehouse, s.priority, s.sellable, s.on_hand - taken.get(s.warehouse, 0))
            for s in sources
        ]
        allocations[line_id] = allocation
    return allocations
