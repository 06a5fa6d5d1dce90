"""The channel adapter protocol: what StockGate asks of a marketplace, and the pages and results it answers with.

Adapters take their transport as an argument, so tests hand them a plain function instead of the network;
what they raise is in `channels.errors`, the orders they hand over in `channels.model`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels.model import CancellationData, OrderData

# A transport takes an operation name and its payload and returns the marketplace's answer.
Transport = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class RemoteListing:
    """One listing as the channel shows it."""

    listing_id: str
    sku: str
    size: str | None = None
    quantity: int | None = None
    title: str | None = None


@dataclass(frozen=True)
class ListingPage:
    """Listings from one call; `cursor` resumes after them, `more` says another page waits."""

    listings: list[RemoteListing]
    cursor: str | None
    more: bool = False


@dataclass(frozen=True)
class OrderPage:
    """Orders and cancellations since a cursor; `cursor` is stored in the same transaction as they are."""

    orders: list[OrderData]
    cancellations: list[CancellationData]
    cursor: str | None
    more: bool = False
    receipt: Any = field(default=None, compare=False)   # adapter's own note for `orders_committed`


@dataclass(frozen=True)
class PushResult:
    """The outcome of pushing one listing's quantity."""

    listing_id: str
    ok: bool
    error: str | None = None
    retryable: bool = False


@dataclass(frozen=True)
class CheckResult:
    """One step of `stockgate channels check`: what was tried, whether it worked, and what to fix if not."""

    step: str
    ok: bool
    detail: str


class ChannelAdapter(Protocol):
    """What every channel adapter offers (one module per marketplace, built from settings by
    `gateway.channel_sync.adapters`)."""

    name: str

    def list_listings(self, cursor: str | None, full: bool) -> ListingPage:
        """Listings after `cursor` (incremental), or every listing from the start when `full`."""

    def fetch_orders(self, cursor: str | None) -> OrderPage:
        """Orders and cancellations that happened after `cursor`."""

    def orders_committed(self, page: OrderPage) -> None:
        """Called once `page` and its cursor are committed: the adapter may now acknowledge them."""

    def push_quantities(self, updates: Sequence[tuple[str, int]]) -> list[PushResult]:
        """Set each listing's quantity; one result per listing, in the order given."""


def results_for_all(updates: Sequence[tuple[str, int]], error: str, *, retryable: bool) -> list[PushResult]:
    """The same failure for every listing of a call that failed as a whole."""
    return [PushResult(listing_id, False, error, retryable) for listing_id, _ in updates]
