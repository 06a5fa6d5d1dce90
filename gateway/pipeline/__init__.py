"""The file pipeline: a received file is claimed, parsed, applied in one transaction and reported.

    process_in_turn(db, settings, file_id) -> Report    process a file after the files before it (CLI ingest)
    process_file(db, settings, file_id) -> Report      process one file now, if it is its turn
    process_next(db, settings, worker_id=...) -> id     claim the oldest file that may go, process it
    release(db, settings, file_id) -> Report            apply a file held by the snapshot guard
    receive_again(db, settings, file_id) -> new id      a stored file received again as a re-run (reprocess)
    recover(db, settings, stale_after=...) -> counts    requeue abandoned claims, finish cut-short reports
    reject(db, settings, file_id, actor=...) -> Report  reject a held file: nothing applied, who and why reported
    preview(db, settings, delivery, data) -> Report     a dry run: nothing written, nothing recorded
    preview_changes / preview_stored -> Preview         a dry run with each SKU's level before and after
"""

from gateway.pipeline.claims import (
    claim_next, local_worker_id, process_file, process_in_turn, process_next, release,
)
from gateway.pipeline.dry_run import Preview, SkuChange, preview, preview_changes, preview_stored
from gateway.pipeline.heartbeat import HEARTBEAT_SECONDS, STALE_AFTER
from gateway.pipeline.recovery import recover, requeue_abandoned
from gateway.pipeline.reject import reject
from gateway.pipeline.rerun import receive_again, reruns_of
from gateway.pipeline.report import Report, issues_csv, report_text, spreadsheet_safe, write_report_files

__all__ = ["HEARTBEAT_SECONDS", "STALE_AFTER", "Preview", "Report", "SkuChange", "claim_next", "issues_csv",
           "local_worker_id", "preview", "preview_changes", "preview_stored", "process_file", "process_in_turn",
           "process_next", "receive_again", "recover", "reject", "release", "report_text", "requeue_abandoned",
           "reruns_of", "spreadsheet_safe", "write_report_files"]
