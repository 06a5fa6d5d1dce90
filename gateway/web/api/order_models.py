"""Models of `/api/v1/orders`: the list (`stockgate orders --json`), one order explained (`orders explain
--json`) and a StockGate cancellation's body and outcome (`orders cancel --json`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class OrderSummary(BaseModel):
    channel: str
    order_id: str
    placed_at: str | None
    status: str
    accepted_at: str | None
    cancelled_at: str | None
    lines: int
    open_lines: int
    units: int
    taken: int
    restored: int
    oversold: int


class OrderList(BaseModel):
    orders: list[OrderSummary]
    total: int


class Allocation(BaseModel):
    warehouse: str
    units: int
    restored_units: int


class LineCancellation(BaseModel):
    cancelled_at: str | None
    where: str | None
    reason: str | None
    by: str | None = None           # who cancelled, where the marketplace says (buyer, seller, marketplace)
    restore: bool | None
    rule: str | None
    reason_verdict: str | None
    explanation: str | None


class OrderLine(BaseModel):
    line_id: str
    sku: str
    quantity: int
    oversold: int
    status: str
    allocations: list[Allocation]
    cancellation: LineCancellation | None


class RefusedCancellation(BaseModel):
    cancelled_at: str | None
    where: str | None
    reason: str | None
    lines: list[str] | None
    message: str
    recorded_at: str | None


class CancelOptions(BaseModel):
    """Whether cancelling the order in StockGate also cancels it on the marketplace (`possible`, else
    `why` not), the reason codes the marketplace accepts, and the one each choice sends by default."""

    possible: bool
    why: str | None = None
    reasons: list[str] = []
    defaults: dict[str, str] = {}


class OrderExplained(BaseModel):
    """An order with its lines, allocations per warehouse, cancellations and `summary` in sentences."""

    channel: str
    marketplace: str
    restore_policy: str
    order_id: str
    placed_at: str | None
    status: str
    accepted_at: str | None
    cancelled_at: str | None
    oversold: int
    lines: list[OrderLine]
    refused_cancellations: list[RefusedCancellation]
    summary: list[str]
    marketplace_cancel: CancelOptions | None = None   # what a cancel would do on the marketplace


class CancelBody(BaseModel):
    """`choice`: restore the units taken, or keep stock as it is; `lines`: only these (default every open one)."""

    choice: Literal["restore", "keep"]
    lines: list[str] | None = Field(None, max_length=1000)
    reason: str | None = Field(None, max_length=500)
    marketplace_reason: str | None = Field(None, max_length=100)   # the code sent to the marketplace
    here_only: bool = False                                         # do not cancel on the marketplace


class MarketplaceCancel(BaseModel):
    """What was done on the marketplace before StockGate recorded the cancellation."""

    cancelled: bool
    message: str
    reason: str | None = None
    lines: list[str] = []


class Moved(BaseModel):
    line_id: str
    sku: str
    warehouse: str
    units: int


class CancelResult(BaseModel):
    """`stockgate orders cancel --json`."""

    channel: str
    order_id: str
    cancelled_lines: list[str]
    already_cancelled: list[str]
    restore: bool | None
    rule: str | None
    reason_verdict: str | None
    explanation: str | None
    restored: list[Moved]
    order_status: str
    refused: str | None
    changed: bool
    marketplace: MarketplaceCancel | None = None
