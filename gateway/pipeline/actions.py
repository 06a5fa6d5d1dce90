"""What an operator does to a received file, from the CLI or the web page alike: release, reject and
reprocess, each written to the audit log with who asked (`cli:<os user>`, `web:<login>`).

One function per action, called by `stockgate release|reject|reprocess` and by the web page's buttons and
`/api/v1/files/{id}/...`, so every way in writes the same stock, ledger, report and audit entry.
"""

from __future__ import annotations

from gateway.accounts import audit
from gateway.db.engine import Database
from gateway.pipeline.claims import release
from gateway.pipeline.reject import reject
from gateway.pipeline.report import Report
from gateway.pipeline.rerun import receive_again
from gateway.settings import Settings


def _outcome(report: Report) -> dict:
    rows, changes = report.document["rows"], report.document["changes"]
    return {"status": report.status, "rows_applied": rows["applied"], "rows_errors": rows["errors"], **changes}


def release_file(db: Database, settings: Settings, file_id: str, *, actor: str) -> Report:
    """Apply a held file despite the snapshot guard (`claims.release`); audited as `file.release` with
    the outcome (a release the stale rule turns into `rejected` is recorded as such)."""
    report = release(db, settings, file_id)
    audit.record(db, actor=actor, action="file.release", target=file_id, detail=_outcome(report))
    return report


def reject_file(db: Database, settings: Settings, file_id: str, *, actor: str, reason: str | None = None) -> Report:
    """Reject a held file (`reject.reject`); audited as `file.reject` in the same transaction."""
    return reject(db, settings, file_id, actor=actor, reason=reason)


def reprocess_file(db: Database, settings: Settings, file_id: str, *, actor: str, mode: str | None = None,
                   create_unknown_skus: bool = False) -> str:
    """Receive a stored file again as a new file (`rerun.receive_again`), to be processed in its turn; the
    new file's id. Audited as `file.reprocess` naming the new file and what changes this time."""
    new_id = receive_again(db, settings, file_id, mode=mode, create_unknown_skus=create_unknown_skus)
    audit.record(db, actor=actor, action="file.reprocess", target=file_id,
                 detail={"new_file_id": new_id, "mode": mode, "create_unknown_skus": create_unknown_skus})
    return new_id
