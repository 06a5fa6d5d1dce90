"""The dashboard (`/`): counts of files by status, SKUs, listings and orders, and the latest files."""

from __future__ import annotations

from fastapi import Depends, Request

from gateway.core.files import FileStatus
from gateway.db.engine import Database
from gateway.web import queries
from gateway.web.deps import get_db, require_role, room_router
from gateway.web.templating import file_url, render

router = room_router(dependencies=[Depends(require_role("viewer"))])
STATUSES = tuple(s.value for s in FileStatus)


def files_rows(files: list[dict]) -> list[list]:
    """The cells of the files table the dashboard and the history share."""
    return [[("link", file_url(f["file_id"]), f["file_id"]), (f["received_at"] or "")[:19].replace("T", " "),
             f["name"], f["warehouse"] or "-", f["kind"].replace("_", " "), f["transport"], ("badge", f["status"]),
             *[f"{f['rows'][k]:,}" for k in ("total", "applied", "errors", "warnings")]] for f in files]


@router.get("/")
def dashboard(request: Request, db: Database = Depends(get_db)):
    with db.read() as conn:
        summary = queries.dashboard(conn)
    tiles = [("Files received", summary["files"], "/history"), ("SKUs", summary["items"], "/stock"),
             ("Warehouses", summary["warehouses"], "/stock"), ("Active listings", summary["listings"], "/listings"),
             ("Unlinked listings", summary["unlinked_listings"], "/listings"), ("Orders", summary["orders"], "/orders"),
             ("Quantities waiting to be pushed", summary["pending_pushes"], "/listings")]
    by_status = summary["files_by_status"]
    statuses = [(s, by_status[s]) for s in STATUSES if by_status.get(s)]
    return render(request, "dashboard/index.html", title="Dashboard", active="/", tiles=tiles, statuses=statuses,
                  files_rows=files_rows(summary["latest"]))
