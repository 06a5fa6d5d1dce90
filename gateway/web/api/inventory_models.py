"""The API's inventory and listings shapes: an item page, a ledger page, a listing, a channel job's
result, and the bodies of the actions (set, adjust, link, unlink, mark). The fields are those of
`stockgate stock|ledger|listings|channels ... --json`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from gateway.core.ledger import NOTE_MAX_LENGTH
from gateway.web.api.models import StockItem


class TitledItem(StockItem):
    """A SKU with its title (None until a file or a listing names one)."""

    title: str | None


class StockPage(BaseModel):
    """Items in SKU order; continue with `?after=next_after` (or back with `?before=prev_before`)."""

    items: list[TitledItem]
    warehouses: list[str]
    next_after: str | None
    prev_before: str | None


class Level(BaseModel):
    warehouse: str
    name: str
    sellable: bool
    on_hand: int | None = Field(description="None: the item has no level in this warehouse")


class Listing(BaseModel):
    """A listing as `stockgate listings --json` shows it."""

    channel: str
    listing_id: str
    location: str | None = Field(None, description="the marketplace location it is stocked at (a Walmart "
                                 "ship node, a Shopify location id); null: the channel's one default location")
    sku: str
    size: str | None
    item: str | None
    link: Literal["linked", "unlinked"]
    link_reason: str | None
    status: Literal["active", "missing", "sold", "deleted"]
    channel_quantity: int | None
    last_pushed_quantity: int | None
    last_pushed_at: str | None
    last_push_error: str | None
    pending_quantity: int | None
    push_attempts: int


class ItemDetail(TitledItem):
    """One item: every warehouse's level, its listings on every channel, how many ledger entries."""

    size: str | None
    created_at: str | None
    levels: list[Level]
    listings: list[Listing]
    ledger_entries: int


class LedgerEntry(BaseModel):
    """One ledger entry (`stockgate ledger --json`)."""

    id: int
    at: str
    sku: str
    warehouse: str
    delta: int
    on_hand_after: int
    cause: str
    file_id: str | None
    row: int | None
    reference: str | None
    note: str | None


class LedgerPage(BaseModel):
    """Entries newest first; continue with `?before=next_before`."""

    entries: list[LedgerEntry]
    next_before: int | None


class SetBody(BaseModel):
    warehouse: str = Field(max_length=32)
    quantity: int = Field(ge=0, le=2_000_000_000)
    note: str | None = Field(None, max_length=NOTE_MAX_LENGTH)


class AdjustBody(BaseModel):
    warehouse: str = Field(max_length=32)
    delta: int = Field(ge=-2_000_000_000, le=2_000_000_000)
    note: str | None = Field(None, max_length=NOTE_MAX_LENGTH)


class StockChangeResult(BaseModel):
    """What a manual edit did: the level before and after (equal, `changed` false, when it had that figure)."""

    sku: str
    warehouse: str
    before: int
    after: int
    changed: bool
    item: ItemDetail


class ListingsPage(BaseModel):
    """Listings by (channel, listing id); continue with `?after_channel=&after_listing=` from `next_after`."""

    listings: list[Listing]
    next_after: tuple[str, str] | None


class ListingRef(BaseModel):
    channel: str = Field(max_length=100)
    listing_id: str = Field(max_length=200)
    location: str | None = Field(None, max_length=200, description="the marketplace location, for a listing id "
                                 "stocked at several (a channel with `locations`)")


class LinkBody(ListingRef):
    sku: str = Field(max_length=200)


class MarkBody(BaseModel):
    status: Literal["sold", "deleted"]
    listings: list[ListingRef] = Field(min_length=1, max_length=1000)


class MarkResult(BaseModel):
    listings: list[Listing]


class JobResult(BaseModel):
    """A channel job run now: `outcome` is what `stockgate channels sync|push NAME --json` prints."""

    job: Literal["listings", "orders", "push"]
    channel: str
    ok: bool
    outcome: dict | None
    error: str | None


class Refusal(BaseModel):
    """An action refused: `detail` says why; `code` names a listing rule (SIZE_MISMATCH, ...) when one did."""

    detail: str
    code: str | None = None
