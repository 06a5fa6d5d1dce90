"""`/api/v1/files`, `/api/v1/uploads`, `/api/v1/templates`: the upload history (filters, pages), one file
with its issues, report, original and preview, and the operator's actions on it, through the same service
functions as the CLI (`stockgate history|report|preview|release|reject|reprocess|template`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response, StreamingResponse

from gateway.core.files import FileStatus
from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.pipeline import actions, file_views
from gateway.pipeline.dry_run import preview_stored
from gateway.pipeline.history import history_csv, history_filter, history_page
from gateway.pipeline.uploads import FileTooLargeError, upload
from gateway.settings import Settings
from gateway.web.api.deps import api_router
from gateway.web.api.models import (
    FileDetail, FilePage, IssuePage, Preview, Problem, RejectRequest, Reprocessed, ReprocessRequest, Uploaded,
)
from gateway.web.deps import User, get_db, get_settings, require_role
from gateway.web.downloads import disposition, file_attachment
from gateway.web.template_file import template_response

router = api_router("files")
NOT_FOUND = {404: {"model": Problem, "description": "no such file"}}
REFUSED = {409: {"model": Problem, "description": "the file's state does not allow it"}}
BAD = {400: {"model": Problem, "description": "a bad filter, page or choice"}}
PER_PAGE = 50
Text = Annotated[str | None, Query(max_length=200)]
Transport = Literal["ftp", "sftp", "folder", "cli", "web"]   # history.TRANSPORTS


def _answer(call):
    """Run a service call; its errors as the API answers them (404 unknown, 409 refused in this state)."""
    try:
        return call()
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    except UsageError as exc:
        raise HTTPException(409, str(exc)) from exc


def _filters(status, warehouse, transport, account, since, until, name):
    try:
        return history_filter(status=status.value if status else None, warehouse=warehouse, transport=transport,
                              account=account, since=since, until=until, name=name)
    except UsageError as exc:
        raise HTTPException(400, str(exc)) from exc


@router.get("/files", response_model=FilePage, responses=BAD)
def list_files(status: FileStatus | None = None, warehouse: Annotated[str | None, Query(max_length=32)] = None,
               transport: Transport | None = None, account: Text = None,
               since: Text = None, until: Text = None, name: Text = None,
               page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
               per_page: Annotated[int, Query(ge=1, le=500)] = PER_PAGE, db: Database = Depends(get_db)) -> dict:
    """The upload history, newest first, a page at a time (`stockgate history --json`): by status, warehouse
    (its stock files and the Quantity Update files that changed it), transport, FTP login, receipt time
    (`since` inclusive, `until` exclusive; a date alone as `until` includes that day) and part of the name."""
    filters = _filters(status, warehouse, transport, account, since, until, name)
    with db.read() as conn:
        try:
            return history_page(conn, filters, page=page, per_page=per_page)
        except (NotFoundError, UsageError) as exc:
            raise HTTPException(400, str(exc)) from exc


@router.get("/files.csv", response_class=StreamingResponse, responses={**BAD, 200: {"content": {"text/csv": {}}}})
def export_files(status: FileStatus | None = None, warehouse: Annotated[str | None, Query(max_length=32)] = None,
                 transport: Transport | None = None, account: Text = None,
                 since: Text = None, until: Text = None, name: Text = None, db: Database = Depends(get_db)):
    """Every file matching the filters as CSV (UTF-8 with a BOM, spreadsheet-safe), streamed."""
    filters = _filters(status, warehouse, transport, account, since, until, name)
    try:
        chunks = history_csv(db, filters)
    except NotFoundError as exc:
        raise HTTPException(400, str(exc)) from exc
    return StreamingResponse((c.encode("utf-8") for c in chunks), headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": disposition("upload_history.csv")})


@router.get("/files/{file_id}", response_model=FileDetail, responses=NOT_FOUND)
def get_file(file_id: str, db: Database = Depends(get_db)) -> dict:
    """One file: what it was, its status and counts, its first 200 issues, its report (null until processed)
    and the actions it allows now."""
    with db.read() as conn:
        detail = _answer(lambda: file_views.file_detail(conn, file_id))
        detail["issues"] = file_views.issues_page(conn, file_id)["issues"]
    return detail


@router.get("/files/{file_id}/issues", response_model=IssuePage, responses={**NOT_FOUND, **BAD})
def get_issues(file_id: str, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
               per_page: Annotated[int, Query(ge=1, le=1000)] = file_views.ISSUES_PER_PAGE,
               severity: Literal["error", "warning", "info"] | None = None,
               db: Database = Depends(get_db)) -> dict:
    """The file's issues a page at a time, in report order (`severity`: only those)."""
    with db.read() as conn:
        try:
            return file_views.issues_page(conn, file_id, page=page, per_page=per_page, severity=severity)
        except NotFoundError as exc:
            raise HTTPException(404, str(exc)) from exc
        except UsageError as exc:
            raise HTTPException(400, str(exc)) from exc


@router.get("/files/{file_id}/report", response_model=dict[str, Any], responses={**NOT_FOUND, **REFUSED})
def get_report(file_id: str, db: Database = Depends(get_db)) -> dict:
    """The file's report document (`stockgate report FILE_ID --format json`), once it has been processed."""
    with db.read() as conn:
        return _answer(lambda: file_views.report_document(conn, file_id))


@router.get("/files/{file_id}/original", response_class=StreamingResponse,
            responses={**NOT_FOUND, 200: {"content": {"application/octet-stream": {}}}})
