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
    location: str | None = None     # the marketplace location it is stocked at (None: the default one)


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


class LocatedChannelAdapter(ChannelAdapter, Protocol):
    """An adapter for a marketplace with several stock locations (Walmart ship nodes, Shopify locations):
    what a channel with `locations` needs (docs/channels.md "Several locations"). The gateway discovers
    `push_location_quantities` with getattr, so an adapter without it keeps working for channels without
    `locations`; one with it may still be used without them (everything goes to `push_quantities`).

    - `list_listings` reports a listing once per location it is stocked at, `RemoteListing.location` set to
      the marketplace's location id exactly as the channel's `locations` keys name it (the same listing id
      may appear at several locations; each is its own listing in StockGate, pushed and retried alone).
    - `push_quantities` keeps meaning the channel's one default location.
    """

    def push_location_quantities(self, location: str, updates: Sequence[tuple[str, int]]) -> list[PushResult]:
        """Set each listing's quantity at marketplace location `location` (a key of the channel's
        `locations`); one result per listing, in the order given, as `push_quantities`. Called once per
        location with due pushes; a failure of the whole call fails only that location's listings."""


class CancellingChannelAdapter(ChannelAdapter, Protocol):
    """An adapter for a marketplace whose API lets a seller cancel an order from StockGate (Walmart,
    Shopify, eBay). The gateway discovers `cancel_order` with getattr; an adapter without it says why in
    `cancel_refusal` where it can (Amazon's SP-API has no such call)."""

    cancel_reasons: tuple[str, ...]   # the reason codes `cancel_order` accepts, as the order page offers them

    def cancel_order(self, order_id: str, lines: Sequence[tuple[str, int]], reason: str) -> None:
        """Cancel the order's `lines` (line id, quantity) on the marketplace with `reason`, one of
        `cancel_reasons`; a refusal raises a ChannelError and nothing is cancelled there."""


def results_for_all(updates: Sequence[tuple[str, int]], error: str, *, retryable: bool) -> list[PushResult]:
    """The same failure for every listing of a call that failed as a whole."""
    return [PushResult(listing_id, False, error, retryable) for listing_id, _ in updates]
