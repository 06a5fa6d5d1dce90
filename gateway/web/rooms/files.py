"""A file's report page (`/files/{file_id}`), its JSON and CSV downloads, and Reprocess (a post, as
`stockgate reprocess`)."""

from __future__ import annotations

import re

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from gateway.core.files import FileStatus
from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.pipeline.report import Report, issues_csv, report_basename
from gateway.pipeline.rerun import receive_again
from gateway.settings import Settings
from gateway.web import queries
from gateway.web.downloads import attachment
from gateway.web.deps import checked_form, csrf_token, form_text, get_db, get_settings, require_role, room_router
from gateway.web.templating import file_url, message, number, render, when

router = room_router(dependencies=[Depends(require_role("viewer"))])
FILE_ID = re.compile(r"[0-9A-Za-z_.-]{1,40}")
UNFINISHED = (FileStatus.RECEIVED.value, FileStatus.PROCESSING.value)


def _no_such_file(request: Request, file_id: str):
    return message(request, 404, "No such file", f"no file {file_id!r}: see the upload history")


def _facts(f: dict) -> list[tuple]:
    sender = f["account"] or f["source"] or ""
    facts = [("File", f["file_id"]), ("Name", f["name"]), ("Status", ("badge", f["status"])),
             ("Warehouse", f["warehouse"] or "- (Quantity Update)"), ("Kind / mode", f"{f['kind']} / {f['mode']}"),
             ("Received via", f"{f['transport']} {sender}".strip()), ("Received (UTC)", when(f["received_at"])),
             ("As of (UTC)", when(f["as_of"])), ("Finished (UTC)", when(f["finished_at"])),
             ("Size", f"{f['size']:,} bytes"), ("SHA-256", f["sha256"])]
    if f["message"]:
        facts.append(("Message", f["message"]))
    if f.get("forced_from"):
        facts.append(("Re-run of", ("link", file_url(f["forced_from"]), f["forced_from"])))
    if f.get("reruns"):
        facts.append(("Processed again as", ("links", [(file_url(r["file_id"]), r["file_id"], f" ({r['status']})")
                                                     for r in f["reruns"]])))
    return facts


def _counts(f: dict) -> list[tuple]:
    report = f["report"] or {}
    rows, changes = f["rows"], report.get("changes") or {}
    counts = [("Rows", number(rows["total"])), ("Applied", number(rows["applied"])),
              ("Unchanged", number((report.get("rows") or {}).get("unchanged", ""))),
              ("Errors", number(rows["errors"])), ("Warnings", number(rows["warnings"]))]
    return counts + [(k.capitalize(), number(changes.get(k, ""))) for k in ("increased", "decreased", "zeroed")]


@router.get("/files/{file_id}")
def file_report(request: Request, file_id: str, db: Database = Depends(get_db)):
    if not FILE_ID.fullmatch(file_id):
        return _no_such_file(request, file_id)
    with db.read() as conn:
        f = queries.file_detail(conn, file_id)
    if f is None:
        return _no_such_file(request, file_id)
    waiting = f["status"] in UNFINISHED
    issue_rows = [[i["row"] if i["row"] is not None else "file", i["sku"], i["column"], i["value"],
                   ("badge", i["severity"]), i["code"], i["message"]] for i in f["issues"]]
    return render(request, "files/report.html", title=f"Report: {f['name']}", active="/history", f=f,
                  facts=_facts(f), counts=_counts(f), issue_rows=issue_rows, waiting=waiting,
                  csrf=csrf_token(request), refresh_seconds=3 if waiting else None)


@router.post("/files/{file_id}/reprocess", dependencies=[Depends(require_role("operator"))])
def reprocess(request: Request, file_id: str, form: FormData = Depends(checked_form),
              db: Database = Depends(get_db), settings: Settings = Depends(get_settings)):
    """Put a stored file through the pipeline again as a new file (`stockgate reprocess`); show its page."""
    mode = form_text(form, "mode").strip() or None
    try:
        new_id = receive_again(db, settings, file_id, mode=mode,
                               create_unknown_skus=form_text(form, "create_unknown_skus") == "1")
    except NotFoundError as exc:
        return message(request, 404, "Cannot reprocess", str(exc))
    except UsageError as exc:
        return message(request, 409, "Cannot reprocess", str(exc))
    on_received = request.app.state.on_received
    if on_received is not None:
        on_received(new_id)
    return RedirectResponse(file_url(new_id), status_code=303)


def _report_or_error(request: Request, db: Database, file_id: str):
    with db.read() as conn:
        exists, document = queries.report_document(conn, file_id)
    if not exists:
        return None, _no_such_file(request, file_id)
    if document is None:
        return None, message(request, 409, "Not processed yet",
                             f"file {file_id} has not been processed yet: its report comes when it has")
    return document, None


@router.get("/files/{file_id}/report.json")
def report_json(request: Request, file_id: str, download: str = "", db: Database = Depends(get_db)):
    document, error = _report_or_error(request, db, file_id)
    if error:
        return error
    name = report_basename(document["name"], document["file_id"]) + ".json"
    # shown in the browser; `?download=1` (the page's download link) saves it
    return attachment(Report(document).to_json().encode("utf-8"), "application/json; charset=utf-8", name,
                      inline=download != "1")


@router.get("/files/{file_id}/report.csv")
def report_csv(request: Request, file_id: str, db: Database = Depends(get_db)):
    document, error = _report_or_error(request, db, file_id)
    if error:
        return error
    name = report_basename(document["name"], document["file_id"]) + ".csv"
    return attachment(issues_csv(document["issues"], bom=True).encode("utf-8"), "text/csv; charset=utf-8", name)
