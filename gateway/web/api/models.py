"""The API's response models, shared by its rooms: what a file, a report and a stock item look like."""

from __future__ import annotations

from typing import Any

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
    files: list[FileSummary]
    page: int
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


class FileDetail(FileSummary):
    """A file with its first issues (`issue_count` counts them all) and the files that re-ran it."""

    issues: list[Issue]
    issue_count: int
    forced_from: str | None
    reruns: list[Rerun]
    report: dict[str, Any] | None


class StockItem(BaseModel):
    """A SKU: on hand per warehouse (by priority) and available (`stockgate stock --json`)."""

    sku: str
    warehouses: dict[str, int]
    available: int


class StockPage(BaseModel):
    items: list[StockItem]
    warehouses: list[str]
    total: int
    page: int
    has_more: bool
