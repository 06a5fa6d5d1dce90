"""A file's report page (`/files/{file_id}`): its summary, its issues a page at a time, downloads (report
JSON, issues CSV, the original as stored), a dry-run preview of each SKU's level before and after, and
the operator's actions: Release and Reject a held file, Reprocess (each as `stockgate release|reject|
reprocess`, through `gateway.pipeline.actions`)."""

from __future__ import annotations

import re

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from gateway.core.files import FileStatus
from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.pipeline import actions, file_views
from gateway.pipeline.dry_run import preview_stored
from gateway.pipeline.report import Report, issues_csv, report_basename
from gateway.settings import Settings
from gateway.web.auth import role_allows
from gateway.web.deps import (
    User, checked_form, csrf_token, current_user, form_text, get_db, get_settings, page_number, require_role,
    room_router,
)
from gateway.web.downloads import attachment, file_attachment
from gateway.web.templating import file_url, message, number, render, when

router = room_router(dependencies=[Depends(require_role("viewer"))])
FILE_ID = re.compile(r"[0-9A-Za-z_.-]{1,40}")
UNFINISHED = (FileStatus.RECEIVED.value, FileStatus.PROCESSING.value)
ISSUES_PER_PAGE = 200


def _no_such_file(request: Request, file_id: str):
    return message(request, 404, "No such file", f"no file {file_id!r}: see the upload history")


def _facts(f: dict) -> list[tuple]:
    sender = f["account"] or f["source"] or ""
    facts = [("File", f["file_id"]), ("Name", f["name"]), ("Status", ("badge", f["status"])),
             ("Warehouse", f["warehouse"] or "- (Quantity Update)"), ("Kind / mode", f"{f['kind']} / {f['mode']}"),
             ("Received via", f"{f['transport']} {sender}".strip()), ("Received (UTC)", when(f["received_at"])),
             ("As of (UTC)", when(f["as_of"])), ("Finished (UTC)", when(f["finished_at"])),
             ("Size", f"{f['size']:,} bytes"), ("SHA-256", f["sha256"])]
    if f["sheet"]:
        facts.append(("Sheet", f["sheet"]))
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


def preview_context(preview, file_id: str | None) -> dict:
    """What `files/preview.html` shows of a dry run (a stored file's, or an upload's)."""
    d = preview.report.document
    facts = [("File", ("link", file_url(file_id), file_id) if file_id else "(a dry run: not received)"),
             ("Name", d["name"]), ("Warehouse", d["warehouse"] or "- (Quantity Update)"),
             ("Kind / mode", f"{d['kind']} / {d['mode']}"), ("Would end", ("badge", d["status"])),
             ("Rows", number(d["rows"]["total"])), ("Would apply", number(d["rows"]["applied"])),
             ("Errors", number(d["rows"]["errors"])),
             *[(k.capitalize(), number(d["changes"][k])) for k in ("increased", "decreased", "zeroed")]]
    changes = [[c.sku, c.warehouse, "-" if c.before is None else number(c.before), number(c.after),
                "-" if c.row is None else c.row] for c in preview.changes]
    issues = [[i["row"] if i["row"] is not None else "file", i["sku"], i["column"], i["value"],
               ("badge", i["severity"]), i["code"], i["message"]] for i in d["issues"][:ISSUES_PER_PAGE]]
    return {"preview": preview, "file_id": file_id, "preview_facts": facts, "change_rows": changes,
            "issue_rows": issues}


def may_act(request: Request) -> bool:
    """Whether the visitor may act (operator or admin): a viewer is shown no action button."""
    user = current_user(request)
    return user is not None and role_allows(user.role, "operator")


