"""`/api/v1/files`: the upload history, one file with its issues, and its report document (the same JSON
as `stockgate report FILE_ID --format json`)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, HTTPException, Query

from gateway.core.files import FileStatus
from gateway.db.engine import Database
from gateway.errors import NotFoundError
from gateway.web import queries
from gateway.web.api.deps import api_router
from gateway.web.api.models import FileDetail, FilePage, Problem
from gateway.web.deps import get_db

router = api_router("files")
NOT_FOUND = {404: {"model": Problem, "description": "no such file"}}


@router.get("/files", response_model=FilePage, responses={400: {"model": Problem}})
def list_files(status: FileStatus | None = None, warehouse: str | None = Query(None, max_length=32),
               page: int = Query(1, ge=1, le=1_000_000), db: Database = Depends(get_db)) -> dict:
    """The upload history, newest first, 50 a page; filtered by status and by warehouse (its stock files
    and the Quantity Update files that changed it)."""
    with db.read() as conn:
        try:
            files, has_more = queries.history(conn, status=status.value if status else None,
                                              warehouse=warehouse or None, page=page)
        except NotFoundError as exc:
            raise HTTPException(400, str(exc)) from exc
    return {"files": files, "page": page, "has_more": has_more}


@router.get("/files/{file_id}", response_model=FileDetail, responses=NOT_FOUND)
def get_file(file_id: str, db: Database = Depends(get_db)) -> dict:
    """One file: what it was, its status and counts, its first 1,000 issues and its report (null until
    processed)."""
    with db.read() as conn:
        detail = queries.file_detail(conn, file_id)
    if detail is None:
        raise HTTPException(404, f"no file {file_id!r}")
    return detail


@router.get("/files/{file_id}/report", response_model=dict[str, Any],
            responses={**NOT_FOUND, 409: {"model": Problem, "description": "not processed yet"}})
def get_report(file_id: str, db: Database = Depends(get_db)) -> dict:
    """The file's report document (DESIGN "Reports"), once it has been processed."""
    with db.read() as conn:
        exists, document = queries.report_document(conn, file_id)
    if not exists:
        raise HTTPException(404, f"no file {file_id!r}")
    if document is None:
        raise HTTPException(409, f"file {file_id} has not been processed yet")
    return document
