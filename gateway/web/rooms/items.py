"""One item's page (`/item?sku=`): its levels per warehouse, available, its listings on every channel, its
ledger (paged, newest first; `/item/ledger.csv` streams all of it), and the two manual edits an operator
makes there: set a level (`stockgate set`) and adjust it with a note (`stockgate adjust`).

The SKU travels as a query or form field, never in the path, so any SKU (`/`, `?`, `#`, spaces) works.
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.datastructures import FormData

from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.stock import adjust_stock, set_stock
from gateway.stock.inventory import item_detail, iter_ledger_csv, ledger_page
from gateway.web.deps import checked_form, csrf_token, current_user, form_text, get_db, require_role, room_router
from gateway.web.rooms.actions import actor_of, can_act, quantity_field
from gateway.web.templating import message, render, url

router = room_router(dependencies=[Depends(require_role("viewer"))])
LEDGER_PER_PAGE = 50
DONE = {"set": "Quantity set: its ledger entry is the newest below.",
        "adjust": "Adjustment made: its ledger entry is the newest below.",
        "unchanged": "Nothing changed: the level already had that figure."}


def item_url(sku: str, **params) -> str:
    return url("/item", {"sku": sku, **params})


def _before(text: str) -> int | None:
    return int(text) if text.strip().isdigit() and len(text.strip()) < 19 else None


def _page(request: Request, db: Database, sku: str, *, before: str = "", done: str = "", error: str | None = None,
          status: int = 200, form: dict | None = None):
    try:
        with db.read() as conn:
            item = item_detail(conn, sku)
            entries, next_before = ledger_page(conn, sku, before=_before(before), limit=LEDGER_PER_PAGE)
    except NotFoundError as exc:
        return message(request, 404, "No such item", f"{exc}: see the inventory")
    user = current_user(request)
    return render(request, "stock/item.html", status_code=status, title=f"Item {item['sku']}", active="/stock",
                  item=item, entries=entries, next_before=next_before, first_page=_before(before) is None,
                  done=DONE.get(done), error=error, form=form or {}, can_act=can_act(user),
                  csrf=csrf_token(request) if can_act(user) else None, item_url=item_url)


@router.get("/item")
def item_page(request: Request, sku: str = "", before: str = "", done: str = "", db: Database = Depends(get_db)):
    if not sku.strip():
        return message(request, 400, "Which item?", "give the SKU of an item: /item?sku=A1 (see the inventory)")
    return _page(request, db, sku, before=before, done=done)


@router.get("/item/ledger.csv")
def item_ledger_csv(request: Request, sku: str = "", db: Database = Depends(get_db)):
    """The item's whole ledger, oldest first, read and sent a few thousand entries at a time."""
    try:
        with db.read() as conn:
            iter_ledger_csv(conn, sku)   # NotFoundError here for an unknown SKU, before any byte is sent
    except NotFoundError as exc:
        return message(request, 404, "No such item", str(exc))

    def body():
        yield "\ufeff".encode("utf-8")      # a BOM: spreadsheets then read the file as UTF-8
        with db.read() as conn:          # read as it is sent, after this route returned: its own transaction
            for chunk in iter_ledger_csv(conn, sku):
                yield chunk.encode("utf-8")

    name = "ledger-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in sku)[:80] + ".csv"
    return StreamingResponse(body(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _edit(request: Request, form: FormData, db: Database, kind: str):
    sku, warehouse, note = form_text(form, "sku"), form_text(form, "warehouse"), form_text(form, "note")
    amount_text = form_text(form, "quantity" if kind == "set" else "delta")
    user = current_user(request)
    try:
        amount = quantity_field(amount_text, signed=kind == "adjust", what="quantity" if kind == "set" else "delta")
        with db.write() as conn:
            change = set_stock if kind == "set" else adjust_stock
            entry = change(conn, sku, warehouse, amount, reference=f"web {kind} by {user.name}", note=note,
                           actor=actor_of(user))
    except NotFoundError as exc:
        return _page(request, db, sku, error=str(exc), status=404, form=dict(form))
    except UsageError as exc:
        return _page(request, db, sku, error=str(exc), status=400, form=dict(form))
    return RedirectResponse(item_url(sku.strip(), done=kind if entry is not None else "unchanged"), status_code=303)


@router.post("/item/set", dependencies=[Depends(require_role("operator"))])
def item_set(request: Request, form: FormData = Depends(checked_form), db: Database = Depends(get_db)):
    """Set one level to a figure (`stockgate set SKU WAREHOUSE QTY --note`)."""
    return _edit(request, form, db, "set")


@router.post("/item/adjust", dependencies=[Depends(require_role("operator"))])
def item_adjust(request: Request, form: FormData = Depends(checked_form), db: Database = Depends(get_db)):
    """Move one level by a signed delta (`stockgate adjust SKU WAREHOUSE DELTA --note`)."""
    return _edit(request, form, db, "adjust")
