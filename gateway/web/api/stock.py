"""`/api/v1/stock`: the inventory as JSON (a search of SKU and title, keyset pages), one item with its
levels, listings and ledger, and the two manual edits (`stockgate set`, `stockgate adjust`, with a note).

A SKU is the rest of the path, so it may hold `/`; the routes that end in `/ledger`, `/set` and `/adjust`
are matched first.
"""

from __future__ import annotations

from fastapi import Depends, Query
from fastapi.responses import JSONResponse

from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.stock import adjust_stock, find_warehouse, set_stock
from gateway.stock.inventory import PAGE_LIMIT, item_detail, ledger_page, stock_page
from gateway.web.api.deps import api_router
from gateway.web.api.inventory_models import (AdjustBody, ItemDetail, LedgerPage, Refusal, SetBody,
                                              StockChangeResult, StockPage)
from gateway.web.deps import User, get_db, require_role
from gateway.web.rooms.actions import actor_of, refusal_status

router = api_router("stock")
REFUSED = {400: {"model": Refusal}, 404: {"model": Refusal}}


def refused(exc: Exception) -> JSONResponse:
    """A refused read or action as `{"detail": ...}` with its status (400, 404 or 409), and `"code"` when a
    listing rule refused (SIZE_MISMATCH, CHANNEL_ALREADY_LINKED)."""
    code = getattr(exc, "code", None)
    return JSONResponse({"detail": str(exc), **({"code": code} if code else {})}, status_code=refusal_status(exc))


@router.get("/stock", response_model=StockPage, responses=REFUSED)
def list_stock(q: str = Query("", max_length=100), after: str | None = Query(None, max_length=100),
               before: str | None = Query(None, max_length=100), limit: int = Query(50, ge=1, le=PAGE_LIMIT),
               db: Database = Depends(get_db)):
    """Items whose SKU or title holds `q` (any case), in SKU order, `limit` at a time after SKU `after`
    (the last page's `next_after`) or before SKU `before`."""
    try:
        with db.read() as conn:
            page = stock_page(conn, search=q, after=after, before=before, limit=limit)
    except UsageError as exc:
        return refused(exc)
    return {"items": page.items, "warehouses": page.warehouses, "next_after": page.next_after,
            "prev_before": page.prev_before}


@router.get("/stock/{sku:path}/ledger", response_model=LedgerPage, responses=REFUSED)
def get_ledger(sku: str, before: int | None = Query(None, ge=1, le=2**62), limit: int = Query(50, ge=1, le=PAGE_LIMIT),
               db: Database = Depends(get_db)):
    """The item's ledger, newest first, `limit` entries older than entry `before` (the last page's
    `next_before`). The whole ledger as CSV: `/item/ledger.csv?sku=`."""
    try:
        with db.read() as conn:
            entries, next_before = ledger_page(conn, sku, before=before, limit=limit)
    except (NotFoundError, UsageError) as exc:
        return refused(exc)
    return {"entries": entries, "next_before": next_before}


def _changed(db: Database, sku: str, warehouse: str, entry) -> dict:
    with db.read() as conn:
        item = item_detail(conn, sku)
        code = find_warehouse(conn, warehouse).code
    after = item["warehouses"].get(code, 0)
    before = entry.before if entry is not None else after
    return {"sku": item["sku"], "warehouse": code, "before": before, "after": after, "changed": entry is not None,
            "item": item}


@router.post("/stock/{sku:path}/set", response_model=StockChangeResult, responses=REFUSED)
def set_level(sku: str, body: SetBody, db: Database = Depends(get_db),
              user: User = Depends(require_role("operator"))):
    """Set one level to `quantity` (ledger cause `manual`, the note kept with the entry), as
    `stockgate set SKU WAREHOUSE QTY --note`. A SKU not yet known is created."""
    try:
        with db.write() as conn:
            entry = set_stock(conn, sku, body.warehouse, body.quantity, reference=f"web set by {user.name}",
                              note=body.note, actor=actor_of(user))
    except (NotFoundError, UsageError) as exc:
        return refused(exc)
    return _changed(db, sku.strip(), body.warehouse, entry)


@router.post("/stock/{sku:path}/adjust", response_model=StockChangeResult, responses=REFUSED)
def adjust_level(sku: str, body: AdjustBody, db: Database = Depends(get_db),
                 user: User = Depends(require_role("operator"))):
    """Move one level by `delta` (refused, nothing changed, below 0 or above the limit), as
    `stockgate adjust SKU WAREHOUSE DELTA --note`."""
    try:
        with db.write() as conn:
            entry = adjust_stock(conn, sku, body.warehouse, body.delta, reference=f"web adjust by {user.name}",
                                 note=body.note, actor=actor_of(user))
    except (NotFoundError, UsageError) as exc:
        return refused(exc)
    return _changed(db, sku.strip(), body.warehouse, entry)


@router.get("/stock/{sku:path}", response_model=ItemDetail, responses=REFUSED)
def get_item(sku: str, db: Database = Depends(get_db)):
    """One item (its SKU case-sensitive, as stored): levels, available, listings on every channel."""
    try:
        with db.read() as conn:
            return item_detail(conn, sku)
    except NotFoundError as exc:
        return refused(exc)
