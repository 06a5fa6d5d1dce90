"""Templates (`/templates`): the Quantity Update template with current figures as CSV or XLSX, with every
warehouse's column or the ones chosen (`/template.csv|xlsx?warehouse=EAST`), as `stockgate template`."""

from __future__ import annotations

from fastapi import Depends, Query, Request

from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.web import queries
from gateway.web.deps import get_db, require_role, room_router
from gateway.web.template_file import template_response
from gateway.web.templating import message, render

router = room_router(dependencies=[Depends(require_role("viewer"))])


@router.get("/templates")
def templates(request: Request, db: Database = Depends(get_db)):
    with db.read() as conn:
        codes = queries.warehouse_codes(conn)
    return render(request, "templates/index.html", title="Templates", active="/templates", codes=codes)


@router.get("/template.{fmt}")
def template(request: Request, fmt: str, warehouse: list[str] = Query(default=[], max_length=32),
             db: Database = Depends(get_db)):
    """The template file; `warehouse` (repeated) picks its warehouse columns, in that order."""
    try:
        return template_response(db, fmt, warehouse[:100])
    except NotFoundError as exc:
        return message(request, 400, "Template", str(exc))
    except UsageError as exc:
        return message(request, 404, "Not found", f"{exc}: use template.csv or template.xlsx")
