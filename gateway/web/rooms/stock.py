"""Inventory (`/stock`): SKU, on hand per warehouse and available, a search, the CSV export of every
matching SKU (`/stock.csv`)."""

from __future__ import annotations

import tempfile

from fastapi import Depends, Request

from gateway.db.engine import Database
from gateway.web import queries
from gateway.web.deps import get_db, page_number, require_role, room_router
from gateway.web.downloads import file_attachment
from gateway.web.templating import number, render

router = room_router(dependencies=[Depends(require_role("viewer"))])


@router.get("/stock")
def stock(request: Request, q: str = "", page: int = Depends(page_number), db: Database = Depends(get_db)):
    search, per_page = q.strip()[:100], queries.PER_PAGE
    with db.read() as conn:
        items, total = queries.stock_page(conn, search=search, page=page)
        codes = queries.warehouse_codes(conn)
    rows = [[item["sku"], *[number(item["warehouses"].get(code, "")) for code in codes], number(item["available"])]
            for item in items]
    first = (page - 1) * per_page + 1 if items else 0
    return render(request, "stock/index.html", title="Inventory", active="/stock", search=search, codes=codes,
                  rows=rows, numeric=tuple(range(1, len(codes) + 2)), first=first,
                  last=first + len(items) - 1 if items else 0, total=total, page=page,
                  has_more=page * per_page < total)


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

