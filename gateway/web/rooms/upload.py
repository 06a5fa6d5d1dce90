"""Upload (`/upload`): a Quantity Update or one warehouse's stock file, with its mode, as-of time, XLSX
sheet and whether to create unknown SKUs; received like any other transport (transport `web`) and
processed by the worker (the browser is taken to its report page), or with "dry run" planned and shown
with each SKU's level before and after, nothing received (`gateway.pipeline.uploads`)."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData, UploadFile

from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.pipeline.uploads import MODES, FileTooLargeError, upload as upload_file
from gateway.settings import Settings
from gateway.web import queries
from gateway.web.deps import (
    User, checked_form, csrf_token, form_text, get_db, get_settings, require_role, room_router,
)
from gateway.web.rooms.files import preview_context
from gateway.web.templating import file_url, render

router = room_router(dependencies=[Depends(require_role("viewer"))])
# Browsers escape these three in a multipart file name (WHATWG HTML, "multipart/form-data encoding")
BROWSER_ESCAPES = (("%0D", "\r"), ("%0A", "\n"), ("%22", '"'))
FIELDS = ("warehouse", "mode", "as_of", "sheet", "create_unknown_skus", "dry_run")


def _form_page(request: Request, db: Database, settings: Settings, form: FormData | None = None, *,
               status: int = 200, error: str | None = None):
    with db.read() as conn:
        codes = queries.warehouse_codes(conn)
    chosen = {name: form_text(form, name) if form else "" for name in FIELDS}
    chosen["mode"] = chosen["mode"] or "partial"
    return render(request, "upload/form.html", status_code=status, title="Upload a file", active="/upload",
                  csrf=csrf_token(request), max_mb=settings.files.max_file_mb, error=error,
                  warehouse_options=[(w, f"stock file of {w}") for w in codes], chosen=chosen)


def uploaded_name(filename: str) -> str:
    """The file's own name: the browser's escapes undone, a path (old Internet Explorer) cut to its last part."""
    for escaped, char in BROWSER_ESCAPES:
        filename = filename.replace(escaped, char)
    return filename.replace("\\", "/").rsplit("/", 1)[-1].strip()


@router.get("/upload")
def upload_form(request: Request, db: Database = Depends(get_db), settings: Settings = Depends(get_settings)):
    return _form_page(request, db, settings)


@router.post("/upload")
def upload(request: Request, form: FormData = Depends(checked_form), db: Database = Depends(get_db),
           settings: Settings = Depends(get_settings), user: User = Depends(require_role("operator"))):
    """Receive an uploaded file like any other transport (the worker processes it; its report page is
    shown), or with `dry_run` show what it would change."""
    uploaded = form.get("file")
    try:
        if not isinstance(uploaded, UploadFile) or not uploaded.filename:
            return _form_page(request, db, settings, form, status=400, error="Choose a file to upload.")
        warehouse = form_text(form, "warehouse")
        result = upload_file(db, settings, name=uploaded_name(uploaded.filename), data=uploaded.file,
                             actor=f"web:{user.name}", warehouse=warehouse,
                             mode=form_text(form, "mode", "partial") if warehouse.strip() else None,
                             as_of=form_text(form, "as_of"), sheet=form_text(form, "sheet"),
                             create_unknown_skus=form_text(form, "create_unknown_skus") == "1",
                             dry_run=form_text(form, "dry_run") == "1")
    except FileTooLargeError as exc:
        return _form_page(request, db, settings, form, status=413, error=f"{exc}.")
    except (NotFoundError, UsageError) as exc:
        return _form_page(request, db, settings, form, status=400, error=f"{exc}.")
    finally:
        if isinstance(uploaded, UploadFile):
            uploaded.file.close()
    if result.preview is not None:
        return render(request, "files/preview.html", title=f"Dry run: {result.preview.report.document['name']}",
                      active="/upload", acting=False, csrf=None, **preview_context(result.preview, None))
    on_received = request.app.state.on_received
    if on_received is not None:
        on_received(result.file_id)
    return RedirectResponse(file_url(result.file_id), status_code=303)


__all__ = ["MODES", "router", "uploaded_name"]
