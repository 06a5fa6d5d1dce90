"""The API's response models, shared by its rooms: what a file, a report and a stock item look like."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class Problem(BaseModel):
    """An error answer: `detail` says what was wrong."""

    detail: str


class RowCounts(BaseModel):
    total: int
    applied: int
    errors: int
    warnings: int


class FileSummary(BaseModel):
    """One received file, as a row of the upload history (`stockgate history --json`)."""

    file_id: str
    name: str
    transport: str
    account: str | None
    source: str | None
    warehouse: str | None
    kind: str
    mode: str
    status: str
    message: str | None
    received_at: str | None
    as_of: str | None
    finished_at: str | None
    size: int
    sha256: str
    rows: RowCounts


class FilePage(BaseModel):
    """One page of the upload history (`stockgate history --json`)."""

    files: list[FileSummary]
    total: int
    page: int
    per_page: int
    pages: int
    has_more: bool


class Issue(BaseModel):
    row: int | None
    sku: str | None
    column: str | None
    value: str | None
    severity: str
    code: str
    message: str


class Rerun(BaseModel):
    file_id: str
    status: str


class IssueCounts(BaseModel):
    error: int
    warning: int
    info: int


class FileActions(BaseModel):
    """What the file allows now (an operator's buttons): release and reject a held file, reprocess a finished
    or held one, preview one not applied yet."""

    release: bool
    reject: bool
    reprocess: bool
    preview: bool


class FileDetail(FileSummary):
    """A file with its first page of issues (`issue_count` counts them all; `.../issues` pages them), the
    files that re-ran it, its report (null until processed) and the actions it allows."""

    create_unknown_skus: bool
    sheet: str | None
    issues: list[Issue]
    issue_count: int
    issue_counts: IssueCounts
    forced_from: str | None
    reruns: list[Rerun]
    report: dict[str, Any] | None
    actions: FileActions


class IssuePage(BaseModel):
    """One page of a file's issues, in report order."""

    file_id: str
    issues: list[Issue]
    total: int
    page: int
    per_page: int
    pages: int
    severity: str | None


class SkuChange(BaseModel):
    """A level a dry run would move: `before` null where there is none yet; `row` null for a SKU a `full`
    snapshot zeroes (absent from it)."""

    sku: str
    warehouse: str
    before: int | None
    after: int
    row: int | None


class Preview(BaseModel):
    """A dry run (`stockgate preview FILE_ID --json`, `ingest --dry-run --changes --json`): the report
    processing would give and each SKU's level before and after, nothing written."""

    report: dict[str, Any]
    changes: list[SkuChange]
    total_changes: int
    shown_changes: int
    as_released: bool


class RejectRequest(BaseModel):
    """Why a held file is rejected (kept in its report, one line, at most 500 characters)."""

    reason: str | None = None


class ReprocessRequest(BaseModel):
    """How to read the stored file this time: another mode (stock files), creating unknown SKUs."""

    mode: Literal["partial", "full", "delta"] | None = None
    create_unknown_skus: bool = False


class Reprocessed(BaseModel):
    """The new file a reprocess received (processed in its turn by the worker)."""

    file_id: str
    forced_from: str
    status: str


class Uploaded(BaseModel):
    """An upload: the received file's id (processed in its turn), or with `dry_run` the preview (nothing
    received, `file_id` null)."""

    file_id: str | None
    status: str | None
    preview: Preview | None


class StockItem(BaseModel):
    """A SKU: on hand per warehouse (by priority) and available (`stockgate stock --json`)."""

    sku: str
    warehouses: dict[str, int]
    available: int