def get_original(file_id: str, db: Database = Depends(get_db)):
    """The file's bytes as they were received, under the name its sender gave it."""
    with db.read() as conn:
        stored = _answer(lambda: file_views.stored_original(conn, file_id))
    return file_attachment(open(stored.path, "rb"), "application/octet-stream", stored.name)


@router.get("/files/{file_id}/preview", response_model=Preview, responses={**NOT_FOUND, **REFUSED})
def get_preview(file_id: str, limit: Annotated[int, Query(ge=1, le=100_000)] = 1000, db: Database = Depends(get_db),
                settings: Settings = Depends(get_settings)) -> dict:
    """What a received file would change, or a held one if released: each SKU's level before and after,
    nothing written (`stockgate preview FILE_ID --json`)."""
    return _answer(lambda: preview_stored(db, settings, file_id, limit=limit)).as_dict()


def _actor(user: User) -> str:
    return f"web:{user.name}"


@router.post("/files/{file_id}/release", response_model=dict[str, Any],
             responses={**NOT_FOUND, **REFUSED})
def release_file(file_id: str, db: Database = Depends(get_db), settings: Settings = Depends(get_settings),
                 user: User = Depends(require_role("operator"))) -> dict:
    """Apply a held file despite the snapshot guard (`stockgate release`); its new report."""
    return _answer(lambda: actions.release_file(db, settings, file_id, actor=_actor(user))).document


@router.post("/files/{file_id}/reject", response_model=dict[str, Any],
             responses={**NOT_FOUND, **REFUSED, **BAD})
def reject_file(file_id: str, body: RejectRequest | None = None, db: Database = Depends(get_db),
                settings: Settings = Depends(get_settings), user: User = Depends(require_role("operator"))) -> dict:
    """Reject a held file: nothing applied, its report says who and why (`stockgate reject`); the new report."""
    reason = body.reason if body else None
    if reason is not None and len(reason) > 500:
        raise HTTPException(400, f"the reason is {len(reason):,} characters long; at most 500 are kept")
    return _answer(lambda: actions.reject_file(db, settings, file_id, actor=_actor(user), reason=reason)).document


@router.post("/files/{file_id}/reprocess", response_model=Reprocessed, status_code=202,
             responses={**NOT_FOUND, **REFUSED})
def reprocess_file(request: Request, file_id: str, body: ReprocessRequest | None = None,
                   db: Database = Depends(get_db), settings: Settings = Depends(get_settings),
                   user: User = Depends(require_role("operator"))) -> dict:
    """Receive the stored file again as a new file linked to this one (`stockgate reprocess`); the worker
    processes it in its turn: follow `/api/v1/files/{new id}`."""
    body = body or ReprocessRequest()
    new_id = _answer(lambda: actions.reprocess_file(db, settings, file_id, actor=_actor(user), mode=body.mode,
                                                    create_unknown_skus=body.create_unknown_skus))
    if request.app.state.on_received is not None:
        request.app.state.on_received(new_id)
    return {"file_id": new_id, "forced_from": file_id, "status": FileStatus.RECEIVED.value}


@router.post("/uploads", response_model=Uploaded, status_code=201,
             responses={**BAD, 413: {"model": Problem, "description": "over files.max_file_mb"}})
def upload_file(request: Request, file: UploadFile = File(...), warehouse: str = Form(""), mode: str = Form(""),
                as_of: str = Form(""), sheet: str = Form(""), create_unknown_skus: bool = Form(False),
                dry_run: bool = Form(False), db: Database = Depends(get_db),
                settings: Settings = Depends(get_settings), user: User = Depends(require_role("operator"))) -> dict:
    """Upload a file as multipart/form-data (field `file`), with the header `X-StockGate-Upload: 1`: a
    Quantity Update, or with `warehouse` that warehouse's stock file in `mode`; `as_of` (ISO), `sheet`
    (XLSX), `create_unknown_skus`. Received like any drop and processed in its turn; with `dry_run`,
    planned and answered with its preview, nothing received."""
    from gateway.web.rooms.upload import uploaded_name

    try:
        result = upload(db, settings, name=uploaded_name(file.filename or ""), data=file.file, actor=_actor(user),
                        warehouse=warehouse, mode=mode, as_of=as_of, sheet=sheet,
                        create_unknown_skus=create_unknown_skus, dry_run=dry_run)
    except FileTooLargeError as exc:
        raise HTTPException(413, str(exc)) from exc
    except (NotFoundError, UsageError) as exc:
        raise HTTPException(400, str(exc)) from exc
    finally:
        file.file.close()
    if result.file_id is not None and request.app.state.on_received is not None:
        request.app.state.on_received(result.file_id)
    return {"file_id": result.file_id, "status": FileStatus.RECEIVED.value if result.file_id else None,
            "preview": result.preview.as_dict() if result.preview else None}


@router.get("/templates", response_class=Response, responses={
    **BAD, 200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
def get_template(format: Literal["csv", "xlsx"] = "csv",
                 warehouse: Annotated[list[str] | None, Query(max_length=32)] = None, db: Database = Depends(get_db)):
    """The Quantity Update template with current figures (`stockgate template`): every warehouse, or the
    `warehouse` ones (repeat it) in that order."""
    try:
        return template_response(db, format, warehouse or None)
    except (NotFoundError, UsageError) as exc:
        raise HTTPException(400, str(exc)) from exc
