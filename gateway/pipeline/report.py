"""The per-file report: the JSON contract of DESIGN "Reports", its CSV of issues and a readable text form.

Reports are written next to each other as `<name>.<file_id>.report.json` and `.report.csv`, atomically
(a temporary name, then a rename), so a reader never sees half a report; `<name>` is shortened so every
such name fits the file system (`gateway.filenames`).
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.core.files import EXIT_CODES, FileStatus
from gateway.filenames import NAME_MAX, fit_name, name_limit
from gateway.spreadsheet_csv import SpreadsheetCsvWriter
from parsers.formula_cells import neutralised

REPORT_KEYS = ("file_id", "name", "warehouse", "kind", "mode", "transport", "sha256", "received_at", "as_of",
               "finished_at", "status", "rows", "changes", "issues", "duration_ms", "forced_from")
ISSUE_KEYS = ("row", "sku", "column", "value", "severity", "code", "message")
CSV_HEADER = ("row", "SKU", "column", "value", "severity", "code", "message")   # ISSUE_KEYS, as the CSV names them
BOM = "\ufeff"   # report CSVs written as files start with it, so a spreadsheet reads them as UTF-8
TEXT_ISSUE_LIMIT = 50


@dataclass(frozen=True)
class Report:
    """One file's report; `document` holds exactly the keys of the JSON contract."""

    document: dict[str, Any]

    @property
    def file_id(self) -> str | None:
        return self.document["file_id"]

    @property
    def status(self) -> str:
        return self.document["status"]

    @property
    def exit_code(self) -> int:
        """What `stockgate ingest` exits with for this report (DESIGN "Command line")."""
        return EXIT_CODES[FileStatus(self.status)]

    def to_json(self) -> str:
        """The report JSON document (keys in contract order)."""
        return json.dumps(self.document, ensure_ascii=False, indent=1)

    def to_csv(self, *, bom: bool = False) -> str:
        """The issues, one a row, spreadsheet-safe (`bom`: starting with a UTF-8 BOM, as report files do)."""
        return issues_csv(self.document["issues"], bom=bom)

    def to_text(self) -> str:
        """A readable summary for a terminal."""
        return report_text(self.document)


def empty_counts() -> tuple[dict[str, int], dict[str, int]]:
    """Zeroed `rows` and `changes` sections."""
    return ({"total": 0, "applied": 0, "unchanged": 0, "errors": 0, "warnings": 0},
            {"increased": 0, "decreased": 0, "zeroed": 0})


def make_report(**values: Any) -> Report:
    """A Report from exactly the contract's keys (a missing or extra key is a programming error)."""
    missing, extra = set(REPORT_KEYS) - set(values), set(values) - set(REPORT_KEYS)
    if missing or extra:
        raise ValueError(f"report keys: missing {sorted(missing)}, unexpected {sorted(extra)}")
    return Report({key: values[key] for key in REPORT_KEYS})


def spreadsheet_safe(value: Any) -> Any:
    """A text cell a spreadsheet would run, prefixed with `'` (`parsers.formula_cells`); numbers pass."""
    return neutralised(value) if isinstance(value, str) else value


def issues_csv(issues: list[dict[str, Any]], *, bom: bool = False) -> str:
    """CSV text of the issues (header row, then one row per issue), every dangerous text cell neutralised
    and quoted (`gateway.spreadsheet_csv`); `bom`: with a UTF-8 BOM first (reports stored before issues
    named their SKU have an empty SKU column)."""
    out = io.StringIO()
    if bom:
        out.write(BOM)
    writer = SpreadsheetCsvWriter(out)
    writer.writerow(CSV_HEADER)
    for issue in issues:
        writer.writerow([issue.get(k) for k in ISSUE_KEYS])
    return out.getvalue()


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def report_text(document: dict[str, Any]) -> str:
    """A few lines a person reads: what the file was, what happened, and its first issues."""
    d = document
    rows, changes = d["rows"], d["changes"]
    where = f"warehouse {d['warehouse']}" if d["warehouse"] else "Quantity Update"
    lines = [
        f"file {d['file_id'] or '(dry run)'}  {d['name']}",
        f"  {where}, {d['kind']}, mode {d['mode']}, via {d['transport']}, as of {d['as_of']}",
        f"status: {d['status']}",
        *([f"processed again on request: a re-run of file {d['forced_from']} (the duplicate rule was bypassed)"]
          if d.get("forced_from") else []),
        f"rows: {rows['total']:,} total, {rows['applied']:,} applied, {rows['unchanged']:,} unchanged, "
        f"{_plural(rows['errors'], 'error')}, {_plural(rows['warnings'], 'warning')}",
        f"changes: {changes['increased']:,} increased, {changes['decreased']:,} decreased, "
        f"{changes['zeroed']:,} zeroed",
    ]
    issues = d["issues"]
    if issues:
        lines.append("issues:")
        for issue in issues[:TEXT_ISSUE_LIMIT]:
            place = "file" if issue["row"] is None else f"row {issue['row']}"
            if issue.get("sku"):
                place = f"SKU {issue['sku']}" if issue["row"] is None else f"{place}, SKU {issue['sku']}"
            if issue["column"]:
                place += f", column {issue['column']}"
            lines.append(f"  {place}: {issue['severity']} {issue['code']}: {issue['message']}")
        if len(issues) > TEXT_ISSUE_LIMIT:
            more = len(issues) - TEXT_ISSUE_LIMIT
            lines.append(f"  ... and {more:,} more (stockgate report {d['file_id']} --format csv)")
    return "\n".join(lines) + "\n"


def report_basename(name: str, file_id: str, *, limit: int = NAME_MAX) -> str:
    """`<name>.<file_id>.report`: the sender's own file name, reduced to a safe single path part and
    shortened (by bytes, its extension and the file id kept) so that `.json`/`.csv` and the temporary
    name `.<...>.tmp` still fit in `limit` bytes."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c if c.isprintable() and c not in '<>:"|?*' else "_" for c in base).strip(". ") or "file"
    return fit_name(base, after=f".{file_id}.report", limit=limit - len(".json") - len("..tmp"))


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(fit_name(path.name, before=".", after=".tmp", limit=name_limit(path.parent)))
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def report_paths(folder: Path, name: str, file_id: str) -> tuple[Path, Path]:
    """Where the JSON and CSV report of a file go in `folder`."""
    base = report_basename(name, file_id, limit=name_limit(folder))
    return folder / f"{base}.json", folder / f"{base}.csv"


def write_report_files(report: Report, folder: Path) -> tuple[Path, Path]:
    """Write `<name>.<file_id>.report.json` and `.report.csv` into `folder`; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = report_paths(folder, report.document["name"], report.document["file_id"])
    _write_atomically(csv_path, report.to_csv(bom=True))
    _write_atomically(json_path, report.to_json() + "\n")
    return json_path, csv_path
