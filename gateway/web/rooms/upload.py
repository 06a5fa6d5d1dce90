"""Upload (`/upload`): a Quantity Update or one warehouse's stock file, received like any other transport
(transport `web`) and processed by the worker; the browser is taken to its report page."""

from __future__ import annotations

import secrets
import shutil

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData, UploadFile

from gateway.db.engine import Database
from gateway.intake import Delivery, receive_file
from gateway.intake.spool import spool_dir
from gateway.settings import Settings
from gateway.web import queries
from gateway.web.deps import (
    checked_form, csrf_token, form_text, get_db, get_settings, require_role, room_router,
)
from gateway.web.templating import file_url, render

router = room_router(dependencies=[Depends(require_role("viewer"))])
MODES = ("partial", "full", "delta")
# Browsers escape these three in a multipart file name (WHATWG HTML, "multipart/form-data encoding")
BROWSER_ESCAPES = (("%0D", "\r"), ("%0A", "\n"), ("%22", '"'))


def _form_page(request: Request, db: Database, settings: Settings, form: FormData | None = None, *,
               status: int = 200, error: str | None = None):
    with db.read() as conn:
        codes = queries.warehouse_codes(conn)
    return render(request, "upload/form.html", status_code=status, title="Upload a file", active="/upload",
                  csrf=csrf_token(request), max_mb=settings.files.max_file_mb, error=error,
                  warehouse_options=[(w, f"stock file of {w}") for w in codes],
                  warehouse=form_text(form, "warehouse") if form else "",
                  mode=form_text(form, "mode", "partial") if form else "partial")


def uploaded_name(filename: str) -> str:
    """The file's own name: the browser's escapes undone, a path (old Internet Explorer) cut to its last part."""
    for escaped, char in BROWSER_ESCAPES:
        filename = filename.replace(escaped, char)
    return filename.replace("\\", "/").rsplit("/", 1)[-1].strip()


@router.get("/upload")
def upload_form(request: Request, db: Database = Depends(get_db), settings: Settings = Depends(get_settings)):
    return _form_page(request, db, settings)


@router.post("/upload", dependencies=[Depends(require_role("operator"))])
def upload(request: Request, form: FormData = Depends(checked_form), db: Database = Depends(get_db),
           settings: Settings = Depends(get_settings)):
    """Receive an uploaded file like any other transport; the worker processes it; show its report page."""
    uploaded = form.get("file")
    try:
        if not isinstance(uploaded, UploadFile) or not uploaded.filename:
            return _form_page(request, db, settings, form, status=400, error="Choose a file to upload.")
        name, size, limit = uploaded_name(uploaded.filename), uploaded.size or 0, settings.files.max_file_mb
        if size > limit * 1024 * 1024:
            return _form_page(request, db, settings, form, status=413,
                              error=f"{name}: {size:,} bytes is over the limit of {limit:,} MB.")
        warehouse, mode = form_text(form, "warehouse").strip(), form_text(form, "mode", "partial").strip()
        with db.read() as conn:
            codes = queries.warehouse_codes(conn)
        warehouse = next((code for code in codes if code.casefold() == warehouse.casefold()), warehouse)
        if warehouse and warehouse not in codes:
            return _form_page(request, db, settings, form, status=400,
                              error=f"unknown warehouse {warehouse!r} (known: {', '.join(codes)})")
        if mode not in MODES:
            return _form_page(request, db, settings, form, status=400,
                              error=f"mode {mode!r} is not one of {', '.join(MODES)}")
        delivery = Delivery(name=name, transport="web", warehouse=warehouse or None,
                            mode=mode if warehouse else "absolute",
                            options={"create_unknown_skus": form_text(form, "create_unknown_skus") == "1"})
        file_id = _receive(db, settings, delivery, uploaded)
    finally:
        if isinstance(uploaded, UploadFile):
            uploaded.file.close()
    on_received = request.app.state.on_received
    if on_received is not None:
        on_received(file_id)
    return RedirectResponse(file_url(file_id), status_code=303)


def _receive(db: Database, settings: Settings, delivery: Delivery, uploaded: UploadFile) -> str:
    """Copy the spooled upload next to the spool, then receive it (moved in once its row is committed)."""
    folder = spool_dir(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f".incoming-{secrets.token_hex(6)}"
    try:
        uploaded.file.seek(0)
        with open(staged, "wb") as out:
            shutil.copyfileobj(uploaded.file, out, 1024 * 1024)
        return receive_file(db, settings.data_dir, delivery, staged, move=True)
    finally:
        staged.unlink(missing_ok=True)
