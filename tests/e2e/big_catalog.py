"""A big catalog in a real database, made set-based (one INSERT ... SELECT each for items and levels, no
row through Python): for the serve start-up test and bench/serve_start.py."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, bindparam, text

from gateway.db.engine import make_database


def insert_catalog(database_url: str, skus: int, warehouse: str = "MF", on_hand: int = 5) -> None:
    """Items `SKU-1` ... `SKU-<skus>`, each with `on_hand` units in `warehouse` (SQLite or PostgreSQL)."""
    db = make_database(database_url)
    now = bindparam("now", datetime.now(UTC), type_=DateTime(timezone=True))
    try:
        with db.write() as conn:
            conn.execute(text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
                              "INSERT INTO items (sku, created_at) SELECT 'SKU-' || i, :now FROM n")
                         .bindparams(now, count=skus))
            conn.execute(text("INSERT INTO stock_levels (item_id, warehouse_id, on_hand, updated_at) "
                              "SELECT items.id, warehouses.id, :on_hand, :now FROM items, warehouses "
                              "WHERE warehouses.code = :warehouse")
                         .bindparams(now, on_hand=on_hand, warehouse=warehouse))
    finally:
        db.dispose()
