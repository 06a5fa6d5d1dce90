"""The file pipeline: a received file is claimed, parsed, applied in one transaction and reported.

    process_file(db, settings, file_id) -> Report      process one file now (CLI ingest)
    process_next(db, settings, worker_id=...) -> id     claim the oldest file that may go, process it
    release(db, settings, file_id) -> Report            apply a file held by the snapshot guard
    recover(db, settings) -> counts                     requeue abandoned claims, finish cut-short reports
    preview(db, settings, delivery, data) -> Report     a dry run: nothing written, nothing recorded
"""

from gateway.pipeline.claims import claim_next, preview, process_file, process_next, recover, release
from gateway.pipeline.report import Report, issues_csv, report_text, spreadsheet_safe, write_report_files

__all__ = ["Report", "claim_next", "issues_csv", "preview", "process_file", "process_next", "recover", "release",
           "report_text", "spreadsheet_safe", "write_report_files"]
