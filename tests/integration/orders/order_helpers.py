"""Helpers for the order service tests: building orders and reading what stock looks like afterwards."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from gateway.db import schema
from gateway.orders import OrderData, OrderLineData
from gateway.stock import ledger_sums, stock_view

PLACED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def order(order_id: str, status: str = "accepted", *lines: tuple[str, str, int], placed_at: datetime = PLACED) -> OrderData:
    """An order with lines given as (line_id, sku, quantity)."""
    return OrderData(order_id, placed_at, status, tuple(OrderLineData(*line) for line in lines))


def on_hand(conn, sku: str) -> dict[str, int]:
    """On-hand quantity of `sku` per warehouse code."""
    found = stock_view(conn, [sku])
    return found[0]["warehouses"] if found else {}


def levels_equal_ledger(conn) -> bool:
    """The ledger invariant: every level equals the sum of its ledger entries."""
    s = schema.stock_levels.c
    levels = {(r.item_id, r.warehouse_id): r.on_hand for r in conn.execute(select(s.item_id, s.warehouse_id, s.on_hand))}
    sums = ledger_sums(conn)
    return {k: v for k, v in levels.items() if v or k in sums} == sums