@router.get("/files/{file_id}")
def file_report(request: Request, file_id: str, page: int = Depends(page_number), db: Database = Depends(get_db)):
    if not FILE_ID.fullmatch(file_id):
        return _no_such_file(request, file_id)
    with db.read() as conn:
        try:
            f = file_views.file_detail(conn, file_id)
            issues = file_views.issues_page(conn, file_id, page=page, per_page=ISSUES_PER_PAGE)
        except NotFoundError:
            return _no_such_file(request, file_id)
        except UsageError as exc:   # a page of issues past the last
            return message(request, 400, "No such page", str(exc))
    waiting = f["status"] in UNFINISHED
    issue_rows = [[i["row"] if i["row"] is not None else "file", i["sku"], i["column"], i["value"],
                   ("badge", i["severity"]), i["code"], i["message"]] for i in issues["issues"]]
    acting = may_act(request)
    return render(request, "files/report.html", title=f"Report: {f['name']}", active="/history", f=f,
                  facts=_facts(f), counts=_counts(f), issue_rows=issue_rows, issues=issues, waiting=waiting,
                  acting=acting, csrf=csrf_token(request) if acting else None,
                  refresh_seconds=3 if waiting else None)


@router.get("/files/{file_id}/preview")
def file_preview(request: Request, file_id: str, db: Database = Depends(get_db),
                 settings: Settings = Depends(get_settings)):
    """What the file would change, nothing written: a received file as its turn would, a held one as
    releasing it would (`stockgate preview FILE_ID`)."""
    try:
        preview = preview_stored(db, settings, file_id)
    except NotFoundError:
        return _no_such_file(request, file_id)
    except UsageError as exc:
        return message(request, 409, "No preview", str(exc))
    acting = may_act(request)
    return render(request, "files/preview.html", title=f"Preview: {preview.report.document['name']}",
                  active="/history", acting=acting, csrf=csrf_token(request) if acting else None,
                  **preview_context(preview, file_id))


def _acted(request: Request, title: str, call, file_id: str):
    """Run an action; the file's page after it, or the refusal as a message (404 unknown, 409 refused)."""
    try:
        call()
    except NotFoundError as exc:
        return message(request, 404, title, str(exc))
    except UsageError as exc:
        return message(request, 409, title, str(exc))
    return RedirectResponse(file_url(file_id), status_code=303)


@router.post("/files/{file_id}/release")
def release(request: Request, file_id: str, db: Database = Depends(get_db), settings: Settings = Depends(get_settings),
            user: User = Depends(require_role("operator"))):
    """Apply a held file despite the snapshot guard (`stockgate release`)."""
    return _acted(request, "Cannot release", lambda: actions.release_file(db, settings, file_id,
                                                                           actor=f"web:{user.name}"), file_id)


@router.post("/files/{file_id}/reject")
def reject(request: Request, file_id: str, form: FormData = Depends(checked_form), db: Database = Depends(get_db),
           settings: Settings = Depends(get_settings), user: User = Depends(require_role("operator"))):
    """Reject a held file, with the reason typed (`stockgate reject --reason`)."""
    reason = form_text(form, "reason")
    return _acted(request, "Cannot reject", lambda: actions.reject_file(db, settings, file_id, actor=f"web:{user.name}",
                                                                         reason=reason), file_id)


@router.post("/files/{file_id}/reprocess")
def reprocess(request: Request, file_id: str, form: FormData = Depends(checked_form),
              db: Database = Depends(get_db), settings: Settings = Depends(get_settings),
              user: User = Depends(require_role("operator"))):
    """Put a stored file through the pipeline again as a new file (`stockgate reprocess`); show its page."""
    mode = form_text(form, "mode").strip() or None
    try:
        new_id = actions.reprocess_file(db, settings, file_id, actor=f"web:{user.name}", mode=mode,
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
        try:
            return file_views.report_document(conn, file_id), None
        except NotFoundError:
            return None, _no_such_file(request, file_id)
        except UsageError:
            return None, message(request, 409, "Not processed yet",
                                 f"file {file_id} has not been processed yet: its report comes when it has")


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


@router.get("/files/{file_id}/original")
def original(request: Request, file_id: str, db: Database = Depends(get_db)):
    """The file as it was received (spooled, then archived), under its sender's name."""
    with db.read() as conn:
        try:
            stored = file_views.stored_original(conn, file_id)
        except NotFoundError as exc:
            return message(request, 404, "No original", str(exc))
    return file_attachment(open(stored.path, "rb"), "application/octet-stream", stored.name)
