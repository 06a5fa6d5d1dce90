"""Stock: levels and their ledger in the database, the one place a level changes (`levels`), item titles
from files and listings (`titles`), and the Quantity Update template that shows them (`template`). The
levels' functions are importable from here.
"""

from gateway.stock.levels import (
    WarehouseRow, adjust_stock, apply_file_diff, apply_stock_changes, catalog_ids, ensure_items, find_warehouse,
    item_ids, iter_stock_view, ledger_sums, ledger_view, read_warehouse_levels, set_stock, skus_of, stock_view,
    warehouse_id, warehouses,
)
from gateway.stock.levels import apply_zeroing

__all__ = [
    "WarehouseRow", "adjust_stock", "apply_file_diff", "apply_stock_changes", "catalog_ids", "ensure_items",
    "find_warehouse", "item_ids", "iter_stock_view", "ledger_sums", "ledger_view", "read_warehouse_levels",
    "set_stock", "skus_of", "stock_view", "warehouse_id", "warehouses", "apply_zeroing",
]
