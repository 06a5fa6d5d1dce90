"""The checks of what a channel hands the order services (`channels.model`), and what the services hand back.

Input values are checked here, before any row is written; a bad value raises UsageError naming the
channel, order, line and value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from channels.model import CancellationData, OrderData, OrderLineData
from gateway.core.skus import clean_sku
from gateway.errors import UsageError
from parsers.issues import QUANTITY_LIMIT

ORDER_STATUSES = ("pending", "accepted", "cancelled")
CANCEL_PLACES = ("marketplace", "stockgate")
CHOICES = ("restore", "keep")
CANCELLED_BY = ("buyer", "seller", "marketplace")
ID_MAX_LENGTH = 100


@dataclass(frozen=True)
class MovedUnits:
    """Units of one order line taken from (or given back to) one warehouse."""

    line_id: str
    sku: str
    warehouse: str
    units: int


@dataclass(frozen=True)
class OrderOutcome:
    """What recording one delivery of an order did.

    `needs_cancellation` is True when the marketplace reports cancelled an order that holds stock:
    record_order leaves it to record_cancellation, which knows the reason and the time.
    """

    channel: str
    order_id: str
    created: bool
    previous_status: str | None
    status: str
    taken: tuple[MovedUnits, ...] = ()
    oversold: int = 0
    needs_cancellation: bool = False

    @property
    def changed(self) -> bool:
        """Whether this delivery changed anything at all (a re-delivery does not)."""
        return self.created or self.status != self.previous_status or bool(self.taken) or bool(self.oversold)


@dataclass(frozen=True)
class CancelOutcome:
    """What recording one cancellation did: the lines it cancelled, the decision, the units given back."""

    channel: str
    order_id: str
    cancelled_lines: tuple[str, ...]
    already_cancelled: tuple[str, ...]
    restore: bool | None
    rule: str | None
    reason_verdict: str | None
    explanation: str | None
    restored: tuple[MovedUnits, ...]
    order_status: str
    refused: str | None = None          # why the cancellation was refused (the order is kept as it was)

    @property
    def changed(self) -> bool:
        """Whether any line was cancelled now (a repeated cancellation changes nothing)."""
        return bool(self.cancelled_lines)


def check_id(value: object, what: str) -> str:
    """An order or line id: text of 1-100 characters after trimming."""
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{what} {value!r} must be non-empty text")
    value = value.strip()
    if len(value) > ID_MAX_LENGTH:
        raise UsageError(f"{what} {value[:20]!r}... is longer than {ID_MAX_LENGTH} characters")
    return value


def check_time(value: object, what: str) -> datetime:
    """A datetime (naive is read as UTC by the callers)."""
    if not isinstance(value, datetime):
        raise UsageError(f"{what} must be a date and time, got {value!r}")
    return value


def checked_lines(channel: str, order: OrderData) -> list[OrderLineData]:
    """The order's lines with trimmed ids and SKUs; UsageError naming the first bad value."""
    where = f"channel {channel!r} order {order.order_id!r}"
    if order.status not in ORDER_STATUSES:
        raise UsageError(f"{where}: status {order.status!r} is not one of {', '.join(ORDER_STATUSES)}")
    check_time(order.placed_at, f"{where}: placed_at")
    if not order.lines:
        raise UsageError(f"{where} has no lines")
    lines, seen = [], set()
    for line in order.lines:
        line_id = check_id(line.line_id, f"{where}: line id")
        if line_id in seen:
            raise UsageError(f"{where}: line {line_id!r} appears twice")
        seen.add(line_id)
        try:
            sku = clean_sku(line.sku) if isinstance(line.sku, str) else clean_sku("")
        except ValueError as exc:
            raise UsageError(f"{where} line {line_id!r}: {exc} (got {line.sku!r})") from None
        quantity = line.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise UsageError(f"{where} line {line_id!r}: quantity {quantity!r} is not a whole number >= 0")
        if quantity > QUANTITY_LIMIT:
            raise UsageError(f"{where} line {line_id!r}: quantity {quantity:,} is above the limit of {QUANTITY_LIMIT:,}")
        lines.append(OrderLineData(line_id, sku, quantity))
    return lines


def check_cancellation(channel: str, cancellation: CancellationData) -> None:
    """Refuse a cancellation whose place, choice, time or line ids are not usable."""
    where = f"channel {channel!r} order {cancellation.order_id!r}"
    check_time(cancellation.cancelled_at, f"{where}: cancelled_at")
    if cancellation.where not in CANCEL_PLACES:
        raise UsageError(f"{where}: cancelled where {cancellation.where!r}? (marketplace or stockgate)")
    if cancellation.cancelled_by not in (None, *CANCELLED_BY):
        raise UsageError(f"{where}: cancelled by {cancellation.cancelled_by!r}? (buyer, seller or marketplace)")
    if cancellation.choice not in (None, *CHOICES):
        raise UsageError(f"{where}: choice {cancellation.choice!r} is not 'restore' or 'keep'")
    if cancellation.line_ids is not None:
        if not cancellation.line_ids:
            raise UsageError(f"{where}: an empty list of lines cancels nothing (give None for every line)")
        for line_id in cancellation.line_ids:
            check_id(line_id, f"{where}: line id")
