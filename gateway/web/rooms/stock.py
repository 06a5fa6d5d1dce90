"""Inventory (`/stock`): SKU, title, on hand per warehouse and available, a search of SKU and title, pages
along the SKU index (keyset: as quick at the millionth SKU as at the first), the CSV export of every
matching item (`/stock.csv`). Each SKU opens its item page (`rooms/items.py`); the Quantity Update
template is `rooms/templates.py`."""

from __future__ import annotations

import tempfile

from fastapi import Depends, Request

from gateway.db.engine import Database
from gateway.stock.inventory import stock_page
from gateway.web import queries
from gateway.web.deps import get_db, require_role, room_router
from gateway.web.downloads import file_attachment
from gateway.web.templating import number, render, url

router = room_router(dependencies=[Depends(require_role("viewer"))])
PER_PAGE = 50


@router.get("/stock")
def stock(request: Request, q: str = "", after: str = "", before: str = "", db: Database = Depends(get_db)):
    """A page of items whose SKU or title holds `q`, from a SKU on (`after`) or up to one (`before`)."""
    search = q.strip()[:100]
    with db.read() as conn:
        page = stock_page(conn, search=search, after=after[:100] or None,
                          before=None if after else before[:100] or None, limit=PER_PAGE)
    rows = [[("link", url("/item", {"sku": item["sku"]}), item["sku"]), item["title"] or "",
             *[number(item["warehouses"].get(code, "")) for code in page.warehouses], number(item["available"])]
            for item in page.items]
    return render(request, "stock/index.html", title="Inventory", active="/stock", search=search,
                  codes=page.warehouses, rows=rows, numeric=tuple(range(2, len(page.warehouses) + 3)),
                  next_after=page.next_after, prev_before=page.prev_before)


@router.get("/stock.csv")
def stock_csv(q: str = "", db: Database = Depends(get_db)):
    """The inventory page as CSV (every matching SKU, not one page): streamed from the database into a
    temporary file, which is then sent a block at a time (a million SKUs are never all in memory)."""
    out = tempfile.TemporaryFile(prefix="stockgate-inventory-")
    try:
        with db.read() as conn:
            queries.write_stock_csv(conn, out, search=q.strip()[:100])
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return file_attachment(out, "text/csv; charset=utf-8", "inventory.csv")

