"""Bulk Upload History (`/history`): every file received, newest first, filtered by status, warehouse,
transport, FTP login, receipt dates and part of the name, a page at a time with a jump to any page, and
the filtered list as CSV (`/history.csv`, streamed)."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import StreamingResponse

from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.pipeline.history import STATUSES, TRANSPORTS, history_csv, history_filter, history_page
from gateway.web import queries
from gateway.web.deps import get_db, page_number, require_role, room_router
from gateway.web.downloads import disposition
from gateway.web.rooms.dashboard import files_rows
from gateway.web.templating import message, render

router = room_router(dependencies=[Depends(require_role("viewer"))])
PER_PAGE = 50
FIELDS = ("status", "warehouse", "transport", "account", "since", "until", "name")


def _asked(request: Request) -> dict[str, str]:
    """The filter fields as typed (shown back in the form and kept in every link), each cut to 200 characters."""
    return {field: request.query_params.get(field, "").strip()[:200] for field in FIELDS}


@router.get("/history")
def history(request: Request, page: int = Depends(page_number), db: Database = Depends(get_db)):
    asked = _asked(request)
    with db.read() as conn:
        codes = queries.warehouse_codes(conn)
        try:
            found = history_page(conn, history_filter(**asked), page=page, per_page=PER_PAGE)
        except (NotFoundError, UsageError) as exc:   # a bad filter, or a page past the last: say which
            return message(request, 400, "Upload history", str(exc))
    return render(request, "history/index.html", title="Bulk Upload History", active="/history", asked=asked,
                  params={k: v for k, v in asked.items() if v},
                  status_options=[(s, s.replace("_", " ")) for s in STATUSES],
                  transport_options=[(t, t) for t in TRANSPORTS], warehouse_options=[(w, w) for w in codes],
                  files_rows=files_rows(found["files"]), found=found)


@router.get("/history.csv")
def history_export(request: Request, db: Database = Depends(get_db)):
    """Every file the filters match (not one page), as CSV: UTF-8 with a BOM, spreadsheet-safe, streamed a
    thousand files at a time."""
    try:
        chunks = history_csv(db, history_filter(**_asked(request)))
    except (NotFoundError, UsageError) as exc:
        return message(request, 400, "Upload history", str(exc))
    return StreamingResponse((chunk.encode("utf-8") for chunk in chunks), headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": disposition("upload_history.csv")})
