"""`/api/v1/sources`: every SFTP and folder source's last poll, success and error and every FTP account's
last upload (`stockgate sources --json`), and Poll now (`stockgate sources poll NAME --json`), whose fetched
files are handed to the worker to be processed."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from gateway.db.engine import Database
from gateway.errors import StockGateError
from gateway.settings import Settings
from gateway.transports.ftp.account_status import ftp_account_status
from gateway.transports.sources.runner import source_status
from gateway.web.api.deps import api_router
from gateway.web.api.inventory_models import Refusal
from gateway.web.deps import get_db, get_settings, require_role
from gateway.web.rooms.sources import poll_now, poll_status

router = api_router("sources")


class SourceState(BaseModel):
    name: str
    type: str
    warehouse: str
    where: str
    schedule: str
    last_poll_at: str | None
    last_success_at: str | None
    last_error_at: str | None
    last_error: str | None
    failures: int
    next_poll_at: str | None


class AccountFile(BaseModel):
    file_id: str
    name: str
    received_at: str | None
    status: str
    message: str | None


class FtpAccount(BaseModel):
    username: str
    warehouses: list[str]
    mode: str
    create_unknown_skus: bool
    files: int
    last_upload: AccountFile | None
    last_refused: AccountFile | None


class SourcesDocument(BaseModel):
    sources: list[SourceState]
    ftp_accounts: list[FtpAccount]


class Fetched(BaseModel):
    name: str
    file_id: str
    size: int
    after: str


class PollResult(BaseModel):
    """What one poll did: files fetched (now queued for processing), files not ready yet, files that failed."""

    source: str
    fetched: list[Fetched]
    waiting: list[str]
    errors: list[str]


@router.get("/sources", response_model=SourcesDocument)
def list_sources(db: Database = Depends(get_db), settings: Settings = Depends(get_settings)):
    """Each source's schedule, last poll, last success, last error, failures and next poll; each FTP
    account's file count, last upload and last refused file."""
    return {"sources": source_status(db, settings), "ftp_accounts": ftp_account_status(db, settings)}


@router.post("/sources/{name}/poll", response_model=PollResult,
             responses={404: {"model": Refusal}, 409: {"model": Refusal}, 502: {"model": Refusal}},
             dependencies=[Depends(require_role("operator"))])
def poll(request: Request, name: str):
    """Poll the source now (operator): 404 unknown, 409 while it is being polled (by `serve` or the CLI),
    502 when it cannot be reached (recorded as its last error)."""
    try:
        result = poll_now(request, name)
    except StockGateError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=poll_status(exc))
    return {"source": name, **result.as_dict()}
