"""Sources and FTP accounts (`/sources`): each SFTP and folder source with its schedule, last poll, last
success, failures, next poll and current error; each FTP account with its files, last upload and last
refused file (as `stockgate sources`). An operator presses **Poll now**: the source is polled at once
(`stockgate sources poll NAME`) and what it fetched is handed to the worker to be processed; a source
being polled elsewhere answers 409."""

from __future__ import annotations

from fastapi import Depends, Request
from starlette.datastructures import FormData

from gateway.db.engine import Database
from gateway.errors import NotFoundError, StockGateError
from gateway.transports.ftp.account_status import ftp_account_status
from gateway.transports.sources.pickup import PickupResult
from gateway.transports.sources.runner import (SourceBusyError, current_error, find_source, poll_source,
                                               source_status)
from gateway.web.deps import checked_form, csrf_token, current_user, get_db, require_role, room_router
from gateway.web.rooms.actions import can_act
from gateway.web.templating import render

router = room_router(dependencies=[Depends(require_role("viewer"))])


def poll_now(request: Request, name: str) -> PickupResult:
    """Poll source `name` now and hand each fetched file to the app's `on_received` (the worker), as
    `serve`'s runner does. NotFoundError for an unknown source, SourceBusyError while it is being polled;
    a failure to reach the source is recorded in its state and raised."""
    db, settings = request.app.state.db, request.app.state.settings
    find_source(settings, name)
    result = poll_source(db, settings, name)
    if request.app.state.on_received is not None:
        for fetched in result.fetched:
            request.app.state.on_received(fetched["file_id"])
    return result


def poll_status(exc: Exception) -> int:
    """404 unknown source, 409 being polled, 502 the source could not be reached or read."""
    return 404 if isinstance(exc, NotFoundError) else 409 if isinstance(exc, SourceBusyError) else 502


def _page(request: Request, db: Database, *, notice: str | None = None, error: str | None = None,
          status: int = 200):
    settings = request.app.state.settings
    user = current_user(request)
    sources = [{**row, "error": current_error(row)} for row in source_status(db, settings)]
    return render(request, "sources/index.html", status_code=status, title="Sources and FTP accounts",
                  active="/sources", sources=sources,
                  accounts=ftp_account_status(db, settings), can_act=can_act(user),
                  csrf=csrf_token(request) if can_act(user) else None, notice=notice, error=error)


@router.get("/sources")
def sources(request: Request, db: Database = Depends(get_db)):
    return _page(request, db)


@router.post("/sources/{name}/poll", dependencies=[Depends(require_role("operator"))])
def poll(request: Request, name: str, form: FormData = Depends(checked_form), db: Database = Depends(get_db)):
    """Poll now (`stockgate sources poll NAME`), then show the sources with what the poll did."""
    try:
        result = poll_now(request, name)
    except StockGateError as exc:
        return _page(request, db, error=f"{name}: poll failed: {exc}", status=poll_status(exc))
    parts = [f"fetched {f['name']} as file {f['file_id']}" for f in result.fetched]
    parts += [f"waiting {w} (still changing, or no marker yet)" for w in result.waiting]
    notice = f"{name}: polled: " + ("; ".join(parts) if parts else "nothing to fetch")
    if result.errors:
        return _page(request, db, notice=notice, error=f"{name}: " + "; ".join(result.errors), status=502)
    return _page(request, db, notice=notice)
