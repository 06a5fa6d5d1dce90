"""Bulk Upload History (`/history`): every file received, newest first, filtered by status and warehouse."""

from __future__ import annotations

from fastapi import Depends, Request

from gateway.db.engine import Database
from gateway.errors import NotFoundError
from gateway.web import queries
from gateway.web.deps import get_db, page_number, require_role, room_router
from gateway.web.rooms.dashboard import STATUSES, files_rows
from gateway.web.templating import message, render

router = room_router(dependencies=[Depends(require_role("viewer"))])


@router.get("/history")
def history(request: Request, status: str = "", warehouse: str = "", page: int = Depends(page_number),
            db: Database = Depends(get_db)):
    status, warehouse = status.strip(), warehouse.strip()
    if status and status not in STATUSES:
        return message(request, 400, "Upload history", f"unknown status {status!r}: use one of " + ", ".join(STATUSES))
    with db.read() as conn:
        try:
            files, has_more = queries.history(conn, status=status or None, warehouse=warehouse or None, page=page)
        except NotFoundError as exc:   # a warehouse no code matches, in any case
            return message(request, 400, "Upload history", str(exc))
        codes = queries.warehouse_codes(conn)
    return render(request, "history/index.html", title="Bulk Upload History", active="/history", status=status,
                  warehouse=warehouse, status_options=[(s, s.replace("_", " ")) for s in STATUSES],
                  warehouse_options=[(w, w) for w in codes], files_rows=files_rows(files), page=page,
                  has_more=has_more)
