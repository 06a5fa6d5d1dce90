"""Read a feed channel's order file (CSV) into orders and cancellations, all of it or none of it.

Columns (header names ignore case, spaces and underscores): `order_id`, `sku`, `qty` (or `quantity`),
`placed_at` required; `status` (`accepted` (default), `pending`, `cancelled`), `cancel_reason`,
`cancelled_at`, `line_id` (default: the SKU) optional. Several rows of one order are its lines; rows with
status `cancelled` cancel those lines, and only those (a file that cancels every line it lists cancels
the whole order only when those are all of the order's lines).
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import UTC, datetime

from channels.model import CancellationData, OrderData, OrderLineData, read_time

REQUIRED = ("order_id", "sku", "qty", "placed_at")
ALIASES = {"quantity": "qty", "orderid": "order_id", "placedat": "placed_at", "cancelreason": "cancel_reason",
           "cancelledat": "cancelled_at", "canceledat": "cancelled_at", "lineid": "line_id"}
STATUSES = {"accepted": "accepted", "paid": "accepted", "pending": "pending", "cancelled": "cancelled",
            "canceled": "cancelled"}


class OrderFileError(ValueError):
    """An order file that cannot be read as a whole (its message names file, row, column and value)."""


def _column(header: str) -> str:
    key = re.sub(r"[\s_-]", "", header.strip().lower())
    return ALIASES.get(key, key)


def _time(value: str, name: str, row: int, column: str) -> datetime:
    try:
        return read_time(value, column)
    except ValueError:
        raise OrderFileError(f"{name}: row {row}: column {column}: {value!r} is not an ISO-8601 time") from None


def parse_order_file(data: bytes, name: str) -> tuple[list[OrderData], list[CancellationData]]:
    """Orders and cancellations of one order file; OrderFileError for the first problem found."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OrderFileError(f"{name}: not UTF-8 text (byte {exc.start})") from exc
    reader = csv.reader(io.StringIO(text))
    header = [_column(h) for h in next(reader, [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise OrderFileError(f"{name}: row 1: missing column(s) {', '.join(missing)} (found: {', '.join(header)})")
    rows_by_order: dict[str, list[dict]] = defaultdict(list)
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        row = {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)}
        for column in REQUIRED:
            if not row[column]:
                raise OrderFileError(f"{name}: row {number}: column {column} is empty")
        if not row["qty"].isdigit() or int(row["qty"]) == 0:
            raise OrderFileError(f"{name}: row {number}: column qty: {row['qty']!r} is not a whole number of 1 or more")
        status = STATUSES.get((row.get("status") or "accepted").lower())
        if status is None:
            raise OrderFileError(f"{name}: row {number}: column status: {row['status']!r} is not one of "
                                 "accepted, pending, cancelled")
        row.update(number=number, status=status, placed=_time(row["placed_at"], name, number, "placed_at"),
                   line_id=row.get("line_id") or row["sku"])
        if row.get("cancelled_at"):
            row["cancelled"] = _time(row["cancelled_at"], name, number, "cancelled_at")
        rows_by_order[row["order_id"]].append(row)
    orders, cancellations = [], []
    for order_id, rows in rows_by_order.items():
        line_ids = [r["line_id"] for r in rows]
        duplicate = next((l for l in line_ids if line_ids.count(l) > 1), None)
        if duplicate is not None:
            raise OrderFileError(f"{name}: row {rows[-1]['number']}: order {order_id!r} has line {duplicate!r} twice "
                                 "(add a line_id column to tell its lines apart)")
        statuses = {r["status"] for r in rows}
        status = "cancelled" if statuses == {"cancelled"} else "pending" if statuses - {"cancelled"} == {"pending"} \
            else "accepted"
        lines = tuple(OrderLineData(r["line_id"], r["sku"], int(r["qty"])) for r in rows)
        orders.append(OrderData(order_id, min(r["placed"] for r in rows), status, lines))
        cancelled = [r for r in rows if r["status"] == "cancelled"]
        if cancelled:
            reason = next((r["cancel_reason"] for r in cancelled if r.get("cancel_reason")), None)
            at = min((r["cancelled"] for r in cancelled if "cancelled" in r), default=datetime.now(UTC))
            # the file's cancelled rows are the lines cancelled: other lines of the order stay as they are
            cancellations.append(CancellationData(order_id, at, "marketplace", reason,
                                                  tuple(r["line_id"] for r in cancelled)))
    return orders, cancellations
