"""`/api/v1/stock`: the inventory page as JSON (a search, 50 SKUs a page) and one SKU's levels."""

from __future__ import annotations

from fastapi import Depends, HTTPException, Query

from gateway.db.engine import Database
from gateway.stock import stock_view
from gateway.web import queries
from gateway.web.api.deps import api_router
from gateway.web.api.models import Problem, StockItem, StockPage
from gateway.web.deps import get_db

router = api_router("stock")


@router.get("/stock", response_model=StockPage)
def list_stock(q: str = Query("", max_length=100), page: int = Query(1, ge=1, le=1_000_000),
               db: Database = Depends(get_db)) -> dict:
    """SKUs (containing `q`, any case), on hand per warehouse and available, 50 a page."""
    with db.read() as conn:
        items, total = queries.stock_page(conn, search=q.strip(), page=page)
        codes = queries.warehouse_codes(conn)
    return {"items": items, "warehouses": codes, "total": total, "page": page,
            "has_more": page * queries.PER_PAGE < total}


@router.get("/stock/{sku:path}", response_model=StockItem, responses={404: {"model": Problem}})
def get_item(sku: str, db: Database = Depends(get_db)) -> dict:
    """One SKU (case-sensitive, as stored; it may hold `/`)."""
    with db.read() as conn:
        found = stock_view(conn, [sku])
    if not found:
        raise HTTPException(404, f"no SKU {sku!r}")
    return found[0]
